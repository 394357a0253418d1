"""值班 (issue 28 #4, the roster): a unit's shifts kept by its coordinator, and who is on duty
now, walking up the tree when a unit has nobody; staff phones only for those who call them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from shared.timeutil import SHANGHAI
from tests.helpers.clock import ManualClock
from tests.helpers.keys import KeyFactory


def shift(day: str, starts: str, ends: str, name: str, duty: str = "leader") -> dict[str, Any]:
    return {
        "date": day,
        "from": starts,
        "to": ends,
        "name": name,
        "duty": duty,
        "phone": "13800138000",
    }


async def test_a_units_coordinator_keeps_its_subtrees_rosters(
    routing: httpx.AsyncClient, make_key: KeyFactory, sample_departments: None
) -> None:
    district = await make_key("coordinator", "YX-ZWFW")
    roster = {"shifts": [shift("2026-12-07", "08:30", "17:30", "王主任")]}
    r = await routing.put("/api/v1/duty/YX-BJJD", json=roster, headers=district)
    assert r.status_code == 200, r.text
    assert r.json() == {"unit": "YX-BJJD", "dates": ["2026-12-07"], "shifts": 1}
    r = await routing.put("/api/v1/duty/PY-ZWFW", json=roster, headers=district)
    assert r.status_code == 403
    for role in ("supervisor", "window", "dashboard"):
        r = await routing.put("/api/v1/duty/YX-BJJD", json=roster, headers=await make_key(role))
        assert r.status_code == 403, role
    r = await routing.put("/api/v1/duty/PY-ZWFW", json=roster, headers=await make_key("admin"))
    assert r.status_code == 200
    r = await routing.put("/api/v1/duty/NOPE", json=roster, headers=await make_key("admin"))
    assert r.status_code == 404


async def test_a_day_is_replaced_whole_and_phones_are_for_those_who_call(
    routing: httpx.AsyncClient, make_key: KeyFactory, sample_departments: None
) -> None:
    coordinator = await make_key("coordinator")
    two = {
        "shifts": [
            shift("2026-12-07", "08:30", "17:30", "王主任"),
            shift("2026-12-07", "17:30", "08:30", "李科长", "chief"),
        ]
    }
    await routing.put("/api/v1/duty/YX-ZWFW", json=two, headers=coordinator)
    day = (await routing.get("/api/v1/duty/YX-ZWFW?date=2026-12-07", headers=coordinator)).json()
    assert [(s["name"], s["starts_at"], s["ends_at"], s["phone"]) for s in day["shifts"]] == [
        ("王主任", "2026-12-07T08:30:00+08:00", "2026-12-07T17:30:00+08:00", "13800138000"),
        # a night shift ends the next morning
        ("李科长", "2026-12-07T17:30:00+08:00", "2026-12-08T08:30:00+08:00", "13800138000"),
    ]
    seen = await routing.get(
        "/api/v1/duty/YX-ZWFW?date=2026-12-07", headers=await make_key("supervisor")
    )
    assert [s["phone"] for s in seen.json()["shifts"]] == ["138****8000", "138****8000"]
    one = {"shifts": [shift("2026-12-07", "09:00", "18:00", "赵处长")]}
    await routing.put("/api/v1/duty/YX-ZWFW", json=one, headers=coordinator)
    day = (await routing.get("/api/v1/duty/YX-ZWFW?date=2026-12-07", headers=coordinator)).json()
    assert [s["name"] for s in day["shifts"]] == ["赵处长"]
    other = await routing.get("/api/v1/duty/YX-ZWFW?date=2026-12-08", headers=coordinator)
    assert other.json()["shifts"] == []


async def test_who_is_on_duty_walks_up_the_tree(
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    clock: ManualClock,
) -> None:
    """A street hall with nobody on duty is answered by its district's night shift, past
    midnight too; with nobody in the district either, by the city's."""
    admin = await make_key("admin")
    night = {"shifts": [shift("2026-12-07", "17:30", "08:30", "李科长", "chief")]}
    await routing.put("/api/v1/duty/YX-ZWFW", json=night, headers=admin)
    city = {"shifts": [shift("2026-12-08", "08:00", "20:00", "市值班领导")]}
    await routing.put("/api/v1/duty/GZ-ZWFW", json=city, headers=admin)
    coordinator = await make_key("coordinator")

    async def now(at: datetime) -> dict[str, Any]:
        clock.set(at)
        r = await routing.get("/api/v1/duty/now?unit=YX-BJJD", headers=coordinator)
        assert r.status_code == 200, r.text
        return dict(r.json())

    evening = await now(datetime(2026, 12, 7, 20, 0, tzinfo=SHANGHAI))
    assert (evening["answering"], [s["name"] for s in evening["shifts"]]) == ("YX-ZWFW", ["李科长"])
    dawn = await now(datetime(2026, 12, 8, 7, 0, tzinfo=SHANGHAI))
    assert dawn["answering"] == "YX-ZWFW"
    morning = await now(datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI))
    assert (morning["answering"], [s["name"] for s in morning["shifts"]]) == (
        "GZ-ZWFW",
        ["市值班领导"],
    )
    late = await now(datetime(2026, 12, 8, 22, 0, tzinfo=SHANGHAI))
    assert (late["answering"], late["shifts"]) == (None, [])
    assert late["at"] == "2026-12-08T22:00:00+08:00"


async def test_a_roster_is_refused_whole_when_a_shift_is_wrong(
    routing: httpx.AsyncClient, make_key: KeyFactory, sample_departments: None
) -> None:
    admin = await make_key("admin")
    good = shift("2026-12-07", "08:30", "17:30", "王主任")
    for bad, field in (
        ({**good, "from": "25:00"}, "shifts[1].from"),
        ({**good, "to": "08:30:15"}, "shifts[1]"),
        ({**good, "duty": "emperor"}, "shifts[1].duty"),
        ({**good, "phone": "12"}, "shifts[1].phone"),
        ({**good, "date": "1999-12-31"}, "shifts[1].date"),
        ({**good, "name": ""}, "shifts[1].name"),
        ({**good, "extra": 1}, "shifts[1].extra"),
    ):
        r = await routing.put("/api/v1/duty/YX-ZWFW", json={"shifts": [good, bad]}, headers=admin)
        assert r.status_code == 422, (bad, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, (field, r.json())
    day = await routing.get("/api/v1/duty/YX-ZWFW?date=2026-12-07", headers=admin)
    assert day.json()["shifts"] == []  # nothing half-written
    r = await routing.put("/api/v1/duty/YX-ZWFW", json={"shifts": []}, headers=admin)
    assert r.status_code == 422
