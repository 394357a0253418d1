"""The published contract cannot drift: `docs/openapi/*.json` are exactly what the two apps
generate (regenerate them with `make openapi` when an API changes, and review the diff), and
each is a valid OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from intake_api.app import create_app as create_intake
from routing_api.app import create_app as create_routing
from shared.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "openapi"
APPS = {"intake": create_intake, "routing": create_routing}


def generated() -> dict[str, str]:
    """Each app's OpenAPI document as committed: indented JSON, Chinese as written."""
    settings = Settings(_env_file=None)
    return {
        name: json.dumps(factory(settings).openapi(), ensure_ascii=False, indent=2) + "\n"
        for name, factory in APPS.items()
    }


def write() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, text in generated().items():
        (DOCS / f"{name}.json").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("name", sorted(APPS))
def test_the_committed_contract_is_what_the_app_serves(name: str) -> None:
    committed = (DOCS / f"{name}.json").read_text(encoding="utf-8")
    assert committed == generated()[name], "run `make openapi` and commit docs/openapi/"
    document: dict[str, Any] = json.loads(committed)
    validate(document)


def test_every_operation_documents_its_errors_as_problems() -> None:
    """What a client is told to expect on an error is what it gets: problem+json, one schema."""
    for name, text in generated().items():
        document = json.loads(text)
        assert "HTTPValidationError" not in text, name
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
                assert {"401", "403", "422", "503"} <= errors.keys(), (name, method, path)
                for response in errors.values():
                    assert response["content"] == {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    }, (name, method, path)
