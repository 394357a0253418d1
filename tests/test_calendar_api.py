"""The calendar API: what a year looks like, loading an unknown year, recomputing open cases."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.database import transaction
from shared.timeutil import SHANGHAI
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import TEST_NOW, TEST_YEARS, stand_in_calendar
from tests.helpers.keys import KeyFactory
from tests.helpers.rules import SAMPLE_TABLE, publish

pytestmark = pytest.mark.usefixtures("sample_departments")


async def test_a_known_year(routing: httpx.AsyncClient, make_key: KeyFactory) -> None:
    body = (await routing.get("/api/v1/calendar/2026", headers=await make_key("window"))).json()
    assert (body["known"], body["source"]) == (True, "chinese-calendar")
    assert 240 <= body["working_days"] <= 255
    # The effective year, not an empty correction list that reads as "no holidays".
    assert {"2026-01-01", "2026-10-01", "2026-10-07"} <= set(body["holidays"])
    assert {"2026-02-14", "2026-10-10"} <= set(body["workdays"])  # make-up Saturdays
    national_day = next(d for d in body["days"] if d["date"] == "2026-10-01")
    assert national_day == {
        "date": "2026-10-01",
        "kind": "holiday",
        "name": "National Day",
        "source": "chinese-calendar",
    }
    assert body["operator_schedule"] == {"holidays": [], "workdays": []}
    unknown = (await routing.get("/api/v1/calendar/2031", headers=await make_key("window"))).json()
    assert (unknown["known"], unknown["working_days"]) == (False, 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"holidays": ["2027-02-30"]}, "holidays[0]"),
        ({"holidays": ["2028-01-01"]}, "holidays[0]"),
        ({"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}, "body"),
        ({"weekends": []}, "weekends"),
    ],
)
async def test_bad_years(
    routing: httpx.AsyncClient, make_key: KeyFactory, body: dict[str, list[str]], field: str
) -> None:
    r = await routing.put("/api/v1/calendar/2027", json=body, headers=await make_key("admin"))
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]


@pytest.mark.parametrize("role", ["coordinator", "supervisor", "window", "dashboard"])
async def test_only_admins_load_years(
    routing: httpx.AsyncClient, make_key: KeyFactory, role: str
) -> None:
    """Separation of duties (issue 16): a supervisor rules on appeals and reads the figures,
    so the calendar their deadlines are counted by is not theirs to change."""
    r = await routing.put("/api/v1/calendar/2027", json={}, headers=await make_key(role))
    assert r.status_code == 403


async def test_loading_an_unknown_year_sets_the_missing_deadlines(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessionmaker) as session:
        await session.execute(text("DELETE FROM calendar_years"))  # no stand-in years here
    admin, window = await make_key("admin"), await make_key("window")
    table = copy.deepcopy(SAMPLE_TABLE)
    table["sla_policies"]["standard"]["handle_within"] = (
        "400 working_days"  # reaches a year nobody knows
    )
    await publish(routing, admin, table)
    case = (await intake.post("/api/v1/cases", json=ESTATE, headers=window)).json()
    assert case["deadlines"]["handle_due_at"] is None
    assert "is not loaded" in case["routing"]["deadline_alert"]

    last = TEST_NOW.year + 2
    for year in range(TEST_NOW.year + 1, last + 1):
        r = await routing.put(
            f"/api/v1/calendar/{year}", json={"holidays": [f"{year}-01-01"]}, headers=admin
        )
        assert r.status_code == 200, r.text
        assert r.json()["source"] == "operator"
    got = (await intake.get(f"/api/v1/cases/{case['case_no']}", headers=window)).json()
    assert got["deadlines"]["handle_due_at"] is not None
    assert got["routing"]["deadline_alert"] is None
    assert got["history"][-1]["action"] == "deadlines_recomputed"


async def test_a_new_holiday_moves_open_deadlines(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    admin, window = await make_key("admin"), await make_key("window")
    await publish(routing, admin)
    case = (await intake.post("/api/v1/cases", json=ESTATE, headers=window)).json()
    before = datetime.fromisoformat(case["deadlines"]["handle_due_at"])
    # Declare the first working day of the window a holiday (an operator's correction), keeping
    # the year's other holidays (a stand-in year's New Year's Day, when the clock is near it).
    calendar = stand_in_calendar()
    start = datetime.fromisoformat(case["created_at"]).astimezone(SHANGHAI).date() + timedelta(
        days=1
    )
    while not calendar.is_workday(start):
        start += timedelta(days=1)
    kept = sorted(TEST_YEARS[start.year].holidays) if start.year in TEST_YEARS else []
    holidays = [d.isoformat() for d in [*kept, start]]
    r = await routing.put(
        f"/api/v1/calendar/{start.year}", json={"holidays": holidays}, headers=admin
    )
    assert r.json()["cases_recomputed"] == 1
    after = datetime.fromisoformat(
        (await intake.get(f"/api/v1/cases/{case['case_no']}", headers=window)).json()["deadlines"][
            "handle_due_at"
        ]
    )
    assert after > before
