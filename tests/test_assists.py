"""协办 (issue 29 #1): co-departments owe the lead an opinion by a time; the reply waits for
every one unless a coordinator waives it; a co-department reads the case in clear while its
opinion is owed; an opinion owed past its time cards that department once."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.runner import run_sweep
from shared.models import Card
from tests.helpers.bodies import case_body
from tests.helpers.keys import KeyFactory
from tests.helpers.rules import publish

REPLY = {"reply": "已协调规划部门出具历史处理证明,可办理转移登记"}


async def routed(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, make_key: KeyFactory
) -> str:
    """The sample table's estate rule: 不动产登记中心 leads, 规划 and 城管 assist."""
    await publish(routing, await make_key("admin"))
    r = await intake.post(
        "/api/v1/cases", json=case_body(), headers=await make_key("window", "GZ-BDC")
    )
    assert r.status_code == 201, r.text
    assert r.json()["lead_department"] == "GZ-BDC"
    assert r.json()["assists_owed"] == ["GZ-CGJ", "GZ-GHZY"]
    return str(r.json()["case_no"])


async def test_the_reply_waits_for_every_opinion_or_a_waiver(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
) -> None:
    case_no = await routed(intake, routing, make_key)
    lead = await make_key("department", "GZ-BDC")
    planning = await make_key("department", "GZ-GHZY")
    assert (await routing.post(f"/api/v1/cases/{case_no}/sign", json={}, headers=lead)).is_success
    r = await routing.post(f"/api/v1/cases/{case_no}/reply", json=REPLY, headers=lead)
    assert r.status_code == 409
    assert r.json()["owing"] == ["GZ-CGJ", "GZ-GHZY"]
    assert "GZ-CGJ" in r.json()["detail"]

    shown = (await intake.get(f"/api/v1/cases/{case_no}", headers=planning)).json()
    assert shown["applicant"]["phone"] == "13800138001"  # in clear while its opinion is owed
    tasks = {t["department"]: t for t in shown["assists"]}
    assert {d: t["status"] for d, t in tasks.items()} == {"GZ-CGJ": "open", "GZ-GHZY": "open"}
    assert tasks["GZ-GHZY"]["due_at"] is not None

    opinion = {"opinion": "经查,该房屋1992年违章已处罚结案,可出具处理证明"}
    r = await routing.post(f"/api/v1/cases/{case_no}/assist", json=opinion, headers=planning)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["answered_on_time"]) == ("answered", True)
    again = await routing.post(f"/api/v1/cases/{case_no}/assist", json=opinion, headers=planning)
    assert again.status_code == 409
    stranger = await make_key("department", "GZ-RSJ")
    r = await routing.post(f"/api/v1/cases/{case_no}/assist", json=opinion, headers=stranger)
    assert r.status_code == 404
    shown = (await intake.get(f"/api/v1/cases/{case_no}", headers=planning)).json()
    assert shown["applicant"]["phone"] != "13800138001"  # its part is done: masked again

    r = await routing.post(f"/api/v1/cases/{case_no}/reply", json=REPLY, headers=lead)
    assert r.status_code == 409
    assert r.json()["owing"] == ["GZ-CGJ"]
    waive = {"reason": "城管部门已口头确认,不再等待书面意见"}
    r = await routing.post(
        f"/api/v1/cases/{case_no}/assists/GZ-CGJ/waive", json=waive, headers=lead
    )
    assert r.status_code == 403  # a coordinator's call
    coordinator = await make_key("coordinator")
    r = await routing.post(
        f"/api/v1/cases/{case_no}/assists/GZ-CGJ/waive", json=waive, headers=coordinator
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "waived"
    r = await routing.post(f"/api/v1/cases/{case_no}/reply", json=REPLY, headers=lead)
    assert r.status_code == 200, r.text

    seen = (await intake.get(f"/api/v1/cases/{case_no}", headers=lead)).json()
    assert [(t["department"], t["status"]) for t in seen["assists"]] == [
        ("GZ-GHZY", "answered"),
        ("GZ-CGJ", "waived"),
    ] or [(t["department"], t["status"]) for t in seen["assists"]] == [
        ("GZ-CGJ", "waived"),
        ("GZ-GHZY", "answered"),
    ]
    assert (
        next(t for t in seen["assists"] if t["department"] == "GZ-GHZY")["opinion"]
        == (opinion["opinion"])
    )
    assert seen["assists_owed"] == []


async def test_the_lead_or_a_coordinator_asks_one_more_department(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
) -> None:
    case_no = await routed(intake, routing, make_key)
    lead = await make_key("department", "GZ-BDC")
    ask = {"department": "GZ-RSJ", "reason": "涉及社保缴费记录"}
    path = f"/api/v1/cases/{case_no}/co-departments"
    other = await make_key("department", "GZ-GHZY")
    assert (await routing.post(path, json=ask, headers=other)).status_code == 403
    r = await routing.post(path, json=ask, headers=lead)
    assert r.status_code == 201, r.text
    assert (r.json()["department"], r.json()["status"]) == ("GZ-RSJ", "open")
    assert (await routing.post(path, json=ask, headers=lead)).status_code == 409
    itself = {"department": "GZ-BDC", "reason": "自己"}
    r = await routing.post(path, json=itself, headers=lead)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["department"]
    unknown = {"department": "NOPE", "reason": "不存在"}
    assert (await routing.post(path, json=unknown, headers=lead)).status_code == 422
    shown = (await intake.get(f"/api/v1/cases/{case_no}", headers=lead)).json()
    assert shown["assists_owed"] == ["GZ-CGJ", "GZ-GHZY", "GZ-RSJ"]
    assert "GZ-RSJ" in shown["co_departments"]


async def test_an_opinion_owed_past_its_time_cards_its_department_once(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    case_no = await routed(intake, routing, make_key)
    lead = await make_key("department", "GZ-BDC")
    shown = (await intake.get(f"/api/v1/cases/{case_no}", headers=lead)).json()
    due = datetime.fromisoformat(shown["assists"][0]["due_at"])
    handle_due = datetime.fromisoformat(shown["deadlines"]["handle_due_at"])
    assert due < handle_due  # half the handling time, by default

    assert (await run_sweep(sessionmaker, now=due - timedelta(seconds=1))).assists_overdue == 0
    assert (await run_sweep(sessionmaker, now=due + timedelta(seconds=1))).assists_overdue == 2
    assert (await run_sweep(sessionmaker, now=due + timedelta(hours=2))).assists_overdue == 0
    async with sessionmaker() as session:
        cards = list(await session.scalars(select(Card).where(Card.deadline == "assist")))
    assert sorted((c.department, c.colour, c.points) for c in cards) == [
        ("GZ-CGJ", "yellow", 1),
        ("GZ-GHZY", "yellow", 1),
    ]
    shown = (await intake.get(f"/api/v1/cases/{case_no}", headers=lead)).json()
    assert {t["status"] for t in shown["assists"]} == {"open"}  # still owed
    assert all(t["overdue_at"] for t in shown["assists"])
    carded = [
        e
        for e in shown["history"]
        if e["action"] == "yellow_card" and e["data"]["deadline"] == "assist"
    ]
    assert sorted(e["data"]["department"] for e in carded) == ["GZ-CGJ", "GZ-GHZY"]
