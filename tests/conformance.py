"""Every answer the test suite receives is checked against the app's own OpenAPI document: a
documented status, a documented media type, and a body its schema accepts. So each of the
suite's few thousand requests is also a contract test, on the success paths a fuzzer seldom
reaches (a case signed, suspended, replied, rated) as much as on the errors."""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.examples_recorder import record

ROOT = "urn:openapi"


class Conformance:
    def __init__(self, app: Any) -> None:
        self.app = app

    @cached_property
    def document(self) -> dict[str, Any]:
        return self.app.openapi()  # type: ignore[no-any-return]

    @cached_property
    def registry(self) -> Registry[Any]:
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        return Registry().with_resource(ROOT, resource)  # type: ignore[no-any-return]

    @cached_property
    def templates(self) -> list[tuple[re.Pattern[str], str]]:
        """Paths as patterns, literal ones first (`/cards/score` before `/cards/{card_id}`)."""
        out = []
        for path in sorted(self.document["paths"], key=lambda p: (p.count("{"), p)):
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+?", re.escape(path))
            out.append((re.compile(f"^{pattern}$"), path))
        return out

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for pattern, template in self.templates:
            if pattern.match(path):
                found = self.document["paths"][template].get(method.lower())
                if found is not None:
                    return template, found
        return None

    def check(self, response: httpx.Response) -> None:
        request = response.request
        found = self.operation(request.method, request.url.path)
        if found is None:
            return  # no such route: the router's 404/405, not a documented operation
        template, operation = found
        where = f"{request.method} {template} → {response.status_code}"
        answers = operation["responses"]
        status = str(response.status_code)
        assert status in answers, f"{where}: status not documented ({sorted(answers)})"
        declared = answers[status].get("content")
        if not response.content:
            return
        assert declared, f"{where}: a body where the document promises none"
        media = response.headers.get("content-type", "").split(";")[0].strip()
        assert media in declared, f"{where}: {media} not among {sorted(declared)}"
        if not media.endswith("json"):
            return
        validator = self.validator(template, request.method.lower(), status, media)
        body = json.loads(response.content)
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, f"{where}: {errors[0].message} at {list(errors[0].absolute_path)}"
        if status.startswith("2"):
            record(self.app.state.app_name, operation["operationId"], status, body)

    def problems_of(self, template: str, method: str, status: str, body: Any) -> list[str]:
        """What is wrong with `body` as the documented answer (an example, say); [] if nothing."""
        validator = self.validator(template, method, status, "application/json")
        return [f"{e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(body)]

    def validator(
        self, template: str, method: str, status: str, media: str
    ) -> Draft202012Validator:
        """The schema the document gives this operation's answer, as a validator."""
        parts = ("paths", template, method, "responses", status, "content", media, "schema")
        pointer = "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)
        return Draft202012Validator({"$ref": f"{ROOT}#/{pointer}"}, registry=self.registry)

    async def hook(self, response: httpx.Response) -> None:
        await response.aread()
        self.check(response)
