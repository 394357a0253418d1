"""The one check every signed webhook into us makes, before its body is parsed: an unsigned
request learns nothing about validation, and a missing secret closes the door (503) rather
than opening it."""

from __future__ import annotations

from fastapi import Request

from shared.errors import DomainError, unauthorized
from shared.signing import verify


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
