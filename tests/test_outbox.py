"""The outbox: delivered after commit by the worker, retried with back-off, never lost."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq.worker import Worker
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case.responses import DepartmentNotice
from services.outbox import service as outbox
from shared.database import transaction
from shared.models import OutboxMessage
from shared.queue import redis_settings
from shared.timeutil import utcnow
from shared.urlguard import Allowed
from sla_worker import worker as worker_module
from sla_worker.dispatch import dispatch_all, dispatch_once
from tests.helpers.bodies import case_body
from tests.helpers.keys import KeyFactory
from tests.helpers.serving import Servers


async def _put(
    sessionmaker: async_sessionmaker[AsyncSession], n: int, topic: str = "test.topic"
) -> None:
    async with transaction(sessionmaker) as session:
        for i in range(n):
            outbox.enqueue(session, topic, {"n": i})


async def _rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )


async def test_messages_are_delivered_once_each(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _put(sessionmaker, 120)
    seen: list[int] = []

    async def handler(payload: dict[str, Any]) -> None:
        seen.append(payload["n"])

    # Two dispatchers at once, as two worker processes would be.
    results = await asyncio.gather(
        dispatch_all(sessionmaker, {"test.topic": handler}),
        dispatch_all(sessionmaker, {"test.topic": handler}),
    )
    assert sum(results) == 120
    assert sorted(seen) == list(range(120))
    assert all(r.delivered_at is not None for r in await _rows(sessionmaker))


async def test_failures_back_off_then_give_up_visibly(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _put(sessionmaker, 1)

    async def broken(_: dict[str, Any]) -> None:
        raise ConnectionError("department webhook down")

    assert await dispatch_once(sessionmaker, {"test.topic": broken}) == 0
    [row] = await _rows(sessionmaker)
    assert row.attempts == 1
    assert row.delivered_at is None
    assert row.failed_at is None
    assert row.last_error == "ConnectionError: department webhook down"
    assert row.available_at - row.created_at >= timedelta(seconds=9)
    # Not due yet: a second pass leaves it alone.
    assert await dispatch_once(sessionmaker, {"test.topic": broken}) == 0
    assert (await _rows(sessionmaker))[0].attempts == 1

    for _ in range(outbox.MAX_ATTEMPTS):
        async with transaction(sessionmaker) as session:
            await session.execute(
                update(OutboxMessage).values(available_at=OutboxMessage.created_at)
            )
        await dispatch_once(sessionmaker, {"test.topic": broken})
    [row] = await _rows(sessionmaker)
    assert row.failed_at is not None
    assert row.attempts == outbox.MAX_ATTEMPTS
    async with sessionmaker() as session:
        assert await outbox.backlog(session) == {"pending": 0, "failed": 1}


async def test_topics_without_a_handler_wait(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _put(sessionmaker, 2, topic="case.registered")
    assert await dispatch_all(sessionmaker, {}) == 0
    rows = await _rows(sessionmaker)
    assert all(r.attempts == 0 and r.delivered_at is None for r in rows)


async def test_a_registered_case_reaches_the_worker_through_redis(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    servers: Servers,
    settings: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Register over HTTP; the after-commit kick queues an arq job; a real worker delivers."""
    delivered: list[dict[str, Any]] = []

    async def route_handler(payload: dict[str, Any]) -> None:
        delivered.append(payload)

    case_no = (
        await intake.post("/api/v1/cases", json=case_body(), headers=await make_key("window"))
    ).json()["case_no"]
    monkeypatch.setattr(worker_module, "get_settings", lambda: settings)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["handlers"] = {"case.registered": route_handler}
        await worker_module.startup(ctx)

    worker = Worker(
        functions=worker_module.WorkerSettings.functions,
        on_startup=startup,
        on_shutdown=worker_module.shutdown,
        redis_settings=redis_settings(servers.redis_url),
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()
    assert worker.jobs_complete == 1
    assert delivered == [{"case_no": case_no, "event_id": 1}]
    assert (await _rows(sessionmaker))[0].delivered_at is not None


async def test_department_webhooks_are_signed_and_retried(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The receiving department is simulated with httpx's MockTransport (it is not ours to run);
    the outbox, the claim and the retry bookkeeping are the real ones."""
    import json as json_module

    from shared.signing import verify
    from sla_worker import handlers

    received: list[httpx.Request] = []
    answers = iter([503, 200])

    def department(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(next(answers))

    async with transaction(sessionmaker) as session:
        outbox.enqueue(
            session,
            "department.notify",
            {
                "department": "GZ-BDC",
                "url": "https://bdc.example.gov.cn/hook",
                "case_no": "GZ-1",
                "event": "transferred",
                "status": "assigned",
                "lead_department": "GZ-GHZY",
            },
        )
    async with httpx.AsyncClient(transport=httpx.MockTransport(department)) as http:
        # A mock transport answers for the department's host; no name is looked up.
        known = Allowed.parse("bdc.example.gov.cn")
        jobs = handlers.build(http, http, "webhook-secret", allowed=known)
        assert await dispatch_all(sessionmaker, jobs) == 0  # 503: kept for a retry
        async with transaction(sessionmaker) as session:
            await session.execute(
                update(OutboxMessage).values(available_at=OutboxMessage.created_at)
            )
        assert await dispatch_all(sessionmaker, jobs) == 1
    first = received[0]
    notice = json_module.loads(first.content)
    DepartmentNotice.model_validate(notice)  # the routing document's `department-notice`
    assert notice == {
        "department": "GZ-BDC",
        "case_no": "GZ-1",
        "event": "transferred",
        "status": "assigned",
        "lead_department": "GZ-GHZY",
        "event_id": 1,
    }
    assert (
        received[1].headers["X-Gaodedim-Event-Id"]
        == received[0].headers["X-Gaodedim-Event-Id"]
        == "1"
    )
    assert verify(
        "webhook-secret",
        first.headers["X-Gaodedim-Timestamp"],
        first.content,
        first.headers["X-Gaodedim-Signature"],
    )
    assert not verify(
        "other-secret",
        first.headers["X-Gaodedim-Timestamp"],
        first.content,
        first.headers["X-Gaodedim-Signature"],
    )
    [row] = await _rows(sessionmaker)
    assert row.attempts == 2
    assert row.delivered_at is not None


async def test_failed_deliveries_are_visible_and_can_be_retried(
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    sample_departments: None,
) -> None:
    await _put(sessionmaker, 2)
    async with transaction(sessionmaker) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == 1)
            .values(
                failed_at=OutboxMessage.created_at, attempts=12, last_error="HTTPStatusError: 410"
            )
        )
    admin = await make_key("admin")
    failed = (await routing.get("/api/v1/outbox", headers=admin)).json()["items"]
    assert [(m["id"], m["attempts"], m["last_error"]) for m in failed] == [
        (1, 12, "HTTPStatusError: 410")
    ]
    pending = (
        await routing.get("/api/v1/outbox", params={"state": "pending"}, headers=admin)
    ).json()["items"]
    assert [m["id"] for m in pending] == [2]
    assert (
        await routing.get("/api/v1/outbox", headers=await make_key("window"))
    ).status_code == 403
    city = await make_key("supervisor")
    assert (await routing.get("/api/v1/outbox", headers=city)).status_code == 200
    district = await make_key("supervisor", "YX-ZWFW")  # the deliveries are the city's
    assert (await routing.get("/api/v1/outbox", headers=district)).status_code == 403
    assert (await routing.post("/api/v1/outbox/1/retry", headers=district)).status_code == 403
    assert (await routing.post("/api/v1/outbox/1/retry", headers=admin)).status_code == 202
    assert (
        await routing.post("/api/v1/outbox/2/retry", headers=admin)
    ).status_code == 404  # not failed
    [row] = [r for r in await _rows(sessionmaker) if r.id == 1]
    assert (row.failed_at, row.attempts) == (None, 0)


async def test_delivered_messages_are_pruned_after_the_retention(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _put(sessionmaker, 5)
    long_ago = utcnow() - timedelta(days=31)
    async with transaction(sessionmaker) as session:
        ids = [m.id for m in await _rows(sessionmaker)]
        # 1, 2: delivered 31 days ago; 3: delivered now; 4: failed 31 days ago; 5: pending.
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids[:2])).values(delivered_at=long_ago)
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == ids[2]).values(delivered_at=utcnow())
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == ids[3]).values(failed_at=long_ago)
        )
    assert await worker_module.prune_outbox({"sessionmaker": sessionmaker}) == 2
    assert [m.id for m in await _rows(sessionmaker)] == ids[2:]
    assert await worker_module.prune_outbox({"sessionmaker": sessionmaker}) == 0


async def test_one_cases_callbacks_arrive_in_order_behind_a_failing_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Five events of one case to one receiver, the first failing twice, two workers at once:
    the receiver gets them in the order they happened; another case is not held up."""
    from sla_worker import handlers

    got: list[tuple[str, str]] = []
    failures = {"A:0": 2}

    def receiver(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        name = f"{body['case_no']}:{body['event']}"
        if failures.get(name, 0) > 0:
            failures[name] -= 1
            return httpx.Response(503)
        got.append((body["case_no"], body["event"]))
        return httpx.Response(200)

    async with transaction(sessionmaker) as session:
        for case_no, events in (("A", 5), ("B", 1)):
            for i in range(events):
                outbox.enqueue(
                    session,
                    "channel.callback",
                    {
                        "url": "https://h.example.gov.cn/cb",
                        "case_no": case_no,
                        "event": str(i),
                    },
                    ordering_key=f"channel.callback:{case_no}",
                )
    known = Allowed.parse("h.example.gov.cn")
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        jobs = handlers.build(http, http, None, "s" * 16, allowed=known)
        for _ in range(10):
            await asyncio.gather(dispatch_all(sessionmaker, jobs), dispatch_all(sessionmaker, jobs))
            if len(got) == 6:
                break
            assert ("A", "1") not in got or ("A", "0") in got
            async with transaction(sessionmaker) as session:  # the back-off has passed
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.delivered_at.is_(None))
                    .values(available_at=OutboxMessage.created_at)
                )
    assert [e for c, e in got if c == "A"] == ["0", "1", "2", "3", "4"]
    assert got.index(("B", "0")) == 0  # B went at once, while A's first event was failing


async def test_the_outbox_list_pages_with_opaque_cursors(
    routing: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The same cursors as every other list: opaque, newest first, a forged one a 422."""
    await _put(sessionmaker, 5)
    admin = await make_key("admin")
    seen: list[int] = []
    params: dict[str, str | int] = {"state": "pending", "limit": 2}
    while True:
        page = (await routing.get("/api/v1/outbox", params=params, headers=admin)).json()
        seen += [m["id"] for m in page["items"]]
        if page["next_cursor"] is None:
            break
        assert isinstance(page["next_cursor"], str)
        params["cursor"] = page["next_cursor"]
    assert seen == [5, 4, 3, 2, 1]
    forged = await routing.get("/api/v1/outbox", params={"cursor": "5"}, headers=admin)
    assert forged.status_code == 422
    assert forged.json()["errors"][0]["field"] == "cursor"


HAND_OVER = "case.registered"
UNTIL_DONE = {HAND_OVER: outbox.UNTIL_DONE}


class Routing:
    """Routing as the worker sees it: down (every call fails) or up; records what it routed."""

    def __init__(self) -> None:
        self.up, self.calls, self.routed = False, 0, []  # type: tuple[bool, int, list[int]]

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.calls += 1
        if not self.up:
            raise httpx.ConnectError("routing is down")
        self.routed.append(payload["n"])


async def test_a_hand_over_is_never_given_up(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Issue 26 #13: the default gives up after 12 tries (~5.7 h of back-off); a case's
    hand-over to routing is tried every 30 s at most, for ever. The tries are counted into the
    past as a long outage would have counted them."""
    await _put(sessionmaker, 1, HAND_OVER)
    await _put(sessionmaker, 1, "test.topic")
    async with transaction(sessionmaker) as session:
        await session.execute(update(OutboxMessage).values(attempts=outbox.MAX_ATTEMPTS + 40))
    routing = Routing()
    jobs = {HAND_OVER: routing, "test.topic": routing}
    assert await dispatch_all(sessionmaker, jobs, UNTIL_DONE) == 0
    hand_over, webhook = await _rows(sessionmaker)
    assert webhook.failed_at is not None  # a department's webhook: a dead letter, as before
    assert hand_over.failed_at is None
    assert hand_over.available_at - hand_over.created_at < timedelta(seconds=31)
    routing.up = True
    assert await dispatch_all(sessionmaker, jobs, UNTIL_DONE) == 1  # the probe finds it
    assert routing.routed == [0]


async def test_routing_back_routes_the_waiting_cases_at_once_oldest_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Issue 26 #14: during the outage one call per run finds routing still down (not one per
    waiting case); the first that gets through makes every waiting case due, oldest first,
    ahead of anything registered since."""
    routing = Routing()
    jobs = {HAND_OVER: routing}
    async with transaction(sessionmaker) as session:
        for i in range(30):
            outbox.enqueue(session, HAND_OVER, {"n": i})
    assert await dispatch_all(sessionmaker, jobs, UNTIL_DONE) == 0
    assert routing.calls == 1  # the rest of the batch was put back untried
    rows = await _rows(sessionmaker)
    assert all(r.last_error and r.delivered_at is None for r in rows)
    assert sum("not tried" in (r.last_error or "") for r in rows) == 29
    for _ in range(3):  # runs during the outage: one probe each
        assert await dispatch_all(sessionmaker, jobs, UNTIL_DONE) == 0
    assert routing.calls == 4
    # Routing is back; no new case arrives: the next run's probe gets through and the rest
    # follow in the same run, in the order they were registered.
    routing.up = True
    assert await dispatch_all(sessionmaker, jobs, UNTIL_DONE) == 30
    assert routing.routed == list(range(30))


async def test_a_new_case_getting_through_releases_the_waiting_ones_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    routing = Routing()
    jobs = {HAND_OVER: routing}
    async with transaction(sessionmaker) as session:
        for i in range(5):
            outbox.enqueue(session, HAND_OVER, {"n": i})
    await dispatch_all(sessionmaker, jobs, UNTIL_DONE)
    routing.up = True
    async with transaction(sessionmaker) as session:
        outbox.enqueue(session, HAND_OVER, {"n": 99})
    # One batch without the probe: the new case gets through, and that releases the ones
    # waiting out their back-off, which the next batch takes, oldest first.
    assert await dispatch_once(sessionmaker, jobs, retries=UNTIL_DONE) == 1
    assert await dispatch_once(sessionmaker, jobs, retries=UNTIL_DONE) == 5
    assert routing.routed == [99, 0, 1, 2, 3, 4]


async def test_a_held_hand_over_is_not_released_early(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A window's held case hands over later on purpose; routing's return does not hurry it."""
    routing = Routing()
    routing.up = True
    async with transaction(sessionmaker) as session:
        outbox.enqueue(session, HAND_OVER, {"n": 1}, delay=timedelta(hours=1))
        outbox.enqueue(session, HAND_OVER, {"n": 2})
    assert await dispatch_all(sessionmaker, {HAND_OVER: routing}, UNTIL_DONE) == 1
    assert routing.routed == [2]
