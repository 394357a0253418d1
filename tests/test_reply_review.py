"""答复审核 (issue 29 #2): with the policy asking for review, a reply waits in `reviewing` until
the registering hall or a coordinator approves it (only then the citizen hears it) or sends it
back (its deadline unchanged); concurrent decisions leave one outcome."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.models import OutboxMessage, ReplyReviewRecord
from tests.helpers.bodies import case_body
from tests.helpers.cases import stored_case
from tests.helpers.keys import KeyFactory
from tests.helpers.rules import SAMPLE_TABLE, publish

REPLY = {"reply": "已协调规划部门出具历史处理证明,可办理转移登记"}


def reviewed_by(who: str) -> dict[str, Any]:
    table = copy.deepcopy(SAMPLE_TABLE)
    for policy in table["sla_policies"].values():
        policy["reply_review"] = who
    return table


async def replied(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    keys: dict[str, dict[str, str]],
) -> str:
    """A case of the estate rule, its co-departments let off, signed and answered."""
    r = await intake.post("/api/v1/cases", json=case_body(), headers=keys["window"])
    assert r.status_code == 201, r.text
    case_no = str(r.json()["case_no"])
    for code in r.json()["assists_owed"]:
        waived = await routing.post(
            f"/api/v1/cases/{case_no}/assists/{code}/waive",
            json={"reason": "不需要"},
            headers=keys["coordinator"],
        )
        assert waived.status_code == 200, waived.text
    r = await routing.post(f"/api/v1/cases/{case_no}/sign", json={}, headers=keys["lead"])
    assert r.status_code == 200, r.text
    r = await routing.post(f"/api/v1/cases/{case_no}/reply", json=REPLY, headers=keys["lead"])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["status_label"]) == ("reviewing", "答复审核中")
    return case_no


async def notices_of(
    sessionmaker: async_sessionmaker[AsyncSession], case_no: str
) -> list[dict[str, Any]]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.topic == "applicant.notice")
            .order_by(OutboxMessage.id)
        )
        return [p for p in rows if p["case_no"] == case_no]


async def keys_for(make_key: KeyFactory) -> dict[str, dict[str, str]]:
    return {
        "window": await make_key("window", "GZ-BDC"),
        "lead": await make_key("department", "GZ-BDC"),
        "coordinator": await make_key("coordinator"),
        "other_hall": await make_key("window", "YX-BJJD"),
    }


async def test_the_hall_sends_back_and_a_coordinator_approves(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await publish(routing, await make_key("admin"), reviewed_by("hall"))
    keys = await keys_for(make_key)
    case_no = await replied(intake, routing, make_key, keys)
    held = await stored_case(sessionmaker, case_no)
    assert "replied" not in [n["event"] for n in await notices_of(sessionmaker, case_no)]

    back = {"reason": "答复未说明历史处理证明何时出具,请补充办理时限后再答复"}
    path = f"/api/v1/cases/{case_no}/reply"
    for who in ("other_hall", "lead"):
        r = await routing.post(f"{path}/send-back", json=back, headers=keys[who])
        assert r.status_code == 403, who
    r = await routing.post(f"{path}/send-back", json=back, headers=keys["window"])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["sent_back_count"], r.json()["reply"]) == (
        "signed",
        1,
        None,
    )
    after = await stored_case(sessionmaker, case_no)
    assert after.handle_due_at == held.handle_due_at  # the clock that was running, kept
    assert (
        await routing.post(f"{path}/approve", json={}, headers=keys["window"])
    ).status_code == 409

    r = await routing.post(path, json=REPLY, headers=keys["lead"])
    assert r.json()["status"] == "reviewing"
    r = await routing.post(f"{path}/approve", json={"note": "同意"}, headers=keys["coordinator"])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["reply"]) == ("replied", REPLY["reply"])
    told = [n for n in await notices_of(sessionmaker, case_no) if n["event"] == "replied"]
    assert [n["reason"] for n in told] == [REPLY["reply"]]  # the answer, not the reviewer's note
    async with sessionmaker() as session:
        rows = list(await session.scalars(select(ReplyReviewRecord).order_by(ReplyReviewRecord.id)))
    assert [(r.department, r.outcome, r.decided_role) for r in rows] == [
        ("GZ-BDC", "sent_back", "window"),
        ("GZ-BDC", "approved", "coordinator"),
    ]
    figures = await routing.get("/api/v1/stats/reviews", headers=keys["coordinator"])
    assert figures.json()["replies"] == {
        "submitted": 2,
        "approved": 1,
        "sent_back": 1,
        "pending": 0,
    }
    assert [(d["department"], d["sent_back"]) for d in figures.json()["departments"]] == [
        ("GZ-BDC", 1)
    ]
    shown = (await intake.get(f"/api/v1/cases/{case_no}", headers=keys["window"])).json()
    steps = [e["action"] for e in shown["history"]]
    assert steps[-4:] == ["submit_reply", "send_back", "submit_reply", "approve_reply"]


async def test_a_coordinator_review_is_the_coordinators_and_decisions_do_not_race(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await publish(routing, await make_key("admin"), reviewed_by("coordinator"))
    keys = await keys_for(make_key)
    case_no = await replied(intake, routing, make_key, keys)
    path = f"/api/v1/cases/{case_no}/reply"
    r = await routing.post(f"{path}/approve", json={}, headers=keys["window"])
    assert r.status_code == 403

    other = await make_key("coordinator")
    approve, back = await asyncio.gather(
        routing.post(f"{path}/approve", json={}, headers=keys["coordinator"]),
        routing.post(f"{path}/send-back", json={"reason": "请补充"}, headers=other),
    )
    assert sorted((approve.status_code, back.status_code)) == [200, 409]
    won = approve if approve.status_code == 200 else back
    case = await stored_case(sessionmaker, case_no)
    assert case.status == won.json()["status"]
    async with sessionmaker() as session:
        outcomes = list(await session.scalars(select(ReplyReviewRecord.outcome)))
    assert outcomes == ["approved" if won is approve else "sent_back"]


async def test_without_review_a_reply_goes_straight_to_the_citizen(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
) -> None:
    await publish(routing, await make_key("admin"))
    keys = await keys_for(make_key)
    r = await intake.post("/api/v1/cases", json=case_body(), headers=keys["window"])
    case_no = r.json()["case_no"]
    for code in r.json()["assists_owed"]:
        await routing.post(
            f"/api/v1/cases/{case_no}/assists/{code}/waive",
            json={"reason": "不需要"},
            headers=keys["coordinator"],
        )
    await routing.post(f"/api/v1/cases/{case_no}/sign", json={}, headers=keys["lead"])
    r = await routing.post(f"/api/v1/cases/{case_no}/reply", json=REPLY, headers=keys["lead"])
    assert r.json()["status"] == "replied"
    assert datetime.fromisoformat(r.json()["updated_at"])
