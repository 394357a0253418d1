"""值班 (issue 28 #4): an urgent case registered outside office hours texts whoever is on duty
for its department, once; a unit's handover lists what its shift leaves open."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.runner import run_sweep
from shared.timeutil import to_shanghai
from tests.helpers.bodies import case_body
from tests.helpers.clock import TEST_NOW, ManualClock
from tests.helpers.keys import KeyFactory
from tests.helpers.rules import publish
from tests.helpers.supervision import actions, messages, street_case

WEDNESDAY_NIGHT = datetime.fromisoformat("2026-11-18T21:30:00+08:00")
WEDNESDAY_MORNING = datetime.fromisoformat("2026-11-18T10:00:00+08:00")
SATURDAY = datetime.fromisoformat("2026-11-21T11:00:00+08:00")


def whole_day(moment: datetime, name: str, phone: str) -> dict[str, Any]:
    day = f"{to_shanghai(moment):%Y-%m-%d}"
    return {
        "date": day,
        "from": "00:00",
        "to": "00:00",
        "name": name,
        "duty": "chief",
        "phone": phone,
    }


async def register_urgent(
    intake: httpx.AsyncClient, window: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    r = await intake.post("/api/v1/cases", json=case_body(urgent=True, **overrides), headers=window)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "assigned"
    return dict(r.json())


async def test_an_urgent_case_after_hours_texts_whoever_is_on_duty_once(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> None:
    admin = await make_key("admin")
    await publish(routing, admin)
    window = await make_key("window", "GZ-BDC")
    for moment in (WEDNESDAY_NIGHT, SATURDAY, WEDNESDAY_MORNING):
        clock.set(moment)
        probe = await register_urgent(
            intake, window, applicant={"name": "甲", "phone": "13800138009"}
        )
        lead = probe["lead_department"]
        roster = {"shifts": [whole_day(moment, "陈值班", "13900139003")]}
        assert (await routing.put(f"/api/v1/duty/{lead}", json=roster, headers=admin)).is_success
        urgent = await register_urgent(intake, window)
        calm = await intake.post("/api/v1/cases", json=case_body(), headers=window)
        told = [
            e.data["told"]
            for e in await actions(sessionmaker, urgent["case_no"])
            if e.action == "urgent_after_hours"
        ]
        quiet = [
            e
            for e in await actions(sessionmaker, calm.json()["case_no"])
            if e.action == "urgent_after_hours"
        ]
        assert quiet == []
        texts = [
            t
            for t in await messages(sessionmaker, "staff.sms")
            if t["case_no"] == urgent["case_no"]
        ]
        if moment is WEDNESDAY_MORNING:
            assert (told, texts) == ([], [])  # office hours: the hall is open, nobody is paged
        else:
            assert told == [[{"unit": lead, "name": "陈值班", "duty": "chief"}]]
            assert [t["event"] for t in texts] == ["urgent_after_hours"]
            assert "13900139003" not in str(texts)  # the shift, not its number


async def test_the_handover_lists_what_the_shift_leaves_open_in_the_unit(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = await make_key("admin")
    roster = {"shifts": [whole_day(TEST_NOW, "李科长", "13900139001")]}
    assert (await routing.put("/api/v1/duty/YX-ZWFW", json=roster, headers=admin)).is_success
    case_no = await street_case(intake, routing, make_key)
    order = await routing.post(
        f"/api/v1/cases/{case_no}/supervise",
        json={"reason": "请尽快办理", "respond_within": "4 working_hours"},
        headers=await make_key("coordinator"),
    )
    assert order.status_code == 201, order.text
    due = datetime.fromisoformat(order.json()["due_at"])
    assert (await run_sweep(sessionmaker, now=due + timedelta(minutes=1))).orders_overdue == 1

    district = await make_key("coordinator", "YX-ZWFW")
    day = f"{due:%Y-%m-%d}"
    r = await routing.get(f"/api/v1/duty/YX-ZWFW/handover?date={day}", headers=district)
    assert r.status_code == 200, r.text
    (listed,) = r.json()["overdue_orders"]
    assert (listed["order_no"], listed["case_no"]) == (order.json()["order_no"], case_no)
    street = await routing.get(f"/api/v1/duty/YX-BJJD/handover?date={day}", headers=district)
    assert [o["case_no"] for o in street.json()["overdue_orders"]] == [case_no]
    other = await routing.get(f"/api/v1/duty/YX-DSJD/handover?date={day}", headers=district)
    assert other.json()["overdue_orders"] == []
    before = f"{due - timedelta(days=7):%Y-%m-%d}"
    r = await routing.get(f"/api/v1/duty/YX-ZWFW/handover?date={before}", headers=district)
    assert r.json()["overdue_orders"] == []

    elsewhere = await make_key("coordinator", "PY-ZWFW")
    r = await routing.get(f"/api/v1/duty/YX-ZWFW/handover?date={day}", headers=elsewhere)
    assert r.status_code == 403
    r = await routing.get(
        "/api/v1/duty/YX-ZWFW/handover", headers=await make_key("window", "YX-BJJD")
    )
    assert r.status_code == 403
    r = await routing.get("/api/v1/duty/NOPE/handover", headers=admin)
    assert r.status_code == 404
