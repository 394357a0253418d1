"""提级 (issue 28 #3): a threshold of the rule table crossed raises a case one level, exactly
once; the level's unit issues a 督办单 and whoever is on duty for it (or the unit above) is
told; the escalated cases are listed by level."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import years
from services.clock.deadlines import add
from services.sla.runner import run_sweep
from shared.database import transaction
from shared.durations import parse_duration
from shared.models import Escalation, Supervision
from shared.timeutil import to_shanghai
from tests.helpers.cases import stored_case
from tests.helpers.clock import TEST_NOW, ManualClock
from tests.helpers.keys import KeyFactory
from tests.helpers.rules import SAMPLE_TABLE
from tests.helpers.supervision import actions, messages, street_case

UNSATISFIED = {"satisfaction": "unsatisfied", "comment": "还是没解决"}


def shift(name: str, duty: str, phone: str) -> dict[str, Any]:
    """A whole day's shift (a `to` at its `from` ends the next day) on the test clock's day,
    whatever hour the suite is run at."""
    day = f"{to_shanghai(TEST_NOW):%Y-%m-%d}"
    return {"date": day, "from": "00:00", "to": "00:00", "name": name, "duty": duty, "phone": phone}


async def reopen(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, case_no: str, keys: dict[str, Any]
) -> None:
    """Signed, answered, rated unsatisfied and, on review, redone: 重办 once."""
    for step, body in (("sign", {}), ("reply", {"reply": "已按政策答复"})):
        r = await routing.post(f"/api/v1/cases/{case_no}/{step}", json=body, headers=keys["lead"])
        assert r.status_code == 200, r.text
    r = await intake.post(
        f"/api/v1/cases/{case_no}/feedback", json=UNSATISFIED, headers=keys["window"]
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rating_review"
    r = await routing.post(
        f"/api/v1/cases/{case_no}/rating-review",
        json={"decision": "reopen", "reason": "答复未回应诉求"},
        headers=keys["coordinator"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "reopened"


async def test_reopened_twice_escalates_once_to_its_district_and_tells_its_duty(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = await make_key("admin")
    roster = {"shifts": [shift("李科长", "chief", "13900139001")]}
    r = await routing.put("/api/v1/duty/YX-ZWFW", json=roster, headers=admin)
    assert r.status_code == 200, r.text
    case_no = await street_case(intake, routing, make_key)
    keys = {
        "lead": await make_key("department", "YX-BJJD"),
        "window": await make_key("window", "YX-BJJD"),
        "coordinator": await make_key("coordinator"),
    }
    await reopen(intake, routing, case_no, keys)
    assert (await run_sweep(sessionmaker, now=TEST_NOW)).escalations == 0  # once is not twice
    await reopen(intake, routing, case_no, keys)
    assert (await run_sweep(sessionmaker, now=TEST_NOW)).escalations == 1
    assert (await run_sweep(sessionmaker, now=TEST_NOW + timedelta(hours=1))).escalations == 0

    coordinator = await make_key("coordinator", "YX-ZWFW")
    shown = (await intake.get(f"/api/v1/cases/{case_no}", headers=coordinator)).json()
    assert shown["escalation_level"] == "district"
    (raised,) = shown["escalations"]
    assert (raised["level"], raised["from_level"], raised["unit"]) == (
        "district",
        "street",
        "YX-ZWFW",
    )
    assert (raised["reason"], raised["count"], raised["department"]) == ("reopened", 2, "YX-BJJD")
    assert raised["order_no"].startswith("DB-")
    (order,) = shown["supervisions"]
    assert (order["order_no"], order["source"], order["level"]) == (
        raised["order_no"],
        "escalation",
        "district",
    )
    assert (order["issuing_unit"], order["department"]) == ("YX-ZWFW", "YX-BJJD")

    steps = [e.action for e in await actions(sessionmaker, case_no)]
    assert "supervised" not in steps  # the one `escalated` row names the order
    escalated = [e for e in await actions(sessionmaker, case_no) if e.action == "escalated"]
    assert len(escalated) == 1
    assert escalated[0].data["order_no"] == raised["order_no"]
    assert escalated[0].data["told"] == [{"unit": "YX-ZWFW", "name": "李科长", "duty": "chief"}]
    texts = [t for t in await messages(sessionmaker, "staff.sms") if t["event"] == "escalated"]
    assert len(texts) == 1
    assert "提级" in texts[0]["text"]
    assert "13900139001" not in str(texts)  # the shift, not its number

    listed = await intake.get("/api/v1/cases?escalated=true&level=district", headers=coordinator)
    assert [c["case_no"] for c in listed.json()["items"]] == [case_no]
    other = await make_key("coordinator", "PY-ZWFW")
    listed = await intake.get("/api/v1/cases?escalated=true", headers=other)
    assert listed.json()["items"] == []
    assert (await intake.get(f"/api/v1/cases/{case_no}", headers=other)).status_code == 403
    city = await intake.get("/api/v1/cases?escalated=true&level=city", headers=admin)
    assert city.json()["items"] == []
    plain = await intake.get("/api/v1/cases?escalated=false", headers=coordinator)
    assert case_no not in [c["case_no"] for c in plain.json()["items"]]

    figures = (await routing.get("/api/v1/stats/supervision", headers=coordinator)).json()
    assert figures["escalations"] == 1
    assert {c["level"]: c["count"] for c in figures["by_level"]}["district"] == 1
    assert {c["reason"]: c["count"] for c in figures["by_reason"]}["reopened"] == 1
    assert [(d["department"], d["escalations"], d["issued"]) for d in figures["departments"]] == [
        ("YX-BJJD", 1, 1)
    ]
    month = f"{to_shanghai(TEST_NOW):%Y-%m}"
    book = await routing.get(
        "/api/v1/reports/monthly",
        params={"month": month, "format": "xlsx"},
        headers=await make_key("supervisor"),
    )
    sheet = load_workbook(BytesIO(book.content))["督办与提级"]
    raised_rows = {
        (row[1], row[8]) for row in sheet.iter_rows(values_only=True) if row[0] == "提级"
    }
    assert ("区级", 1) in raised_rows
    assert ("市级", 0) in raised_rows


async def test_nobody_on_duty_in_the_district_tells_the_city(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = await make_key("admin")
    roster = {"shifts": [shift("张处长", "leader", "13900139002")]}
    r = await routing.put("/api/v1/duty/GZ-ZWFW", json=roster, headers=admin)
    assert r.status_code == 200, r.text
    case_no = await street_case(intake, routing, make_key)
    keys = {
        "lead": await make_key("department", "YX-BJJD"),
        "window": await make_key("window", "YX-BJJD"),
        "coordinator": await make_key("coordinator"),
    }
    await reopen(intake, routing, case_no, keys)
    await reopen(intake, routing, case_no, keys)
    assert (await run_sweep(sessionmaker, now=TEST_NOW)).escalations == 1
    (escalated,) = [e for e in await actions(sessionmaker, case_no) if e.action == "escalated"]
    assert escalated.data["escalation"]["unit"] == "YX-ZWFW"
    assert escalated.data["told"] == [{"unit": "GZ-ZWFW", "name": "张处长", "duty": "leader"}]


async def test_overdue_by_the_threshold_raises_a_district_case_to_the_city(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> None:
    case_no = await street_case(intake, routing, make_key)
    coordinator = await make_key("coordinator")
    r = await routing.post(
        f"/api/v1/cases/{case_no}/transfer",
        json={"to_department": "YX-ZJJ", "reason": "住建事项"},
        headers=coordinator,
    )
    assert r.status_code == 200, r.text
    lead = await make_key("department", "YX-ZJJ")
    r = await routing.post(f"/api/v1/cases/{case_no}/sign", json={}, headers=lead)
    assert r.status_code == 200, r.text
    due = (await stored_case(sessionmaker, case_no)).handle_due_at
    assert due is not None
    async with transaction(sessionmaker) as session:
        calendar = await years.load(session)
    at = add(due, parse_duration("3 working_days"), calendar)

    assert (await run_sweep(sessionmaker, now=at - timedelta(seconds=1))).escalations == 0
    assert (await run_sweep(sessionmaker, now=at)).escalations == 1
    assert (await run_sweep(sessionmaker, now=at + timedelta(days=3))).escalations == 0
    async with sessionmaker() as session:
        (raised,) = await session.scalars(select(Escalation))
        order = await session.get(Supervision, raised.supervision_id)
    assert (raised.reason, raised.from_level, raised.level) == ("overdue", "district", "city")
    assert raised.unit == "GZ-ZWFW"
    assert order is not None
    assert (order.level, order.issuing_unit, order.department) == ("city", "GZ-ZWFW", "YX-ZJJ")
    clock.set(at)
    shown = await intake.get(f"/api/v1/cases/{case_no}", headers=coordinator)
    assert shown.json()["escalation_level"] == "city"


async def test_thresholds_are_the_rule_tables_and_each_crosses_once(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A table with `transferred: 2`: the second transfer raises the street's case to its
    district, the third raises nothing more for transfers; a repeat threshold off (null)
    never fires."""
    table = {**SAMPLE_TABLE, "escalation": {"transferred": 2, "repeats": None}}
    case_no = await street_case(intake, routing, make_key, table)
    coordinator = await make_key("coordinator")
    for target in ("YX-ZJJ", "YX-DSJD", "YX-BJJD"):
        r = await routing.post(
            f"/api/v1/cases/{case_no}/transfer",
            json={"to_department": target, "reason": "转办"},
            headers=coordinator,
        )
        assert r.status_code == 200, r.text
        await run_sweep(sessionmaker, now=TEST_NOW)
    async with sessionmaker() as session:
        rows = list(await session.scalars(select(Escalation).order_by(Escalation.id)))
        orders = await session.scalar(select(func.count()).select_from(Supervision))
    assert [(e.reason, e.count, e.level) for e in rows] == [("transferred", 2, "district")]
    assert orders == 1
