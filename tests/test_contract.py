"""The published contract cannot drift: `docs/openapi/*.json` are exactly what the two apps
generate (regenerate them with `make openapi` when an API changes, and review the diff), and
each is a valid OpenAPI document."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from intake_api.app import create_app as create_intake
from routing_api.app import create_app as create_routing
from services.authz import ROLES, May
from shared.enums import Role
from shared.settings import Settings
from tests.conformance import Conformance
from web.summaries import OPERATIONS

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


PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
KEYLESS_401 = {
    "/webhooks/hotline",
    "/webhooks/sms/replies",
    "/webhooks/sms/receipts",
    "/open311/v2/requests.{fmt}",
    "/open311/v2/requests/{request_id}.{fmt}",
}
"""Keyless operations that still answer 401: a bad webhook signature, a bad Open311 api_key."""


def operations() -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (name, method, path, operation)
        for name, text in generated().items()
        for path, ops in json.loads(text)["paths"].items()
        for method, operation in ops.items()
    ]


def test_every_operation_documents_its_errors_as_problems() -> None:
    """What a client is told to expect on an error is what it gets: problem+json, one schema
    (Open311's own error list on Open311, the readiness body on /readyz)."""
    assert all("HTTPValidationError" not in text for text in generated().values())
    for name, method, path, operation in operations():
        where = (name, method, path)
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert "503" in errors, where
        for status, response in errors.items():
            content = response["content"]
            if path.startswith("/open311/") and status in ("400", "401", "404"):
                schema = content["application/json"]["schema"]
                assert schema["items"] == {"$ref": "#/components/schemas/Open311Error"}, where
                assert "text/xml" in content, where
            elif path == "/readyz" and status == "503":
                assert content["application/json"]["schema"]["$ref"].endswith("/Readiness")
            else:
                assert content == PROBLEM, (*where, status)


def test_only_keyed_operations_promise_401_and_403() -> None:
    """A health check, the tracking look-up or Open311's public reads never answer 401/403, so
    their documents do not say they might; every keyed operation does."""
    for name, method, path, operation in operations():
        errors = {s for s in operation["responses"] if s[0] in "45"}
        if operation.get("security"):
            assert {"401", "403", "422"} <= errors, (name, method, path)
        else:
            assert "403" not in errors, (name, method, path)
            assert ("401" in errors) == (path in KEYLESS_401), (name, method, path)


def test_every_operation_types_its_success() -> None:
    """No success body is `{}`: a generated client gets a type for each."""
    for name, method, path, operation in operations():
        for status, response in operation["responses"].items():
            if status[0] != "2" or status == "204":
                continue
            for media, body in response["content"].items():
                assert body.get("schema"), (name, method, path, status, media)


def test_the_suites_checker_refuses_what_the_document_does_not_promise() -> None:
    """Every test's answers go through tests/conformance.py; it must fail on drift, not pass all."""
    checker = Conformance(create_intake(Settings(_env_file=None)))
    url = "http://intake/api/v1/cases/GZ-20261123-000001"

    def answer(status: int, body: Any, media: str = "application/json") -> httpx.Response:
        request = httpx.Request("GET", url)
        content = json.dumps(body).encode()
        return httpx.Response(
            status, content=content, headers={"content-type": media}, request=request
        )

    with pytest.raises(AssertionError, match="case_no"):
        checker.check(answer(200, {"status": "assigned"}))  # required members missing
    with pytest.raises(AssertionError, match="not documented"):
        checker.check(answer(418, {}))
    with pytest.raises(AssertionError, match="text/html"):
        checker.check(answer(200, {}, "text/html"))
    problem = {"type": "about:blank", "title": "Not found", "status": 404, "detail": "none"}
    checker.check(answer(404, problem, "application/problem+json"))


def test_every_operation_has_its_summary_and_every_body_an_example() -> None:
    """Summaries come from one table (`web/summaries.py`), in Chinese and English; the
    table names no operation that is gone; every request body shows an example."""
    ids = set()
    for name, method, path, operation in operations():
        ids.add(operation["operationId"])
        summary, who = OPERATIONS[operation["operationId"]]
        assert operation["summary"] == summary, (name, method, path)
        assert " · " in summary, summary  # 中文 · English
        assert who in operation["description"].split("\n\n")[0], (name, method, path)
        for media, body in operation.get("requestBody", {}).get("content", {}).items():
            schema = body["schema"]
            if "$ref" in schema:
                document = json.loads(generated()[name])
                schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
            assert "example" in body or "examples" in schema, (name, method, path, media)
    assert ids == set(OPERATIONS)


def test_who_may_call_each_operation_is_the_authz_table() -> None:
    """The committed documents name, for every operation a role check guards, exactly the roles
    services/authz.py gives its permission: read back from the text, not rebuilt the same way."""
    checked = 0
    for _, method, path, operation in operations():
        first = operation.get("description", "").split("\n\n")[0]
        if not first.startswith("May "):
            continue
        said, _, rest = first.partition(": ")
        permissions = _permissions(said.removeprefix("May "))
        named = set(re.findall(r"`([a-z_]+)`", rest.split(" key")[0]))
        if "the services' own" in rest.split(" key")[0]:
            named.add(Role.system.value)
        expected = {role.value for p in permissions for role in ROLES[p]}
        assert named == expected, (method, path)
        checked += 1
    settings = Settings(_env_file=None)
    guarded = sum(len(factory(settings).state.permissions) for factory in APPS.values())
    assert checked == guarded > 40


def _permissions(said: str) -> list[May]:
    """ "handle cases as a department or assign cases, transfer any case or decide extensions":
    permissions joined by " or ", which a permission's own words may hold too."""
    if not said:
        return []
    for permission in May:
        if said == permission.value:
            return [permission]
        if said.startswith(permission.value + " or "):
            rest = _permissions(said.removeprefix(permission.value + " or "))
            if rest:
                return [permission, *rest]
    return []


@pytest.mark.parametrize("name", sorted(APPS))
def test_every_success_shows_an_answer_the_schema_takes(name: str) -> None:
    """Swagger UI and ReDoc show each success with an answer the suite really received from
    the sample data (web/examples/, `make examples`), not one made up from the schema's types
    (`"string"`, `additionalProp1`); each still fits its schema as the document stands now."""
    from tests.examples_recorder import odd

    checker = Conformance(APPS[name](Settings(_env_file=None)))
    missing, wrong = [], []
    for path, ops in checker.document["paths"].items():
        for method, operation in ops.items():
            for status, response in operation["responses"].items():
                body = response.get("content", {}).get("application/json")
                if status[0] != "2" or body is None:
                    continue
                where = f"{method.upper()} {path} → {status}"
                if "example" not in body:
                    missing.append(where)
                    continue
                assert not odd(body["example"]), where
                wrong += [
                    f"{where}: {p}"
                    for p in checker.problems_of(path, method, status, body["example"])
                ]
    assert not missing, f"no example (record with `make examples`): {missing}"
    assert not wrong, f"examples that no longer fit (re-record with `make examples`): {wrong}"


def test_nullable_fields_are_one_optional_type() -> None:
    """`str | None` is documented as `type: [string, "null"]` (one optional string), not as
    two alternatives; only a reference, which cannot carry a type, stays `anyOf`."""
    for name, text in generated().items():
        document = json.loads(text)
        for model, schema in document["components"]["schemas"].items():
            for field, spec in schema.get("properties", {}).items():
                alternatives = spec.get("anyOf", [])
                if {"type": "null"} not in alternatives:
                    continue  # a union of two types (a version number or `draft`), not optional
                for alternative in alternatives:
                    if alternative != {"type": "null"}:
                        assert "$ref" in alternative or "anyOf" in alternative, (name, model, field)


def test_the_intake_page_says_where_keys_come_from() -> None:
    intake = json.loads(generated()["intake"])["info"]["description"]
    assert "routing API" in intake
    assert "8002" in intake
