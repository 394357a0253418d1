"""RFC 9457 problem+json for every error the APIs give: domain errors, validation, the rest."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import DomainError

PROBLEM = "application/problem+json"
log = structlog.get_logger("gaodedim.errors")


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    for key, value in (extra or {}).items():
        # A detail never overwrites the problem's own members: `status` is the HTTP status.
        body[key if key not in body else f"current_{key}"] = value
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    """('body', 'applicant', 'phone') → 'applicant.phone'; ('query', 'limit') → 'limit'."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name or "body"


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        type_=exc.type,
        errors=[{"field": e.field, "message": e.message} for e in exc.errors] or None,
        extra=exc.extra or None,
        headers=exc.headers or None,
    )


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_response(
            400,
            "Malformed JSON",
            "the request body is not valid JSON",
            type_="/problems/malformed-json",
            errors=[
                {"field": "body", "message": _message(e)}
                for e in raw
                if e.get("type") == "json_invalid"
            ],
        )
    errors = [{"field": _field_name(tuple(e.get("loc", ()))), "message": _message(e)} for e in raw]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem_response(
        422, "Validation failed", detail, type_="/problems/validation", errors=errors
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}
    return problem_response(
        exc.status_code,
        titles.get(exc.status_code, "Error"),
        str(exc.detail),
        headers=dict(exc.headers) if exc.headers else None,
    )


UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")
"""Connection exceptions, insufficient resources, operator intervention (shutdown, a statement
cancelled by its timeout): the database cannot answer now, which a retry may fix."""
RETRY_AFTER_SECONDS = "5"


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` means a dependency (PostgreSQL, Redis) is down or too slow, not a bug."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, OSError | TimeoutError | SATimeoutError | RedisError):
            return True
        if isinstance(seen, DisconnectionError | InterfaceError) or (
            isinstance(seen, DBAPIError) and seen.connection_invalidated
        ):
            return True
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state[:2] in UNAVAILABLE_SQLSTATE_CLASSES:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


def service_unavailable(detail: str) -> JSONResponse:
    return problem_response(
        503,
        "Service unavailable",
        detail,
        type_="/problems/unavailable",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if unavailable(exc):
        log.warning("dependency_unavailable", path=request.url.path, exc_info=exc)
        return service_unavailable(
            "the database is not answering; nothing was saved, try again shortly"
        )
    log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__, exc_info=exc)
    return problem_response(
        500, "Internal error", "the server could not finish this request; nothing was saved"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # The families a down or slow dependency raises, handled where the other errors are: a
    # handler for `Exception` alone runs in Starlette's outermost middleware, which re-raises
    # after answering, so every 503 would also be logged as a crash.
    for family in (SATimeoutError, DBAPIError, RedisError, OSError, TimeoutError):
        app.add_exception_handler(family, _unexpected)
    app.add_exception_handler(Exception, _unexpected)
