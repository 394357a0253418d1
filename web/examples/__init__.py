"""The success examples the OpenAPI documents show, one per operation and status: answers the
test suite really received from the sample data (`make examples` records them,
tests/examples_recorder.py chooses), so Swagger UI and ReDoc show a case as it looks, not
`"string"` and `additionalProp1`. tests/test_contract.py checks each still fits its schema."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

JSON = "application/json"


@cache
def load(app: str) -> dict[str, dict[str, Any]]:
    """`{operationId: {status: body}}` for `app` (`intake`, `routing`); {} if none recorded."""
    found = resources.files(__name__) / f"{app}.json"
    if not found.is_file():
        return {}
    loaded: dict[str, dict[str, Any]] = json.loads(found.read_text(encoding="utf-8"))
    return loaded


def attach(document: dict[str, Any], recorded: dict[str, dict[str, Any]]) -> None:
    """Each JSON success answer in `document` gets its recorded example, where there is one."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            by_status = recorded.get(operation.get("operationId", ""), {})
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get(JSON)
                if media is not None and status in by_status:
                    media["example"] = by_status[status]
