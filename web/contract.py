"""What the OpenAPI documents say of errors: every operation answers its errors as
`application/problem+json` with one shared `Problem` schema (RFC 9457, `errors[]` naming the
fields of a validation failure), not FastAPI's `HTTPValidationError` in `application/json`,
which the service never sends."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from services.authz import ROLES, May
from shared.enums import Role
from web import examples
from web.auth import Allowed
from web.problems import PROBLEM
from web.schema_shape import one_type
from web.summaries import OPERATIONS


class FieldProblem(BaseModel):
    field: str = Field(description="the field, as `applicant.phone` or `items[2].code`")
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 describes it. A problem may carry more members (a conflict names
    the `allowed_actions`, a card conflict its `card_status`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="a URI naming the kind of problem, or about:blank")
    title: str
    status: int = Field(description="the HTTP status, always")
    detail: str
    errors: list[FieldProblem] | None = Field(
        default=None, description="a validation failure's fields, one entry each"
    )


ERRORS = {
    "400": "the body is not JSON, or not what this operation takes",
    "401": "no key, an unknown key or a revoked one",
    "403": "this key's role or department may not do this",
    "404": "no such resource, or none this key may see",
    "409": "the resource is not in a state that allows this",
    "413": "the body is larger than MAX_BODY_BYTES",
    "422": "a field is missing or invalid (`errors` names each)",
    "429": "too many attempts; `Retry-After` says when to try again",
    "500": "an unexpected failure: nothing was half-written; quote the X-Request-ID",
    "503": "a dependency is down or too slow; `Retry-After` says when to try again",
}


def problems(*statuses: str) -> dict[int | str, dict[str, Any]]:
    """The problem+json answers for these statuses, as an operation's `responses` lists them.

    A router for keyed callers takes them all (PROBLEM_RESPONSES, added when the app includes
    it). Any operation may fail unexpectedly, so each lists 500. A keyless router (health,
    tracking, the hotline's webhook, Open311) names its own, so its document does not promise
    a 401 or 403 it never sends; a route that declares a status itself keeps its own."""
    return {
        status: {
            "description": ERRORS[status],
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted({*statuses, "500"})
    }


PROBLEM_RESPONSES = problems(*ERRORS)


def who_may(permissions: tuple[May, ...]) -> str:
    """The sentence the OpenAPI document opens an operation's description with, written from
    services/authz.py: the permission and the roles that hold it."""
    roles = frozenset[Role]().union(*(ROLES[p] for p in permissions))
    names = [
        "the services' own" if role is Role.system else f"`{role.value}`"
        for role in Role
        if role in roles
    ]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    what = " or ".join(p.value for p in permissions)
    return f"May {what}: {listed} {'key' if len(names) == 1 else 'keys'}."


def permissions_of(routers: Sequence[APIRouter]) -> dict[str, tuple[May, ...]]:
    """Each operation's permissions, as its `allowed` dependency holds them."""

    def found(dependant: Dependant) -> Iterator[May]:
        if isinstance(dependant.call, Allowed):
            yield from dependant.call.permissions
        for sub in dependant.dependencies:
            yield from found(sub)

    return {
        route.name: tuple(found(route.dependant))
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and any(True for _ in found(route.dependant))
    }


def document(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Finish the app's OpenAPI document: `Problem` in the components (the default 422 schemas
    go, as nothing refers to them once every router was included with its problems), and each
    operation's bilingual summary, who may call it (from services/authz.py) and what more to
    know of it (`summaries.OPERATIONS`) before the route's own description."""
    generate = app.openapi
    permissions = permissions_of(routers)
    app.state.permissions = permissions

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem.pop("$defs", {}))
            schemas["Problem"] = problem
            for operations in schema["paths"].values():
                for operation in operations.values():
                    summary, note = OPERATIONS[operation["operationId"]]
                    needs = permissions.get(operation["operationId"])
                    who = " ".join(t for t in (who_may(needs) if needs else "", note) if t)
                    operation["summary"] = summary
                    told = operation.get("description")
                    operation["description"] = f"{who}\n\n{told}" if told else who
            for operations in schema.get("webhooks", {}).values():
                for operation in operations.values():
                    # What we expect of the receiver, not what we answer.
                    operation["responses"] = {
                        "2XX": {"description": "received; any other answer is retried"}
                    }
            examples.attach(schema, examples.load(app.state.app_name))
            app.openapi_schema = one_type(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


AUTH = """Every call but the health checks, the citizen's tracking look-up, the signed webhooks
(the hotline's orders, the SMS provider's pushes) and Open311's public reads carries an API
key: `Authorization: Bearer <key>`. Keys are issued by the security administrator, on the
routing API (`POST /api/v1/keys` on port 8002, not on the intake API's 8001) or with `gaodedim
keys create` at the servers' shell, for one role: portal, hotline,
window, department (bound to one department), coordinator, supervisor, dashboard or admin; the
auditor's and the security administrator's own keys only at the shell (三员分立). A key sees and
does what its role may (a department key: the cases its department leads, helps with or first
answered for).

Errors are `application/problem+json` (RFC 9457) with `errors[]` naming each invalid field.
Lists answer `{items, next_cursor, limit}`; hand `next_cursor` back as `cursor`, as it came.
A registration with an `Idempotency-Key` header is stored once however often it is sent."""

TAGS: dict[str, str] = {
    "cases": "诉求登记与查询 · registering complaints and reading cases (窗口、门户、热线)",
    "tracking": "市民查询 · a citizen looks a case up with its tracking code, no key",
    "hotline": "12345 热线派单 · orders pushed by the 12345 hotline, HMAC-signed",
    "audit": "审计日志 · the trail of who saw personal data, for the auditor",
    "notices": "通知模板 · the words of the notices sent to applicants, versioned",
    "sms": "短信回复与回执 · the SMS provider's pushes: applicants' replies, delivery receipts",
    "open311": "Open311 GeoReport v2 · for portals and apps that speak it",
    "keys": "API 密钥 · issuing, revoking and binding keys (the security administrator, 三员分立)",
    "departments": "部门 · the departments cases go to, and their webhooks",
    "rules": "分办规则 · the first-inquiry rule table: draft, publish, explain, simulate",
    "workflow": "部门办理 · signing, returning, transferring, suspending, replying, extensions",
    "calendar": "工作日历 · holidays and make-up working days deadlines count by",
    "duty": "值班 · each unit's duty roster and who is on duty now",
    "cards": "黄红牌 · yellow and red cards, appeals and rulings, department scores",
    "outbox": "消息投递 · webhooks and callbacks waiting, delivered or failed",
    "stats": "统计 · the dashboard's figures",
    "reports": "月度报告 · the monthly report for the government",
    "health": "运行状态 · liveness, readiness and Prometheus metrics",
}


def operation_id(route: APIRoute) -> str:
    """The route's function name (unique per app; tests/test_contract.py checks)."""
    return route.name


def tags_of(names: list[str]) -> list[dict[str, str]]:
    return [{"name": name, "description": TAGS[name]} for name in names if name in TAGS]
