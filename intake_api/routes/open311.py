"""Open311 GeoReport v2 (`/open311/v2/…`), JSON or XML by the path's extension.

Reading requests needs no key, as the spec intends, but then shows a public view: status,
service, agency and times, without the description or media (complaint texts carry personal
details). With the portal's `api_key` a reader sees its own requests in full. Creating needs the
key.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services import open311
from services.apikey.cache import KeyCache
from services.case import repository, service
from services.case.repository import RequestFilter
from services.case.schemas import Applicant, CaseCreate, Location
from services.department import repository as departments
from services.open311.responses import (
    Created,
    Discovery,
    Open311Error,
    RequestOut,
    ServiceDefinition,
    ServiceOut,
)
from shared import audit
from shared.database import transaction
from shared.enums import Category, Channel
from shared.errors import DomainError
from shared.principal import Principal
from shared.view import View
from web import contract
from web.deps import Sessionmaker, settings_of
from web.registration import register

router = APIRouter(
    prefix="/open311/v2", tags=["open311"], responses=contract.problems("413", "422", "503")
)
Format = Annotated[str, Path(pattern="^(json|xml)$", description="json or xml")]
XML = {"text/xml": {"schema": {"type": "string", "description": "the same members, as XML"}}}


def _answers(status: int, model: Any, description: str, *errors: int) -> dict[int | str, Any]:
    """The OpenAPI of an Open311 operation: its body as JSON or XML, and its errors as
    Open311's error list, which is what its clients parse."""
    answers: dict[int | str, Any] = {
        status: {"model": model, "description": description, "content": XML}
    }
    for code in errors:
        answers[code] = {
            "model": list[Open311Error],
            "description": ERROR_MEANS[code],
            "content": XML,
        }
    return answers


ERROR_MEANS = {
    400: "a field is missing or invalid (Open311's error list names it)",
    401: "api_key missing, unknown or revoked",
    404: "no such service or request, or none this reader may see",
}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string", "maxLength": 200},
    }


API_KEY = _query("api_key", "a portal key: the requests it created, in full; none: the public feed")
LIST_PARAMS = [
    API_KEY,
    _query("service_request_id", "comma-separated case numbers"),
    _query("service_code", "one service (category)"),
    _query("status", "open or closed", {"type": "string", "enum": ["open", "closed"]}),
    _query("page", "from 1 to 100", {"type": "integer", "minimum": 1, "maximum": 100}),
    _query(
        "page_size",
        "from 1 to 200, 50 unless given",
        {"type": "integer", "minimum": 1, "maximum": 200},
    ),
]
CREATE_FIELDS: dict[str, Any] = {
    "type": "object",
    "required": ["api_key", "service_code", "description", "phone"],
    "properties": {
        "api_key": {"type": "string", "description": "a portal key"},
        "service_code": {"type": "string", "examples": ["materials"]},
        "description": {"type": "string", "maxLength": 5000},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "phone": {"type": "string", "examples": ["13800138001"]},
        "lat": {"type": "number"},
        "long": {"type": "number"},
        "address_string": {"type": "string"},
        "media_url": {"type": "string", "format": "uri"},
        f"attribute[{open311.PUBLIC_PLACE}]": {"type": "string", "enum": ["true", "false"]},
    },
}
CREATE_BODY = {
    "requestBody": {
        "required": True,
        "description": "form-encoded, as Open311 has it; a JSON object of the same fields is "
        "taken too",
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": CREATE_FIELDS,
                "example": {
                    "api_key": "<a portal key>",
                    "service_code": "materials",
                    "description": "继承登记被告知材料不全,但没有人说清楚还缺什么。",
                    "last_name": "黄",
                    "first_name": "丽华",
                    "phone": "13800138001",
                    "address_string": "越秀区",
                },
            }
        },
    }
}


def _render(fmt: str, root: str, item: str, shown: Sequence[View], status: int = 200) -> Response:
    """Open311 answers a list (or, for discovery and a definition, one object) as JSON, or the
    same members as XML: sent as built, the one shape for both formats."""
    rows = [one.body() for one in shown]
    if fmt == "xml":
        return Response(
            open311.to_xml(root, item, rows), status, media_type="text/xml; charset=utf-8"
        )
    body = rows[0] if root in ("discovery", "service_definition") else rows
    return Response(json.dumps(body, ensure_ascii=False), status, media_type="application/json")


async def _open311(fmt: str, work: Callable[[], Awaitable[Response]]) -> Response:
    """Open311 clients expect its error list, not problem+json."""
    try:
        return await work()
    except DomainError as exc:
        detail = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail
        error = Open311Error(code=exc.status, description=detail)
        return _render(fmt, "errors", "error", [error], exc.status)


async def _principal(request: Request, sessions: Sessionmaker, api_key: str | None) -> Principal:
    if not api_key:
        raise DomainError(detail="api_key is required", status=401, title="Unauthorized")
    cache: KeyCache = request.app.state.key_cache
    principal = await cache.authenticate(api_key)
    if principal is None:
        raise DomainError(detail="api_key is unknown or revoked", status=401, title="Unauthorized")
    return principal


@router.get(
    "/discovery.{fmt}",
    response_model=Discovery,
    responses=_answers(200, Discovery, "where to send requests, and how to get a key"),
)
async def discovery(request: Request, fmt: Format) -> Response:
    base = str(request.base_url).rstrip("/") + "/open311/v2"
    return _render(
        fmt,
        "discovery",
        "discovery",
        [
            Discovery(
                changeset="2026-11-22T00:00:00+08:00",
                contact="12345",
                key_service="向政务服务管理部门申请 portal 角色的 API key",
                endpoints=[f"{base} GeoReport_v2 production application/json text/xml"],
            )
        ],
    )


@router.get(
    "/services.{fmt}",
    response_model=list[ServiceOut],
    responses=_answers(200, list[ServiceOut], "every service: our blockage categories"),
)
async def services(fmt: Format) -> Response:
    return _render(fmt, "services", "service", open311.service_list())


@router.get(
    "/services/{code}.{fmt}",
    response_model=ServiceDefinition,
    responses=_answers(200, ServiceDefinition, "the attributes a request may carry", 404),
)
async def service_definition(code: str, fmt: Format) -> Response:
    async def work() -> Response:
        if code not in {c.value for c in Category}:
            raise DomainError(
                detail=f"unknown service_code '{code}'", status=404, title="Not found"
            )
        shown = [open311.definition(code)]
        return _render(fmt, "service_definition", "service_definition", shown)

    return await _open311(fmt, work)


def _form(raw: bytes, content_type: str) -> dict[str, str]:
    if content_type.startswith("application/json"):
        loaded = json.loads(raw or b"{}")
        if not isinstance(loaded, dict):
            raise ValueError("a JSON request is an object of fields")
        return {k: str(v) for k, v in loaded.items() if v is not None}
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}


@router.post(
    "/requests.{fmt}",
    status_code=201,
    response_model=list[Created],
    responses=_answers(201, list[Created], "stored, and handed to routing", 400, 401),
    openapi_extra=CREATE_BODY,
)
async def create_request(request: Request, fmt: Format, sessions: Sessionmaker) -> Response:
    async def work() -> Response:
        try:
            form = _form(await request.body(), request.headers.get("content-type", ""))
        except (ValueError, UnicodeDecodeError) as exc:
            raise DomainError(detail="the body is neither a form nor JSON", status=400) from exc
        principal = await _principal(request, sessions, form.get("api_key"))
        name = " ".join(p for p in (form.get("last_name"), form.get("first_name")) if p) or None
        try:
            location = (
                Location(
                    lat=float(form["lat"]),
                    long=float(form["long"]),
                    address=form.get("address_string"),
                    public=form.get(f"attribute[{open311.PUBLIC_PLACE}]") == "true",
                )
                if "lat" in form and "long" in form
                else None
            )
            # Validated as a REST body is: an unknown service_code or a bad media_url is a
            # field error the caller reads in Open311's error list.
            data = CaseCreate.model_validate(
                {
                    "channel": Channel.portal,
                    "description": form.get("description", ""),
                    "category": form.get("service_code"),
                    "applicant": Applicant(name=name, phone=form.get("phone", "")),
                    "location": location,
                    "attachments": [form["media_url"]] if form.get("media_url") else [],
                }
            )
        except (ValidationError, ValueError) as exc:
            errors = exc.errors() if isinstance(exc, ValidationError) else []
            detail = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors
            ) or str(exc)
            raise DomainError(detail=detail, status=400) from exc

        async def store(session: AsyncSession) -> tuple[str, str]:
            case = await service.register(
                session,
                data,
                actor=principal,
                now=request.app.state.clock(),
                numbers=request.app.state.case_numbers,
            )
            return case.case_no, case.tracking_code

        registration = await register(request, sessions, store, to_route=lambda stored: stored[0])
        case_no, code = registration.stored
        created = Created(
            service_request_id=case_no, service_notice=f"跟踪码 {code}", account_id=None
        )
        return _render(fmt, "service_requests", "request", [created], 201)

    return await _open311(fmt, work)


PAGE_SIZE, MAX_PAGE_SIZE, MAX_PAGE = 50, 200, 100


def _bounded(params: dict[str, str], name: str, default: int, most: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= most:
        raise DomainError(detail=f"{name}: a whole number from 1 to {most}", status=400)
    return int(raw)


async def _requests(
    request: Request,
    sessions: Sessionmaker,
    principal: Principal | None,
    ids: list[str] | None,
    params: dict[str, str],
) -> list[RequestOut]:
    """The portal's own requests in full with its api_key; without one, the public feed: only
    cases from the channels configured as public, in the public view. A case outside the feed
    answers exactly as a case that does not exist, so ids cannot be probed."""
    size = _bounded(params, "page_size", PAGE_SIZE, MAX_PAGE_SIZE)
    page = _bounded(params, "page", 1, MAX_PAGE)
    status = params.get("status")
    filters = RequestFilter(
        created_by=principal.key_id if principal is not None else None,
        channels=None if principal is not None else tuple(settings_of(request).public_channels),
        case_nos=tuple(ids) if ids else None,
        category=params.get("service_code") or None,
        finished={"closed": True, "open": False}.get(status) if status else None,
    )
    async with transaction(sessions) as session:
        rows = await repository.requests(session, filters, size=size, page=page)
        names = await departments.names(
            session, [c.lead_department for c in rows if c.lead_department]
        )
        # Shown inside the transaction, so the export's audit row names what it showed.
        view = open311.request_out if principal is not None else open311.public_request_out
        return [view(c, names.get(c.lead_department or "")) for c in rows]


async def _reader(request: Request, sessions: Sessionmaker) -> Principal | None:
    """A keyed read is an export of the portal's requests in full: it leaves an audit row."""
    api_key = request.query_params.get("api_key")
    if not api_key:
        return None
    principal = await _principal(request, sessions, api_key)
    route = getattr(request.scope.get("route"), "path", "")
    audit.identify(principal, f"GET {route}")
    audit.exported("open311 keyed read")
    return principal


@router.get(
    "/requests.{fmt}",
    response_model=list[RequestOut],
    responses=_answers(200, list[RequestOut], "newest first", 400, 401),
    openapi_extra={"parameters": LIST_PARAMS},
)
async def list_requests(request: Request, fmt: Format, sessions: Sessionmaker) -> Response:
    async def work() -> Response:
        params = dict(request.query_params)
        principal = await _reader(request, sessions)
        ids = [i for i in params.get("service_request_id", "").split(",") if i] or None
        return _render(
            fmt,
            "service_requests",
            "request",
            await _requests(request, sessions, principal, ids, params),
        )

    return await _open311(fmt, work)


@router.get(
    "/requests/{request_id}.{fmt}",
    response_model=list[RequestOut],
    responses=_answers(200, list[RequestOut], "a list of one, as Open311 has it", 401, 404),
    openapi_extra={"parameters": [API_KEY]},
)
async def get_request(
    request: Request, request_id: str, fmt: Format, sessions: Sessionmaker
) -> Response:
    async def work() -> Response:
        rows = await _requests(
            request, sessions, await _reader(request, sessions), [request_id], {}
        )
        if not rows:
            raise DomainError(detail=f"no request {request_id}", status=404, title="Not found")
        return _render(fmt, "service_requests", "request", rows)

    return await _open311(fmt, work)
