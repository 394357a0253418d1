"""The 12345 hotline: signed orders in, one case per order, supplements, callbacks out."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case.responses import HotlineCallback
from services.hotline.schemas import EXAMPLE
from shared.signing import verify
from sla_worker import handlers
from sla_worker.dispatch import dispatch_all
from tests.helpers.db import count
from tests.helpers.hotline import order, post, signed
from tests.helpers.keys import KeyFactory
from tests.helpers.rules import publish
from tests.helpers.serving import HOTLINE_SECRET, LOCAL, routing_client_for

pytestmark = pytest.mark.usefixtures("sample_departments")


@pytest.mark.parametrize(
    "headers",
    [
        {},  # missing
        {"X-Hotline-Timestamp": str(int(time.time()))},
        "bad",
        "stale",
        "future",
        "other-secret",
    ],
)
async def test_signature_failures_are_401_and_store_nothing(
    intake: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], headers: Any
) -> None:
    body = order()
    if headers == "bad":
        headers = {**signed(body), "X-Hotline-Signature": "sha256=" + "0" * 64}
    elif headers == "stale":
        headers = signed(body, skew=-301)
    elif headers == "future":
        headers = signed(body, skew=+301)
    elif headers == "other-secret":
        headers = signed(body, secret="not-ours")
    r = await post(intake, body, headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert await count(sessionmaker, "cases") == 0


async def test_a_tampered_body_fails_its_signature(intake: httpx.AsyncClient) -> None:
    headers = signed(order())
    assert (await post(intake, order(content="改过的内容"), headers)).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order(callback_url="not a url"), "callback_url"),
        (order(caller={"phone": "123"}), "caller.phone"),
        (order(received_at="2026-11-22T09:15:00"), "received_at"),  # no offset
        (order(content=""), "content"),
        (b"{not json", "body"),
    ],
)
async def test_signed_but_invalid_orders_name_the_field(
    intake: httpx.AsyncClient, body: bytes, field: str
) -> None:
    r = await post(intake, body)
    assert r.status_code in (400, 422)
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_an_order_becomes_a_routed_hotline_case(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    await publish(routing, await make_key("admin"))
    r = await post(intake, order())
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["order_id"], case["created"], case["channel"]) == (
        EXAMPLE["order_id"],
        True,
        "hotline",
    )
    assert case["lead_department"] == "GZ-GJJ"  # 公积金
    assert case["applicant"]["phone"] == "139****5678"


async def test_redelivery_races_create_one_case(
    intake: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = order()
    results = await asyncio.gather(*[post(intake, body) for _ in range(6)])
    assert sorted(r.status_code for r in results) == [200] * 5 + [201]
    assert len({r.json()["case_no"] for r in results}) == 1
    assert await count(sessionmaker, "cases") == 1
    assert await count(sessionmaker, "hotline_orders") == 1


async def test_supplements_are_appended_once(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    first = (await post(intake, order())).json()
    extra = order(
        content="来电人再次来电:补充租赁合同照片",
        attachments=["https://files.example.gov.cn/lease.jpg"],
    )
    r = await post(intake, extra)
    assert (r.status_code, r.json()["supplement"], r.json()["case_no"]) == (
        200,
        True,
        first["case_no"],
    )
    again = await post(intake, extra)
    assert again.json()["supplement"] is False
    coordinator = await make_key("coordinator")  # attachments are for those who need to know
    case = (await intake.get(f"/api/v1/cases/{first['case_no']}", headers=coordinator)).json()
    assert [e["action"] for e in case["history"]].count("hotline_supplement") == 1
    assert case["attachments"] == ["https://files.example.gov.cn/lease.jpg"]


class Receiver:
    """A real HTTP server on 127.0.0.1 standing in for the hotline's callback endpoint."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers.items()), body))
                status = 503 if outer.failures > 0 else 200
                outer.failures -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()


async def test_status_changes_reach_the_hotline_after_it_recovers(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    routing_app: Any,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    receiver: Receiver,
) -> None:
    await publish(routing, await make_key("admin"))
    case = (await post(intake, order(callback_url=receiver.url))).json()
    gjj = await make_key("department", "GZ-GJJ")
    await routing.post(f"/api/v1/cases/{case['case_no']}/sign", json={}, headers=gjj)
    await routing.post(
        f"/api/v1/cases/{case['case_no']}/reply",
        json={"reply": "已指导通过线上渠道提取"},
        headers=gjj,
    )

    async with routing_client_for(routing_app) as up, httpx.AsyncClient() as http:
        jobs = handlers.build(up, http, None, HOTLINE_SECRET, allowed=LOCAL)
        for _ in range(4):  # the receiver is down for the first two attempts
            await dispatch_all(sessionmaker, jobs)
            async with sessionmaker() as session, session.begin():
                await session.execute(
                    text("UPDATE outbox SET available_at = now() WHERE delivered_at IS NULL")
                )
    delivered: dict[int, dict[str, Any]] = {}
    for headers, body in receiver.requests:
        assert verify(
            HOTLINE_SECRET, headers["X-Hotline-Timestamp"], body, headers["X-Hotline-Signature"]
        )
        payload = json.loads(body)
        assert payload["event_id"] == int(headers["X-Hotline-Event-Id"])
        # What the intake document's `hotline-callback` webhook promises, and nothing more.
        HotlineCallback.model_validate(payload)
        assert set(payload) <= set(HotlineCallback.model_fields)
        delivered.setdefault(payload["event_id"], payload)
    events = sorted(delivered.values(), key=lambda p: p["event_id"])
    assert [(p["event"], p["status"]) for p in events] == [
        ("route", "assigned"),
        ("sign", "signed"),
        ("reply", "replied"),
    ]
    assert events[-1]["reply"] == "已指导通过线上渠道提取"
    assert {p["order_id"] for p in events} == {EXAMPLE["order_id"]}
    assert len(receiver.requests) == 5  # three events, two of them retried once
    async with sessionmaker() as session:
        pending = await session.scalar(
            text("SELECT count(*) FROM outbox WHERE delivered_at IS NULL")
        )
    assert pending == 0
