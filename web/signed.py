"""The one check every signed webhook into us makes, before its body is parsed: an unsigned
request learns nothing about validation, and a missing secret closes the door (503) rather
than opening it."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from shared.errors import DomainError, unauthorized
from shared.signing import verify

T = TypeVar("T")


async def signed_body(request: Request, secret: str | None, *, setting: str, prefix: str) -> bytes:
    """The raw body, once `<prefix>-Timestamp` and `<prefix>-Signature` prove it was sent by
    whoever holds `secret` in the last five minutes."""
    if not secret:
        raise DomainError(
            detail=f"this webhook is not configured ({setting})",
            status=503,
            title="Service unavailable",
        )
    body = await request.body()
    stamp = request.headers.get(f"{prefix}-timestamp")
    given = request.headers.get(f"{prefix}-signature")
    if not stamp or not given:
        raise unauthorized(f"{prefix}-Timestamp and {prefix}-Signature are required")
    if not verify(secret, stamp, body, given, max_age=300):
        raise unauthorized("bad or stale signature")
    return body


def parsed(adapter: TypeAdapter[T], body: bytes) -> T:
    """The signed body read as the operation takes it: an invalid one is the usual 422 naming
    each field (parsed here, not by FastAPI, because the signature is checked first)."""
    try:
        return adapter.validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc


def header_parameters(prefix: str) -> list[dict[str, Any]]:
    """The two headers in the OpenAPI document, since the route reads them itself."""
    return [
        {
            "name": f"{prefix}-Timestamp",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "Unix seconds; at most 5 minutes off",
        },
        {
            "name": f"{prefix}-Signature",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": 'sha256=<hex HMAC-SHA256 of "timestamp.body">',
        },
    ]
