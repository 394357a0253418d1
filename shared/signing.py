"""Signed webhooks both ways: `sha256=<hex HMAC of "timestamp.body">` with a timestamp header,
as the 12345 hotline contract specifies; departments' webhooks get the same scheme."""

from __future__ import annotations

import hashlib
import hmac
import time


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(
    secret: str | None, body: bytes, *, prefix: str = "X-Gaodedim"
) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if secret:
        stamp = str(int(time.time()))
        headers[f"{prefix}-Timestamp"] = stamp
        headers[f"{prefix}-Signature"] = signature(secret, stamp, body)
    return headers


def verify(secret: str, timestamp: str, body: bytes, given: str, *, max_age: int = 300) -> bool:
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    return age <= max_age and hmac.compare_digest(signature(secret, timestamp, body), given)
