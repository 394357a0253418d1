"""The SLA sweep with a controllable clock: warnings, cards, auto-close; each exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock.deadlines import add
from services.sla.runner import run_sweep
from shared.database import transaction
from shared.durations import parse_duration
from shared.models import Card, Case, CaseEvent, Department, OutboxMessage, Warning
from tests.helpers.bodies import ESTATE
from tests.helpers.cases import stored_case
from tests.helpers.clock import ManualClock, stand_in_calendar
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")
SECOND = timedelta(seconds=1)


async def _case(intake: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> dict[str, Any]:
    case: dict[str, Any] = (
        await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])
    ).json()
    assert case["lead_department"] == "GZ-BDC"
    return case


async def _cards(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(select(Card.colour, Card.deadline).order_by(Card.id))
        return [(c, d) for c, d in rows.tuples()]


async def _warnings(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        return list(
            (await session.execute(select(Warning.deadline).order_by(Warning.id))).scalars()
        )


async def test_every_notice_comes_once_at_its_time(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    case = await _case(intake, keys)
    row = await stored_case(sessionmaker, case["case_no"])
    assert row.sign_warn_at
    assert row.sign_due_at
    assert row.handle_warn_at
    assert row.handle_due_at
    assert row.sla_next_check_at == row.sign_warn_at
    cal = stand_in_calendar()

    assert (await run_sweep(sessionmaker, now=row.sign_warn_at - SECOND)).cases == 0
    r = await run_sweep(sessionmaker, now=row.sign_warn_at + SECOND)
    assert (r.warnings, r.yellow) == (1, 0)
    assert (await run_sweep(sessionmaker, now=row.sign_warn_at + SECOND)).cases == 0  # rescheduled
    r = await run_sweep(sessionmaker, now=row.sign_due_at + SECOND)
    assert (r.warnings, r.yellow) == (0, 1)
    await run_sweep(sessionmaker, now=row.handle_warn_at + SECOND)
    await run_sweep(sessionmaker, now=row.handle_due_at + SECOND)
    red_at = add(row.handle_due_at, parse_duration("3 working_days"), cal)
    assert (await run_sweep(sessionmaker, now=red_at - SECOND)).red == 0
    r = await run_sweep(sessionmaker, now=red_at + SECOND)
    assert r.red == 1
    for _ in range(3):  # nothing more, however often it runs
        r = await run_sweep(sessionmaker, now=red_at + timedelta(days=30))
        assert (r.warnings, r.yellow, r.red) == (0, 0, 0)
    assert await _warnings(sessionmaker) == ["sign", "handle"]
    cards = await _cards(sessionmaker)
    assert [c for c in cards if c[1] != "supervision"] == [
        ("yellow", "sign"),
        ("yellow", "handle"),
        ("red", "drag"),
    ]
    # Overdue by 3 working days also raised the case (提级): its order, never answered, gave
    # the one card an unanswered order gives.
    assert [c for c in cards if c[1] == "supervision"] == [("yellow", "supervision")]
    history = (await intake.get(f"/api/v1/cases/{case['case_no']}", headers=keys["window"])).json()[
        "history"
    ]
    assert [e["action"] for e in history] == [
        "register",
        "route",
        "warning",
        "yellow_card",
        "warning",
        "yellow_card",
        "red_card",
        "escalated",
        "supervision_overdue",
    ]
    assert history[3]["data"]["points"] == 1
    assert history[6]["data"]["points"] == 3


async def test_a_batch_writes_what_one_case_at_a_time_would(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The sweep writes a batch's history rows and messages set-based; they must be exactly
    the per-case rules' rows: each notice's history row, the channel's callback for each card
    and every follower's webhook, in the order the notices fell due."""
    calling, quiet = [(await _case(intake, keys))["case_no"] for _ in range(2)]
    async with transaction(sessionmaker) as session:
        await session.execute(
            update(Department).values(webhook_url="https://hooks.example.gov.cn/" + Department.code)
        )
        await session.execute(
            update(Case)
            .where(Case.case_no == calling)
            .values(callback_url="https://12345.example.gov.cn/cb", external_ref="ORDER-1")
        )
    row = await stored_case(sessionmaker, calling)
    assert row.handle_due_at is not None
    red_at = add(row.handle_due_at, parse_duration("3 working_days"), stand_in_calendar())
    r = await run_sweep(sessionmaker, now=red_at + SECOND)  # everything falls due at once
    assert (r.cases, r.warnings, r.yellow, r.red) == (2, 4, 4, 3)  # 4 yellows: a monthly red

    async with sessionmaker() as session:
        messages = list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )
        events = list(
            (
                await session.execute(
                    select(CaseEvent).where(CaseEvent.case_id == row.id).order_by(CaseEvent.id)
                )
            ).scalars()
        )
    swept = [e for e in events if e.action in ("warning", "yellow_card", "red_card")]
    assert [(e.action, e.data["deadline"]) for e in swept] == [
        ("warning", "sign"),
        ("yellow_card", "sign"),
        ("warning", "handle"),
        ("yellow_card", "handle"),
        ("red_card", "drag"),
    ]
    assert {
        (e.from_status, e.to_status, e.data["department"], e.at, e.actor_role) for e in swept
    } == {("assigned", "assigned", "GZ-BDC", red_at + SECOND, "system")}
    every_callback = [m.payload for m in messages if m.topic == "channel.callback"]
    callbacks = [c for c in every_callback if c["event"] in ("yellow_card", "red_card")]
    # Overdue by 3 working days, the case was also raised (提级) with an order, once.
    assert [c["event"] for c in every_callback if c not in callbacks] == ["escalated"]
    assert [(c["event"], c["card"]) for c in callbacks] == [
        ("yellow_card", {"deadline": "sign", "points": 1}),
        ("yellow_card", {"deadline": "handle", "points": 1}),
        ("red_card", {"deadline": "drag", "points": 3}),
    ]
    assert {(c["case_no"], c["order_id"], c["status"]) for c in callbacks} == {
        (calling, "ORDER-1", "assigned")
    }
    followers = sorted({c for c in (row.first_responsible_department, row.lead_department) if c})
    for case_no in (calling, quiet):
        told = [
            (m.payload["department"], m.payload["event"], m.payload["url"], m.ordering_key)
            for m in messages
            if m.topic == "department.notify"
            and m.payload["case_no"] == case_no
            and m.payload["event"] in ("warning", "yellow_card", "red_card")
        ]
        assert told == [
            (
                code,
                event,
                f"https://hooks.example.gov.cn/{code}",
                f"department.notify:{code}:{case_no}",
            )
            for event in ("warning", "yellow_card", "warning", "yellow_card", "red_card")
            for code in followers
        ]
    again = await run_sweep(sessionmaker, now=red_at + timedelta(days=1))
    assert (again.warnings, again.yellow, again.red) == (0, 0, 0)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == len(
            messages
        )


async def test_signing_in_time_means_no_sign_card(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    case = await _case(intake, keys)
    await routing.post(f"/api/v1/cases/{case['case_no']}/sign", json={}, headers=keys["bdc"])
    row = await stored_case(sessionmaker, case["case_no"])
    assert row.sla_next_check_at == row.handle_warn_at
    assert row.sign_due_at is not None
    r = await run_sweep(sessionmaker, now=row.sign_due_at + timedelta(hours=1))
    assert (r.yellow, await _cards(sessionmaker)) == (0, [])


async def test_a_suspended_case_gets_no_cards(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> None:
    case = await _case(intake, keys)
    no = case["case_no"]
    await routing.post(f"/api/v1/cases/{no}/sign", json={}, headers=keys["bdc"])
    await routing.post(
        f"/api/v1/cases/{no}/suspend", json={"reason": "等材料"}, headers=keys["bdc"]
    )
    row = await stored_case(sessionmaker, no)
    assert row.sla_next_check_at is None
    assert (await run_sweep(sessionmaker, now=clock.now + timedelta(days=60))).cases == 0
    await routing.post(f"/api/v1/cases/{no}/resume", json={}, headers=keys["bdc"])
    assert (await stored_case(sessionmaker, no)).sla_next_check_at is not None


async def test_three_yellows_in_a_month_make_a_red(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    rows = [
        await stored_case(sessionmaker, (await _case(intake, keys))["case_no"]) for _ in range(4)
    ]
    latest = max(r.sign_due_at for r in rows if r.sign_due_at)
    r = await run_sweep(sessionmaker, now=latest + SECOND)
    assert r.yellow == 4
    assert r.red == 1
    async with sessionmaker() as session:
        monthly = (
            (await session.execute(select(Card).where(Card.deadline == "monthly"))).scalars().all()
        )
    assert [(c.department, c.points, c.case_id) for c in monthly] == [("GZ-BDC", 3, None)]


async def test_replied_cases_close_by_themselves(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    no = (await _case(intake, keys))["case_no"]
    await routing.post(f"/api/v1/cases/{no}/sign", json={}, headers=keys["bdc"])
    await routing.post(f"/api/v1/cases/{no}/reply", json={"reply": "已办结"}, headers=keys["bdc"])
    row = await stored_case(sessionmaker, no)
    assert row.replied_at is not None
    assert row.sla_next_check_at == row.replied_at + timedelta(days=7)
    assert (await run_sweep(sessionmaker, now=row.replied_at + timedelta(days=6))).closed == 0
    assert (
        await run_sweep(sessionmaker, now=row.replied_at + timedelta(days=7, seconds=1))
    ).closed == 1
    got = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    assert got["status"] == "closed"
    assert got["history"][-1]["action"] == "auto_close"


async def test_an_idle_sweep_claims_through_the_index(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> None:
    await _case(intake, keys)
    assert (await run_sweep(sessionmaker, now=clock.now)).cases == 0  # nothing is due yet
    async with sessionmaker() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))  # as on a big table
        plan = "\n".join(
            (
                await session.execute(
                    text(
                        "EXPLAIN SELECT * FROM cases WHERE sla_next_check_at IS NOT NULL "
                        "AND sla_next_check_at <= now() ORDER BY sla_next_check_at LIMIT 500 "
                        "FOR UPDATE SKIP LOCKED"
                    )
                )
            ).scalars()
        )
    assert "ix_cases_sla_next_check_at" in plan


async def test_moved_deadlines_get_their_own_card(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    no = (await _case(intake, keys))["case_no"]
    row = await stored_case(sessionmaker, no)
    assert row.sign_due_at is not None
    await run_sweep(sessionmaker, now=row.sign_due_at + SECOND)
    moved = row.sign_due_at + timedelta(days=1)
    async with transaction(sessionmaker) as session:
        await session.execute(
            update(Case).where(Case.id == row.id).values(sign_due_at=moved, sla_next_check_at=moved)
        )
    await run_sweep(sessionmaker, now=moved + SECOND)
    await run_sweep(sessionmaker, now=moved + SECOND)
    assert await _cards(sessionmaker) == [("yellow", "sign"), ("yellow", "sign")]


async def test_window_settled_cases_close_by_themselves(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Resolved on the spot or referred out of scope, and no feedback: closed after the
    published table's auto_close_after (7 days in the sample), like a replied case."""
    from tests.helpers.rules import publish

    window = await make_key("window")
    # Registered before any table is published, so they stay at the window.
    nos = [
        (await intake.post("/api/v1/cases", json=ESTATE, headers=window)).json()["case_no"]
        for _ in range(3)
    ]
    on_spot = await intake.post(
        f"/api/v1/cases/{nos[0]}/resolve-on-spot", json={"note": "当场出具证明"}, headers=window
    )
    assert on_spot.json()["status"] == "resolved_on_spot"
    assert (
        await stored_case(sessionmaker, nos[0])
    ).sla_next_check_at is None  # no policy in force yet
    await publish(routing, await make_key("admin"))
    for no in nos[1:]:
        r = await intake.post(
            f"/api/v1/cases/{no}/out-of-scope",
            json={"referred_to": "人民法院", "explanation": "民事纠纷"},
            headers=window,
        )
        assert r.json()["status"] == "out_of_scope"
    await intake.post(
        f"/api/v1/cases/{nos[2]}/feedback", json={"satisfaction": "satisfied"}, headers=window
    )
    row = await stored_case(sessionmaker, nos[1])
    assert row.routing is not None
    assert row.routing["card_policy"]["auto_close_after"] == "7 days"
    assert row.sla_next_check_at == row.updated_at + timedelta(days=7)
    assert (await stored_case(sessionmaker, nos[2])).sla_next_check_at is None  # closed by feedback
    assert (await run_sweep(sessionmaker, now=row.updated_at + timedelta(days=6))).closed == 0
    later = row.updated_at + timedelta(days=7, seconds=1)
    assert (await run_sweep(sessionmaker, now=later)).closed == 1
    got = (await intake.get(f"/api/v1/cases/{nos[1]}", headers=window)).json()
    assert (got["status"], got["history"][-1]["action"]) == ("closed", "auto_close")
    statuses = [(await stored_case(sessionmaker, no)).status for no in nos]
    assert statuses == ["resolved_on_spot", "closed", "closed"]
