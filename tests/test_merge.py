"""并单 (issue 30 #2): merged cases follow the lead case (department, clock, reply); the lead's
reply reaches every merged applicant once, each rating on their own; a breach cards the lead
alone; unmerge before the reply, 409 after; `similar` shows another hall's applicant masked."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.runner import run_sweep
from shared.database import transaction
from shared.models import Card, Case, Notice
from shared.timeutil import SHANGHAI
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock
from tests.helpers.keys import KeyFactory
from tests.helpers.notices import Phone, deliver

pytestmark = pytest.mark.usefixtures("sample_departments")

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
PHONES = ("13800138001", "13800138002", "13800138003")


async def three_callers(intake: httpx.AsyncClient, window: dict[str, str]) -> list[str]:
    nos = []
    for phone in PHONES:
        body = {**ESTATE, "applicant": {"name": None, "phone": phone, "type": "individual"}}
        r = await intake.post("/api/v1/cases", json=body, headers=window)
        assert r.status_code == 201, r.text
        nos.append(r.json()["case_no"])
    return nos


async def merge(
    routing: httpx.AsyncClient, lead: str, nos: list[str], headers: dict[str, str]
) -> httpx.Response:
    return await routing.post(
        f"/api/v1/cases/{lead}/merge",
        json={"case_nos": nos, "reason": "同一抵押注销问题,同一部门办理"},
        headers=headers,
    )


async def test_a_group_is_carded_once_answered_once_and_each_applicant_rates_alone(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_key: KeyFactory,
) -> None:
    clock.set(MONDAY)
    lead, second, third = await three_callers(intake, keys["window"])
    r = await merge(routing, lead, [second, third], keys["coordinator"])
    assert r.status_code == 200, r.text
    assert r.json()["lead"]["merged_count"] == 2
    assert [(c["status"], c["merged_into"]) for c in r.json()["cases"]] == [
        ("merged", lead),
        ("merged", lead),
    ]
    follower = (await intake.get(f"/api/v1/cases/{second}", headers=keys["window"])).json()
    assert (follower["status_label"], follower["allowed_actions"]) == ("已并案办理", ["unmerge"])
    assert follower["deadlines"]["handle_due_at"] is None  # the lead's clock is the group's
    signed = await routing.post(f"/api/v1/cases/{second}/sign", json={}, headers=keys["bdc"])
    assert (signed.status_code, signed.json()["current_status"]) == (409, "merged")

    # Nobody signs: one sign card, the lead's, not one per caller.
    async with sessionmaker() as session:
        sign_due = await session.scalar(select(Case.sign_due_at).where(Case.case_no == lead))
    assert sign_due is not None
    swept = await run_sweep(sessionmaker, now=sign_due + timedelta(seconds=1))
    assert swept.yellow == 1
    async with sessionmaker() as session:
        carded = (
            await session.scalars(
                select(Case.case_no)
                .join(Card, Card.case_id == Case.id)
                .where(Card.deadline == "sign")
            )
        ).all()
    assert carded == [lead]

    clock.set(sign_due + timedelta(hours=1))
    phone = Phone()
    await deliver(sessionmaker, phone, clock)
    before = len(phone.sent)
    for step, body in (("sign", {}), ("reply", {"reply": "已为三位申请人统一办理抵押注销"})):
        r = await routing.post(f"/api/v1/cases/{lead}/{step}", json=body, headers=keys["bdc"])
        assert r.status_code == 200, r.text
    await deliver(sessionmaker, phone, clock)
    replied = [(to, text) for to, text in phone.sent[before:] if "已答复" in text]
    assert sorted(to for to, _ in replied) == sorted(PHONES)  # each applicant, once
    assert all("已为三位申请人统一办理抵押注销" in text for _, text in replied)
    async with sessionmaker() as session:
        codes = (
            await session.scalars(
                select(Case.reply_code).where(Case.case_no.in_([lead, second, third]))
            )
        ).all()
        kept = await session.scalar(
            select(func.count()).select_from(Notice).where(Notice.event == "replied")
        )
    assert None not in codes  # each asked to rate with a code of its own
    assert kept == 3

    for no, rating, status in (
        (second, "satisfied", "closed"),
        (third, "unsatisfied", "rating_review"),
        (lead, "basically_satisfied", "closed"),
    ):
        r = await intake.post(
            f"/api/v1/cases/{no}/feedback", json={"satisfaction": rating}, headers=keys["window"]
        )
        assert (r.status_code, r.json()["status"]) == (200, status), r.text
    late = await routing.post(
        f"/api/v1/cases/{lead}/unmerge",
        json={"case_nos": [third], "reason": "另案处理"},
        headers=keys["coordinator"],
    )
    assert (late.status_code, late.json()["current_status"]) == (409, "rating_review")

    dashboard = await make_key("dashboard")
    summary = (await routing.get("/api/v1/stats/summary", headers=dashboard)).json()
    assert (summary["received"], summary["merged"], summary["matters"]) == (3, 2, 1)
    month = f"{MONDAY:%Y-%m}"
    report = await routing.get(
        "/api/v1/reports/monthly", params={"month": month, "format": "xlsx"}, headers=dashboard
    )
    book = load_workbook(BytesIO(report.content))
    overview = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=3, values_only=True)}
    assert (overview["受理总量"], overview["诉求事项(并单后)"], overview["并单件数"]) == (3, 1, 2)


async def test_unmerge_before_the_reply_assigns_the_case_again(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock.set(MONDAY)
    lead, second, _ = await three_callers(intake, keys["window"])
    assert (await merge(routing, lead, [second], keys["coordinator"])).status_code == 200
    # The lead changes hands: its follower with it.
    r = await routing.post(
        f"/api/v1/cases/{lead}/transfer",
        json={"to_department": "GZ-GHZY", "reason": "历史资料在规划部门"},
        headers=keys["coordinator"],
    )
    assert r.status_code == 200, r.text
    follower = (await intake.get(f"/api/v1/cases/{second}", headers=keys["window"])).json()
    assert follower["lead_department"] == "GZ-GHZY"
    clock.set(MONDAY + timedelta(hours=2))
    r = await routing.post(
        f"/api/v1/cases/{lead}/unmerge",
        json={"case_nos": [second], "reason": "该户另涉物业纠纷"},
        headers=keys["coordinator"],
    )
    assert r.status_code == 200, r.text
    out = r.json()["cases"][0]
    assert (out["status"], out.get("merged_into"), r.json()["lead"]["merged_count"]) == (
        "assigned",
        None,
        0,
    )
    assert out["deadlines"]["sign_due_at"] is not None  # a new assignment: signing from now
    assert out["deadlines"]["handle_due_at"] is not None  # the clock its routing started
    async with sessionmaker() as session:
        next_check = await session.scalar(
            select(Case.sla_next_check_at).where(Case.case_no == second)
        )
    assert next_check is not None
    signed = await routing.post(f"/api/v1/cases/{second}/sign", json={}, headers=keys["ghzy"])
    assert signed.status_code == 200


async def test_what_a_merge_refuses(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    make_key: KeyFactory,
) -> None:
    clock.set(MONDAY)
    lead, second, third = await three_callers(intake, keys["window"])
    for who in ("window", "bdc"):
        assert (await merge(routing, lead, [second], keys[who])).status_code == 403, who
    elsewhere = await make_key("coordinator", "PY-ZWFW")
    assert (await merge(routing, lead, [second], elsewhere)).status_code == 403
    itself = await merge(routing, lead, [lead], keys["coordinator"])
    assert (itself.status_code, itself.json()["errors"][0]["field"]) == (422, "case_nos")
    unknown = await merge(routing, lead, ["GZ-20261123-999999"], keys["coordinator"])
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "case_nos")
    empty = await merge(routing, lead, [], keys["coordinator"])
    assert empty.status_code == 422
    assert (await merge(routing, lead, [second], keys["coordinator"])).status_code == 200
    again = await merge(routing, third, [second], keys["coordinator"])
    assert again.status_code == 409  # in a group already
    follower_leads = await merge(routing, second, [third], keys["coordinator"])
    assert follower_leads.status_code == 409  # a follower leads no group
    for step, body in (("sign", {}), ("reply", {"reply": "已办理"})):
        await routing.post(f"/api/v1/cases/{third}/{step}", json=body, headers=keys["bdc"])
    answered = await merge(routing, lead, [third], keys["coordinator"])
    assert (answered.status_code, answered.json()["current_status"]) == (409, "replied")


async def test_similar_cases_show_another_halls_applicant_masked(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ours, theirs = await make_key("window", "GZ-BDC"), await make_key("window", "GZ-SWJ")
    body = {
        **ESTATE,
        "intake_department": None,
        "district": "越秀区",
        "category": "materials",
    }
    mine = (
        await intake.post(
            "/api/v1/cases",
            json={**body, "applicant": {"name": "黄丽华", "phone": "13800138001"}},
            headers=ours,
        )
    ).json()["case_no"]
    other = (
        await intake.post(
            "/api/v1/cases",
            json={**body, "applicant": {"name": "陈建国", "phone": "13900139001"}},
            headers=theirs,
        )
    ).json()["case_no"]
    elsewhere = (
        await intake.post(
            "/api/v1/cases",
            json={**body, "district": "天河区", "applicant": {"phone": "13700137001"}},
            headers=theirs,
        )
    ).json()["case_no"]
    async with transaction(sessionmaker) as session:
        await session.execute(update(Case).values(keywords=["抵押", "注销", "登记"]))
    r = await intake.get(f"/api/v1/cases/{mine}/similar", headers=ours)
    assert r.status_code == 200, r.text
    (found,) = r.json()["items"]  # not the 天河区 case, not itself
    assert found["case_no"] == other
    assert elsewhere != other
    assert found["applicant"]["phone"] != "13900139001"
    assert "13900139001" not in r.text
    assert "陈建国" not in r.text
    assert "phone" in found["masked"]
    coordinator = await make_key("coordinator")
    clear = (await intake.get(f"/api/v1/cases/{mine}/similar", headers=coordinator)).json()
    assert clear["items"][0]["applicant"]["phone"] == "13900139001"
    department = await make_key("department", "GZ-BDC")
    assert (
        await intake.get(f"/api/v1/cases/{mine}/similar", headers=department)
    ).status_code == 403
