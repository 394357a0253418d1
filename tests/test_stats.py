"""The published figures on a fixed data set, checked against values computed by hand."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.stats import rollup
from shared.database import transaction
from shared.models import Card, Case
from tests.helpers.cases import at, case
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")


@pytest.fixture(params=["live", "folded"])
async def data(
    request: pytest.FixtureRequest,
    sessionmaker: async_sessionmaker[AsyncSession],
    sample_departments: None,
) -> None:
    """The fixed data set; every test runs twice: counted from the cases while the days are
    dirty, and from the rollups after the worker's fold."""
    due = at(11, 15)
    async with transaction(sessionmaker) as session:
        session.add_all(
            [
                case(
                    1,
                    "closed",
                    resolution_note="当场办结",
                    satisfaction="very_satisfied",
                    resolved=True,
                ),
                case(2, "resolved_on_spot", resolution_note="当场办结"),
                case(3, "out_of_scope", referred_to="法院", explanation="民事纠纷"),
                case(
                    4,
                    "closed",
                    lead_department="GZ-BDC",
                    handle_due_at=due,
                    replied_at=at(11, 12),
                    # A lawful refusal the applicant rated badly; the review upheld it.
                    satisfaction="very_unsatisfied",
                    rating_outcome="upheld",
                    resolved=True,
                    responded=True,
                ),
                case(
                    5,
                    "reopened",
                    lead_department="GZ-BDC",
                    handle_due_at=due,
                    replied_at=at(11, 20),
                    satisfaction="unsatisfied",
                    rating_outcome="reopened",
                    resolved=False,
                    responded=False,
                ),
                case(
                    6,
                    "signed",
                    lead_department="GZ-SWJ",
                    handle_due_at=due,
                    repeat_count=2,
                    responded=True,
                ),
                case(7, "assigned", lead_department="GZ-SWJ", district="番禺区"),
                case(
                    8,
                    "closed",
                    lead_department="GZ-BDC",
                    handle_due_at=at(10, 9),
                    replied_at=at(10, 7),
                    satisfaction="satisfied",
                    created_at=at(10, 5),
                    updated_at=at(10, 7),
                ),
            ]
        )
        session.add_all(
            [
                Card(
                    department="GZ-BDC",
                    colour="yellow",
                    deadline="handle",
                    due_at=due,
                    month="2026-11",
                    points=1,
                    issued_at=at(11, 16),
                ),
                Card(
                    department="GZ-BDC",
                    colour="red",
                    deadline="monthly",
                    month="2026-11",
                    points=3,
                    status="revoked",
                    issued_at=at(11, 30),
                    appeal_reason="系统故障导致超时",
                    appealed_at=at(11, 30),
                    decided_at=at(11, 30),
                    decision_note="情况属实，撤销",
                ),
                Card(
                    department="GZ-BDC",
                    colour="yellow",
                    deadline="sign",
                    due_at=at(10, 6),
                    month="2026-10",
                    points=1,
                    issued_at=at(10, 7),
                ),
            ]
        )
    if request.param == "folded":
        async with transaction(sessionmaker) as session:
            assert len(await rollup.refresh(session)) == 2  # 2026-10-05 and 2026-11-10


NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


@pytest.mark.usefixtures("data")
async def test_summary(routing: httpx.AsyncClient, make_key: KeyFactory) -> None:
    r = await routing.get(
        "/api/v1/stats/summary", params=NOVEMBER, headers=await make_key("dashboard")
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "received": 7,  # cases 1–7; case 8 is October's
        "matters": 7,  # none merged (并单)
        "merged": 0,
        "resolved_on_spot": 2,
        "resolved_on_spot_rate": 28.6,  # 2 / 7
        "out_of_scope": 1,
        "in_progress": 3,  # reopened 5, signed 6, assigned 7
        "closed": 2,  # 1 and 4
        "closed_on_time": 1,
        "closed_on_time_rate": 50.0,  # 4 on time, 5 late, of 2 with deadlines
        "satisfaction_rate": 33.3,  # 1 (very satisfied) of 1, 4, 5 rated: raw
        "satisfaction_rate_upheld_aside": 50.0,  # 4's upheld rating set aside: 1 of 1 and 5
        "upheld": 1,
        "response_rate": 66.7,  # 4 and 6 signed in time, 5 late (7's clock still runs)
        "responded": 2,
        "response_due": 3,
        "resolution_rate": 66.7,  # 1 and 4 said solved, 5 not
        "solved": 2,
        "solve_asked": 3,
        "rated": 3,
        "asked_to_rate": 5,  # settled at the window 1–3, replied 4 and 5
        "rating_response_rate": 60.0,  # 3 of 5
        "followed_up": 4,
        "followed_up_resolved": 2,  # 4–7 handed on; 4 and 5 replied
        "repeats": 2,
    }


@pytest.mark.usefixtures("data")
async def test_summary_by_district_and_over_all_time(
    routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    headers = await make_key("supervisor")
    yuexiu = (
        await routing.get(
            "/api/v1/stats/summary", params={**NOVEMBER, "district": "越秀区"}, headers=headers
        )
    ).json()
    assert (yuexiu["received"], yuexiu["in_progress"], yuexiu["followed_up"]) == (6, 2, 3)
    everything = (await routing.get("/api/v1/stats/summary", headers=headers)).json()
    assert (
        everything["received"],
        everything["closed_on_time"],
        everything["closed_on_time_rate"],
    ) == (8, 2, 66.7)


@pytest.mark.usefixtures("data")
async def test_departments_with_a_revoked_card(
    routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    r = await routing.get(
        "/api/v1/stats/departments", params=NOVEMBER, headers=await make_key("dashboard")
    )
    rows = {d["department"]: d for d in r.json()["items"]}
    assert rows["GZ-BDC"] == {
        "department": "GZ-BDC",
        "name": "广州市不动产登记中心",
        "cases": 2,
        "assists": 0,
        "in_progress": 1,
        "on_time_rate": 50.0,
        "response_rate": 50.0,  # 4 in time, 5 late
        "resolution_rate": 50.0,
        "satisfaction_rate": 0.0,
        "satisfaction_rate_upheld_aside": 0.0,  # 5 alone once 4's upheld rating is aside
        "yellow": 1,
        "red": 1,
        "deducted": 1,
        "score": 99,  # the revoked red card's 3 points are restored
    }
    assert rows["GZ-SWJ"] == {
        "department": "GZ-SWJ",
        "name": "国家税务总局广州市税务局",
        "cases": 2,
        "assists": 0,
        "in_progress": 2,
        "on_time_rate": None,
        "response_rate": 100.0,
        "resolution_rate": None,
        "satisfaction_rate": None,
        "satisfaction_rate_upheld_aside": None,
        "yellow": 0,
        "red": 0,
        "deducted": 0,
        "score": 100,
    }


async def test_stats_access_and_bad_periods(
    routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    assert (
        await routing.get("/api/v1/stats/summary", headers=await make_key("window"))
    ).status_code == 403
    r = await routing.get(
        "/api/v1/stats/summary",
        params={"date_from": "2026-11-30", "date_to": "2026-11-01"},
        headers=await make_key("dashboard"),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "date_to"
    r = await routing.get(
        "/api/v1/stats/summary",
        params={"date_from": "November"},
        headers=await make_key("dashboard"),
    )
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "date_from")


@pytest.mark.usefixtures("data")
async def test_categories_and_trend(
    routing: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from sqlalchemy import update

    async with transaction(sessionmaker) as session:
        await session.execute(
            update(Case)
            .where(Case.case_no.in_(["S-1", "S-2", "S-6"]))
            .values(category="acceptance")
        )
        await session.execute(
            update(Case)
            .where(Case.case_no == "S-7")
            .values(category="policy", created_at=at(11, 11))
        )
    headers = await make_key("dashboard")
    cats = (await routing.get("/api/v1/stats/categories", params=NOVEMBER, headers=headers)).json()[
        "items"
    ]
    assert cats == [
        {
            "category": "acceptance",
            "label": "受理问题",
            "cases": 3,
            "in_progress": 1,
            "resolved_on_spot": 2,
        },
        {
            "category": "policy",
            "label": "政策原因办不成",
            "cases": 1,
            "in_progress": 1,
            "resolved_on_spot": 0,
        },
        {"category": None, "label": "未分类", "cases": 3, "in_progress": 1, "resolved_on_spot": 0},
    ]
    days = (await routing.get("/api/v1/stats/trend", params=NOVEMBER, headers=headers)).json()[
        "items"
    ]
    assert days == [
        {"date": "2026-11-10", "received": 6, "resolved_on_spot": 2, "replied": 2},
        {"date": "2026-11-11", "received": 1, "resolved_on_spot": 0, "replied": 0},
    ]


@pytest.mark.usefixtures("data")
async def test_monthly_report_json_and_xlsx(
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    async with transaction(sessionmaker) as session:
        await session.execute(
            text(
                "INSERT INTO assists (case_id, department, status, requested_at) "
                "SELECT id, 'GZ-GHZY', 'answered', created_at FROM cases WHERE case_no = 'S-6'"
            )
        )
    headers = await make_key("supervisor")
    report = (
        await routing.get("/api/v1/reports/monthly", params={"month": "2026-11"}, headers=headers)
    ).json()
    assert report["summary"]["received"] == 7
    assert report["summary"]["resolved_on_spot_rate"] == 28.6
    assert report["cards"] == {"yellow": 1, "red": 1, "appealed": 0, "upheld": 0, "revoked": 1}
    bdc = next(d for d in report["departments"] if d["department"] == "GZ-BDC")
    assert bdc["score"] == 99
    # November's two cards (October's is not in it), the yellow one issued first.
    assert [(c["colour"], c["status"], c["case_no"]) for c in report["card_list"]] == [
        ("yellow", "active", None),
        ("red", "revoked", None),
    ]
    assert [(a["points"], a["appeal_reason"], a["decision_note"]) for a in report["appeals"]] == [
        (3, "系统故障导致超时", "情况属实，撤销")
    ]

    r = await routing.get(
        "/api/v1/reports/monthly", params={"month": "2026-11", "format": "xlsx"}, headers=headers
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(r.content))
    assert book.sheetnames == [
        "概况",
        "部门考核",
        "问题类别",
        "共性问题",
        "黄红牌",
        "申诉",
        "督办与提级",
        "整改",
        "问题线索",
    ]
    assert str(book["概况"]["A1"].value).startswith("办不成事反映窗口 月度报告 2026-11(生成于 ")
    overview = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=3, values_only=True)}
    assert (overview["受理总量"], overview["当场解决率(%)"], overview["按时办结率(%)"]) == (
        7,
        28.6,
        50.0,
    )
    rows = list(book["部门考核"].iter_rows(values_only=True))
    assert rows[1][:3] == ("部门代码", "部门", "案件数")
    assert (
        "GZ-BDC",
        "广州市不动产登记中心",
        2,
        0,
        1,
        50.0,
        50.0,
        50.0,
        0.0,
        0.0,
        1,
        1,
        1,
        99,
    ) in rows
    # 规划 led none of the month's cases but helped with one (协办): it is listed too.
    assert next(r for r in rows if r[0] == "GZ-GHZY")[:4] == (
        "GZ-GHZY",
        "广州市规划和自然资源局",
        0,
        1,
    )
    assert book.properties.title == "办不成事反映窗口 月度报告 2026-11"
    assert book["概况"]["A3"].value == "统计期间"
    assert str(book["概况"]["B3"].value).startswith("2026-11-01 至 2026-11-30")
    assert (overview["响应率(%)"], overview["解决率(%)"]) == (66.7, 66.7)
    assert (overview["满意率(%,原始)"], overview["满意率(%,剔除甄别维持)"]) == (33.3, 50.0)
    assert list(book["问题类别"].iter_rows(values_only=True))[2] == ("未分类", 7, 3, 2)
    assert book["部门考核"].freeze_panes == "A3"
    assert book["部门考核"].auto_filter.ref.startswith("A2:N")
    appeals = list(book["申诉"].iter_rows(values_only=True))
    assert appeals[1][:6] == ("部门代码", "部门", "案件编号", "颜色", "扣分", "申诉理由")
    assert appeals[2][:6] == (
        "GZ-BDC",
        "广州市不动产登记中心",
        "(月度)",
        "红牌",
        3,
        "系统故障导致超时",
    )
    assert appeals[2][7] == "撤销"
    assert isinstance(appeals[2][6], datetime)  # an Excel date, Shanghai wall-clock time
    assert book["申诉"].cell(row=3, column=7).number_format == "yyyy-mm-dd hh:mm"
    assert len(list(book["黄红牌"].iter_rows(values_only=True))) == 4  # caption, header, 2 cards
    # Widths fit Chinese text: a column of Chinese reasons is wider than its characters count.
    reason = appeals[2][5]
    assert book["申诉"].column_dimensions["F"].width >= 2 * len(reason)

    bad = await routing.get("/api/v1/reports/monthly", params={"month": "2026-13"}, headers=headers)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "month")
    assert (
        await routing.get(
            "/api/v1/reports/monthly", params={"month": "2026-11"}, headers=await make_key("window")
        )
    ).status_code == 403


def test_the_workbook_writes_formula_like_text_as_text() -> None:
    """CSV/Excel injection: text from citizens and departments that starts like a formula is a
    string cell, shown as typed, never a formula."""
    import io

    from openpyxl import Workbook, load_workbook

    from services.reports.monthly import _sheet

    texts = ['=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
    book = Workbook()
    _sheet(book, "t", ["文本", "数"], [[t, 1] for t in [*texts, "正常"]])
    out = io.BytesIO()
    book.save(out)
    sheet = load_workbook(io.BytesIO(out.getvalue()))["t"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [*texts, "正常"]
    assert {c.data_type for c in cells} == {"s"}
    assert all(c.quotePrefix for c in cells[:4])
