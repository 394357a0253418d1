"""Notices delivered to a phone that keeps them; SMS replies pushed as the provider signs them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.outbox.topics import Topic
from shared.signing import signed_headers
from sla_worker.dispatch import dispatch_all
from sla_worker.handlers import notice_handler
from tests.helpers.clock import ManualClock
from tests.helpers.serving import SMS_SECRET


class Phone:
    """A provider that keeps what it was asked to send, to whom."""

    channel = "sms"

    def __init__(self, *, down: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down = down

    async def send(
        self, phone: str, text: str, *, case_no: str, event: str, values: Mapping[str, str]
    ) -> str | None:
        if self.down:
            raise ConnectionError("provider unreachable")
        self.sent.append((phone, text))
        return f"ref-{len(self.sent)}"


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession], phone: Phone, clock: ManualClock
) -> int:
    handler = notice_handler(sessionmaker, phone, "办不成事窗口", clock)
    return await dispatch_all(sessionmaker, {Topic.applicant_notice: handler})


async def do(
    routing: httpx.AsyncClient, case_no: str, action: str, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    r = await routing.post(f"/api/v1/cases/{case_no}/{action}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


MOBILE = "13800138001"  # ESTATE's applicant


def sms_signed(body: bytes, *, secret: str = SMS_SECRET) -> dict[str, str]:
    return signed_headers(secret, body, prefix="X-Sms")


SEQUENCE = iter(range(1, 10**6))


async def texted(
    intake: httpx.AsyncClient, content: str, *, phone: str = MOBILE, sequence_id: Any = None
) -> httpx.Response:
    """One message pushed as Alibaba Cloud's SmsUp documents it (phone with its +86 prefix)."""
    message = {
        "phone_number": f"+86{phone}",
        "send_time": "2026-11-19 10:00:00",
        "content": content,
        "sign_name": "办不成事窗口",
        "dest_code": "1234",
        "sequence_id": sequence_id if sequence_id is not None else next(SEQUENCE),
    }
    body = json.dumps([message], ensure_ascii=False).encode()
    r = await intake.post("/webhooks/sms/replies", content=body, headers=sms_signed(body))
    assert r.status_code == 200, r.text
    assert r.json() == {"code": 0, "msg": "接收成功"}
    return r
