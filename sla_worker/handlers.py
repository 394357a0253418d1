"""What the worker does with each outbox topic."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.duty.service import staff_phone
from services.notices import service as notices_service
from services.notices.providers import Provider, Providers
from services.outbox import service as outbox
from services.outbox.topics import Topic
from shared.database import transaction
from shared.errors import Undeliverable
from shared.routing_client import request_routing
from shared.signing import signed_headers
from shared.urlguard import Allowed, ensure_deliverable
from sla_worker.dispatch import Handler

RETRIES: dict[str, outbox.Retry] = {Topic.registered: outbox.UNTIL_DONE}
"""A registered case reaches routing however long routing was down (issue 26); webhooks,
callbacks and notices keep the default back-off and dead letter."""


def build(
    routing: httpx.AsyncClient,
    http: httpx.AsyncClient,
    secret: str | None,
    hotline_secret: str | None = None,
    *,
    allowed: Allowed,
    notices: Handler | None = None,
    staff: Handler | None = None,
) -> dict[str, Handler]:
    """`allowed`: the private targets an operator permits (CALLBACK_ALLOWED_HOSTS); every other
    inward address is refused before a byte is sent."""

    async def route(payload: dict[str, Any]) -> None:
        await request_routing(routing, payload["case_no"])

    async def notify(payload: dict[str, Any]) -> None:
        body = json.dumps(
            {k: v for k, v in payload.items() if k != "url"}, ensure_ascii=False
        ).encode()
        headers = {**signed_headers(secret, body), "X-Gaodedim-Event-Id": str(payload["event_id"])}
        await ensure_deliverable(payload["url"], allowed)
        response = await http.post(payload["url"], content=body, headers=headers)
        response.raise_for_status()

    async def call_back(payload: dict[str, Any]) -> None:
        """To the 12345 hotline, signed as it signs to us (X-Hotline-Timestamp/Signature)."""
        body = json.dumps(
            {k: v for k, v in payload.items() if k != "url"}, ensure_ascii=False
        ).encode()
        headers = {
            **signed_headers(hotline_secret, body, prefix="X-Hotline"),
            "X-Hotline-Event-Id": str(payload["event_id"]),
        }
        await ensure_deliverable(payload["url"], allowed)
        response = await http.post(payload["url"], content=body, headers=headers)
        response.raise_for_status()

    jobs: dict[str, Handler] = {
        Topic.registered: route,
        Topic.department_notify: notify,
        Topic.channel_callback: call_back,
    }
    return (
        jobs
        | ({Topic.applicant_notice: notices} if notices else {})
        | ({Topic.staff_sms: staff} if staff else {})
    )


def notice_handler(
    sessionmaker: async_sessionmaker[AsyncSession],
    providers: Providers | Provider,
    signature: str,
    clock: Callable[[], datetime],
) -> Handler:
    """Applicant notices: rendered, sent and kept in one transaction per notice. One provider
    alone is SMS only."""
    chosen = providers if isinstance(providers, Providers) else Providers(sms=providers)

    async def send(payload: dict[str, Any]) -> None:
        async with transaction(sessionmaker) as session:
            await notices_service.deliver(
                session, payload, chosen, signature=signature, now=clock()
            )

    return send


def staff_sms_handler(
    sessionmaker: async_sessionmaker[AsyncSession], providers: Providers | Provider
) -> Handler:
    """Texts to staff (督办, 值班) through the SMS provider; the number is read now, from the
    department or the shift the message names, so no phone sits in the outbox."""
    sms = providers.sms if isinstance(providers, Providers) else providers

    async def send(payload: dict[str, Any]) -> None:
        async with transaction(sessionmaker) as session:
            phone = await staff_phone(session, payload)
        if phone is None:
            raise Undeliverable("no number for this staff text (department or shift gone)")
        await sms.send(
            phone,
            payload["text"],
            case_no=payload.get("case_no", ""),
            event=payload.get("event", "staff"),
            values={"text": payload["text"]},
        )

    return send
