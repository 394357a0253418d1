"""Signed webhooks both ways: `sha256=<hex HMAC of "timestamp.body">` with a timestamp header,
as the 12345 hotline contract specifies; departments' webhooks get the same scheme."""

from __future__ import annotations

import hashlib
import hmac
import re
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


def same_secret(a: str, b: str) -> bool:
    """Constant-time equality for any text a caller sends (compare_digest refuses non-ASCII str,
    which would make a stranger's `é` a 500)."""
    return hmac.compare_digest(a.encode(), b.encode())


def verify(secret: str, timestamp: str, body: bytes, given: str, *, max_age: int = 300) -> bool:
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return False
    age = abs(time.time() - int(timestamp))
    return age <= max_age and same_secret(signature(secret, timestamp, body), given)
