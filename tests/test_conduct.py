"""作风 (issue 29 #5): cases by kind and trigger in the figures; 能办不办 (`kind: refused`) listed
for supervisors with the department and who handled it; a 问题线索 sheet in the monthly
report, masked as the report is."""

from __future__ import annotations

from io import BytesIO

import httpx
from openpyxl import load_workbook

from shared.timeutil import to_shanghai
from tests.helpers.bodies import case_body
from tests.helpers.clock import TEST_NOW
from tests.helpers.keys import IssueFactory, KeyFactory
from tests.helpers.rules import publish


async def test_refused_cases_are_followed_up_by_supervisors(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    issue: IssueFactory,
    sample_departments: None,
) -> None:
    await publish(routing, await make_key("admin"))
    window = await make_key("window", "GZ-BDC")
    refused = case_body(
        kind="refused",
        trigger="materials_refused",
        category="attitude",
        title="黄丽华的转移登记材料被窗口拒收",
    )
    numbers = []
    for body in (refused, case_body(kind="hard"), case_body()):
        r = await intake.post("/api/v1/cases", json=body, headers=window)
        assert r.status_code == 201, r.text
        numbers.append(r.json()["case_no"])
    handler = await issue("department", "GZ-BDC")
    r = await routing.post(f"/api/v1/cases/{numbers[0]}/sign", json={}, headers=handler.headers)
    assert r.status_code == 200, r.text

    supervisor = await make_key("supervisor")
    listed = await intake.get("/api/v1/cases?kind=refused", headers=supervisor)
    assert listed.status_code == 200, listed.text
    (case,) = listed.json()["items"]
    assert (case["case_no"], case["lead_department"], case["handled_by"]) == (
        numbers[0],
        "GZ-BDC",
        handler.holder,
    )
    by_window = (await intake.get("/api/v1/cases?kind=refused", headers=window)).json()["items"]
    assert [c["case_no"] for c in by_window] == [numbers[0]]
    assert "handled_by" not in by_window[0]  # a supervisor's follow-up, not the window's
    assert (await intake.get("/api/v1/cases?kind=lazy", headers=supervisor)).status_code == 422

    day = f"{to_shanghai(TEST_NOW):%Y-%m-%d}"
    figures = await routing.get(
        "/api/v1/stats/conduct", params={"date_from": day, "date_to": day}, headers=supervisor
    )
    assert figures.status_code == 200, figures.text
    kinds = {k["kind"]: k["cases"] for k in figures.json()["by_kind"]}
    assert kinds == {"refused": 1, "hard": 1, None: 1}
    triggers = {t["trigger"]: t["cases"] for t in figures.json()["by_trigger"]}
    assert triggers == {"materials_refused": 1, None: 2}
    assert [(r["department"], r["cases"]) for r in figures.json()["refused"]] == [("GZ-BDC", 1)]

    month = f"{to_shanghai(TEST_NOW):%Y-%m}"
    report = await routing.get(
        "/api/v1/reports/monthly", params={"month": month}, headers=supervisor
    )
    (lead,) = report.json()["leads"]
    assert (lead["case_no"], lead["trigger"], lead["category"]) == (
        numbers[0],
        "材料被拒收",
        "服务态度问题",
    )
    assert "黄丽华" not in (lead["title"] or "")  # masked as the report is
    assert lead["handled_by"] == handler.holder
    book = await routing.get(
        "/api/v1/reports/monthly", params={"month": month, "format": "xlsx"}, headers=supervisor
    )
    rows = list(load_workbook(BytesIO(book.content))["问题线索"].iter_rows(values_only=True))
    assert any(row[0] == numbers[0] for row in rows)
    assert not any("黄丽华" in str(cell) for row in rows for cell in row)
