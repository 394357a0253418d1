"""12345 hotline orders as the hotline signs and sends them."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from services.hotline.schemas import EXAMPLE
from shared.signing import signature
from tests.helpers.serving import HOTLINE_SECRET


def signed(body: bytes, *, secret: str = HOTLINE_SECRET, skew: int = 0) -> dict[str, str]:
    stamp = str(int(time.time()) + skew)
    return {
        "Content-Type": "application/json",
        "X-Hotline-Timestamp": stamp,
        "X-Hotline-Signature": signature(secret, stamp, body),
    }


def order(**overrides: Any) -> bytes:
    return json.dumps({**EXAMPLE, **overrides}, ensure_ascii=False).encode()


async def post(intake: httpx.AsyncClient, body: bytes, headers: Any = None) -> httpx.Response:
    return await intake.post(
        "/webhooks/hotline", content=body, headers=headers if headers is not None else signed(body)
    )
