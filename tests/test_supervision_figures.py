"""督办与提级 in figures (issue 28 #5): orders by how they stand and escalations by level and
reason, per department; a unit's figures are its subtree's and sum to their parts; the
monthly report carries them as JSON and as a sheet."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.runner import run_sweep
from shared.timeutil import to_shanghai
from tests.helpers.clock import TEST_NOW, ManualClock
from tests.helpers.keys import KeyFactory
from tests.helpers.supervision import street_case

ORDER = {"reason": "请于时限内反馈", "respond_within": "1 working_days"}
COUNTS = ("issued", "answered_on_time", "answered_late", "open", "overdue")


async def test_figures_by_department_and_unit_sum_to_their_parts(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> None:
    coordinator = await make_key("coordinator")
    answered, late, waiting = [
        await street_case(intake, routing, make_key, published=i > 0) for i in range(3)
    ]
    r = await routing.post(
        f"/api/v1/cases/{waiting}/transfer",
        json={"to_department": "YX-ZJJ", "reason": "住建事项"},
        headers=coordinator,
    )
    assert r.status_code == 200, r.text
    orders: dict[str, dict[str, Any]] = {}
    for case_no in (answered, late, waiting):
        r = await routing.post(
            f"/api/v1/cases/{case_no}/supervise", json=ORDER, headers=coordinator
        )
        assert r.status_code == 201, r.text
        orders[case_no] = r.json()
    street = await make_key("department", "YX-BJJD")
    respond = f"/api/v1/supervisions/{orders[answered]['id']}/respond"
    assert (await routing.post(respond, json={"progress": "已办"}, headers=street)).is_success
    due = datetime.fromisoformat(orders[late]["due_at"])
    # The sweep runs past the late order's time (the waiting one falls overdue too), then
    # the late one is answered.
    await run_sweep(sessionmaker, now=due + timedelta(minutes=1))
    clock.set(due + timedelta(hours=1))
    respond = f"/api/v1/supervisions/{orders[late]['id']}/respond"
    assert (await routing.post(respond, json={"progress": "已办"}, headers=street)).is_success

    supervisor = await make_key("supervisor")
    day = f"{to_shanghai(TEST_NOW):%Y-%m-%d}"
    period = {"date_from": day, "date_to": day}

    async def read(unit: str | None = None, key: dict[str, str] = supervisor) -> Any:
        params = {**period, **({"unit": unit} if unit else {})}
        r = await routing.get("/api/v1/stats/supervision", params=params, headers=key)
        assert r.status_code == 200, r.text
        return r.json()

    city = await read()
    assert {k: city["orders"][k] for k in COUNTS} == {
        "issued": 3,
        "answered_on_time": 1,
        "answered_late": 1,
        "open": 0,
        "overdue": 1,
    }
    assert city["orders"]["on_time_rate"] == 33.3
    rows = {d["department"]: d for d in city["departments"]}
    assert {code: rows[code]["issued"] for code in rows} == {"YX-BJJD": 2, "YX-ZJJ": 1}
    for k in COUNTS:  # the city's totals are the sum of its departments'
        assert city["orders"][k] == sum(d[k] for d in city["departments"])

    district = await read("YX-ZWFW")
    parts = [await read("YX-BJJD"), await read("YX-ZJJ"), await read("YX-DSJD")]
    for k in COUNTS:  # a unit's figures are the sum of its parts'
        assert district["orders"][k] == sum(p["orders"][k] for p in parts)
    assert district["orders"]["issued"] == 3
    assert (await read("PY-ZWFW"))["orders"]["issued"] == 0

    own = await read(key=await make_key("coordinator", "YX-BJJD"))
    assert own["orders"]["issued"] == 2
    elsewhere = await make_key("supervisor", "PY-ZWFW")
    r = await routing.get(
        "/api/v1/stats/supervision", params={"unit": "YX-ZWFW"}, headers=elsewhere
    )
    assert r.status_code == 403

    month = f"{to_shanghai(TEST_NOW):%Y-%m}"
    report = await routing.get(
        "/api/v1/reports/monthly", params={"month": month}, headers=supervisor
    )
    assert report.json()["supervision"]["orders"]["issued"] == 3
    book = await routing.get(
        "/api/v1/reports/monthly", params={"month": month, "format": "xlsx"}, headers=supervisor
    )
    sheet = load_workbook(BytesIO(book.content))["督办与提级"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["督办单", None, 3, 1, 1, 0, 1, 33.3, 0] in cells
    assert any(row[0] == "YX-BJJD" and row[2] == 2 for row in cells)
