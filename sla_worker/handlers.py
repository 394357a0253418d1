"""What the worker does with each outbox topic."""

from __future__ import annotations

import json
from typing import Any

import httpx

from services.case.notify import TOPIC_NOTIFY
from services.case.service import TOPIC_REGISTERED
from shared.routing_client import request_routing
from shared.signing import signed_headers
from sla_worker.dispatch import Handler


def build(
    routing: httpx.AsyncClient, http: httpx.AsyncClient, secret: str | None
) -> dict[str, Handler]:
    async def route(payload: dict[str, Any]) -> None:
        await request_routing(routing, payload["case_no"])

    async def notify(payload: dict[str, Any]) -> None:
        body = json.dumps(
            {k: v for k, v in payload.items() if k != "url"}, ensure_ascii=False
        ).encode()
        headers = {**signed_headers(secret, body), "X-Gaodedim-Event-Id": str(payload["event_id"])}
        response = await http.post(payload["url"], content=body, headers=headers)
        response.raise_for_status()

    return {TOPIC_REGISTERED: route, TOPIC_NOTIFY: notify}
