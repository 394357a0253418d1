"""整改 (issue 30 #1): the register's life, its recurrence counted exactly (the cases registered
after `done` that match its topic, per Shanghai month, across New Year), one card when it is
late, who may do what, the common issues that already have one, and the monthly report."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.runner import run_sweep
from shared.database import transaction
from shared.models import Card
from shared.timeutil import SHANGHAI
from tests.helpers.cases import case
from tests.helpers.clock import TEST_NOW, ManualClock, stand_in_calendar
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")

TOPIC = ["违章", "注记", "转移登记"]
OPENED = datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI)
BODY: dict[str, Any] = {
    "title": "历史违章注记导致不动产转移登记办不成",
    "problem": "近三个月多宗转移登记因历史违章注记被拒，需规划部门出具证明，申请人往返多次",
    "department": "GZ-GHZY",
    "due": 20,
    "topic": TOPIC,
}


async def cases_with(
    sessionmaker: async_sessionmaker[AsyncSession], rows: list[tuple[int, datetime, list[str]]]
) -> None:
    """Cases S-n registered at a moment with the keywords the worker would have stored."""
    async with transaction(sessionmaker) as session:
        session.add_all(
            case(n, "assigned", created_at=at, updated_at=at, keywords=words, title=f"诉求{n}")
            for n, at, words in rows
        )


def sh(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=SHANGHAI)


async def test_the_life_of_a_rectification_and_its_recurrence(
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    supervisor = await make_key("supervisor")
    owner = await make_key("department", "GZ-GHZY")
    await cases_with(
        sessionmaker,
        [
            (1, sh(11, 2), ["违章", "注记", "不动产"]),  # the cases that showed the problem
            (2, sh(11, 9), ["违章", "转移登记"]),
        ],
    )
    clock.set(OPENED)
    r = await routing.post(
        "/api/v1/rectifications",
        json={**BODY, "case_nos": ["S-1", "S-2", "S-1"]},
        headers=supervisor,
    )
    assert r.status_code == 201, r.text
    opened = r.json()
    rid = opened["id"]
    assert (opened["status"], opened["case_count"], opened["recurred"]) == ("open", 2, None)
    assert opened["due_at"] == "2026-12-16T10:00:00+08:00"  # 20 working days
    assert [c["case_no"] for c in opened["cases"]] == ["S-1", "S-2"]
    assert [e["action"] for e in opened["history"]] == ["opened"]

    clock.set(sh(11, 19))
    r = await routing.post(f"/api/v1/rectifications/{rid}/start", json={}, headers=owner)
    assert (r.status_code, r.json()["status"]) == (200, "in_progress")
    clock.set(sh(11, 30, 2026).replace(hour=15))
    done_at = clock()
    r = await routing.post(
        f"/api/v1/rectifications/{rid}/done",
        json={
            "change": "process",
            "note": "历史违章注记改由登记中心内部核查",
            "document_ref": "穗规划资源规〔2026〕12号",
        },
        headers=owner,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["change"]) == ("done", "process")
    assert (r.json()["recurred"], r.json()["recurrence"]) == (0, [])

    await cases_with(
        sessionmaker,
        [
            (3, done_at - timedelta(minutes=1), ["违章", "注记"]),  # before done: not a recurrence
            (4, done_at + timedelta(minutes=1), ["违章", "注记", "其他"]),  # still November
            (5, sh(12, 3), ["转移登记", "违章"]),
            (6, sh(12, 4), ["违章"]),  # the first word alone: too loose
            (7, sh(12, 5), ["注记", "转移登记"]),  # the others without the first word
            (8, sh(12, 31).replace(hour=23, minute=59), ["违章", "注记"]),  # Dec 31, 23:59 Shanghai
            (9, sh(1, 1, 2027).replace(hour=0, minute=1), ["注记", "违章"]),  # New Year
        ],
    )
    shown = (await routing.get(f"/api/v1/rectifications/{rid}", headers=supervisor)).json()
    assert shown["recurrence"] == [
        {"month": "2026-11", "cases": 1},
        {"month": "2026-12", "cases": 2},
        {"month": "2027-01", "cases": 1},
    ]
    assert shown["recurred"] == 4

    clock.set(sh(12, 1))
    r = await routing.post(f"/api/v1/rectifications/{rid}/verify", json={}, headers=supervisor)
    assert (r.status_code, r.json()["status"]) == (200, "verified")
    r = await routing.post(
        f"/api/v1/rectifications/{rid}/reopen",
        json={"reason": "新规施行后同类案件仍有发生", "due": 10},
        headers=supervisor,
    )
    assert r.status_code == 200, r.text
    reopened = r.json()
    assert (reopened["status"], reopened["reopen_count"], reopened["recurred"]) == (
        "in_progress",
        1,
        None,
    )
    assert [e["action"] for e in reopened["history"]] == [
        "opened",
        "started",
        "done",
        "verified",
        "reopened",
    ]
    listed = (await routing.get("/api/v1/rectifications", headers=owner)).json()["items"]
    assert [i["id"] for i in listed] == [rid]
    by_status = await routing.get(
        "/api/v1/rectifications", params={"status": "done"}, headers=supervisor
    )
    assert by_status.json()["items"] == []


async def test_steps_out_of_turn_and_who_may_take_them(
    routing: httpx.AsyncClient, make_key: KeyFactory, clock: ManualClock
) -> None:
    clock.set(OPENED)
    supervisor = await make_key("supervisor")
    owner = await make_key("department", "GZ-GHZY")
    other = await make_key("department", "GZ-BDC")
    for role in ("coordinator", "window", "admin", "dashboard"):
        r = await routing.post("/api/v1/rectifications", json=BODY, headers=await make_key(role))
        assert r.status_code == 403, role
    district = await make_key("supervisor", "YX-ZWFW")
    r = await routing.post("/api/v1/rectifications", json=BODY, headers=district)
    assert r.status_code == 403  # GZ-GHZY is not in 越秀区's subtree
    own = await routing.post(
        "/api/v1/rectifications", json={**BODY, "department": "YX-BJJD"}, headers=district
    )
    assert own.status_code == 201, own.text
    assert own.json()["issuing_unit"] == "YX-ZWFW"

    r = await routing.post("/api/v1/rectifications", json=BODY, headers=supervisor)
    rid = r.json()["id"]
    path = f"/api/v1/rectifications/{rid}"
    assert (await routing.get(path, headers=other)).status_code == 404
    assert (await routing.get(path, headers=district)).status_code == 404
    assert (await routing.post(f"{path}/start", json={}, headers=other)).status_code == 404
    verify = await routing.post(f"{path}/verify", json={}, headers=supervisor)
    assert (verify.status_code, verify.json()["current_status"]) == (409, "open")
    done = {"change": "rule", "note": "修订规程", "document_ref": "规程2026版"}
    assert (await routing.post(f"{path}/done", json=done, headers=owner)).status_code == 200
    again = await routing.post(f"{path}/done", json=done, headers=owner)
    assert (again.status_code, again.json()["current_status"]) == (409, "done")
    assert (await routing.post(f"{path}/start", json={}, headers=owner)).status_code == 409

    refused = {
        "case_nos": {**BODY, "case_nos": ["GZ-20261118-999999"]},
        "topic": {key: v for key, v in BODY.items() if key != "topic"},
        "title": {**BODY, "title": "违章\u0000注记"},
        "due": {**BODY, "due": 0},
        "department": {**BODY, "department": "NO-SUCH"},
    }
    for field, body in refused.items():
        r = await routing.post("/api/v1/rectifications", json=body, headers=supervisor)
        assert r.status_code == 422, (field, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        said = [part.strip() for part in r.json()["detail"].split(":")[:2]]
        assert field in said, r.json()  # `topic: …`, or `body: topic: …` for the pair
    huge = await routing.post(
        "/api/v1/rectifications", json={**BODY, "due": 2**70}, headers=supervisor
    )
    assert huge.status_code == 422
    wrong = await routing.post(f"{path}/done", json={**done, "change": "vibes"}, headers=owner)
    assert (wrong.status_code, wrong.json()["errors"][0]["field"]) == (422, "change")


async def test_a_late_rectification_cards_its_owner_once(
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock.set(OPENED)
    supervisor = await make_key("supervisor")
    r = await routing.post("/api/v1/rectifications", json={**BODY, "due": 1}, headers=supervisor)
    rid = r.json()["id"]
    due = datetime(2026, 11, 19, 10, 0, tzinfo=SHANGHAI)
    assert r.json()["due_at"] == due.isoformat()
    assert (
        await run_sweep(sessionmaker, now=due - timedelta(seconds=1))
    ).rectifications_overdue == 0
    assert (
        await run_sweep(sessionmaker, now=due + timedelta(seconds=1))
    ).rectifications_overdue == 1
    assert (await run_sweep(sessionmaker, now=due + timedelta(days=3))).rectifications_overdue == 0
    async with sessionmaker() as session:
        cards = (
            await session.execute(
                select(Card.department, Card.colour, Card.deadline, Card.case_id).where(
                    Card.rectification_id == rid
                )
            )
        ).all()
    assert [tuple(c) for c in cards] == [("GZ-GHZY", "yellow", "rectification", None)]
    shown = (await routing.get(f"/api/v1/rectifications/{rid}", headers=supervisor)).json()
    assert shown["overdue_at"] is not None
    assert shown["card_id"] is not None
    assert shown["history"][-1]["action"] == "overdue"
    listed = (
        await routing.get("/api/v1/cards", params={"department": "GZ-GHZY"}, headers=supervisor)
    ).json()["items"]
    assert [(c["deadline"], c["rectification_id"]) for c in listed] == [("rectification", rid)]

    # Reopened with a new due time after it was done: watched again, but one card for ever.
    owner = await make_key("department", "GZ-GHZY")
    done = {"change": "training", "note": "窗口培训", "document_ref": "培训记录2026-11"}
    clock.set(due + timedelta(days=1))
    await routing.post(f"/api/v1/rectifications/{rid}/done", json=done, headers=owner)
    r = await routing.post(
        f"/api/v1/rectifications/{rid}/reopen",
        json={"reason": "培训后仍有同类案件", "due": 1},
        headers=supervisor,
    )
    assert r.json()["overdue_at"] is None
    later = datetime.fromisoformat(r.json()["due_at"]) + timedelta(seconds=1)
    assert (await run_sweep(sessionmaker, now=later)).rectifications_overdue == 1
    async with sessionmaker() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Card).where(Card.rectification_id == rid)
            )
        ) == 1


async def test_common_issues_say_which_topics_have_a_rectification_and_the_report_counts(
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await cases_with(
        sessionmaker,
        [(n, sh(11, 10), ["违章", "注记", f"其他{n}"]) for n in range(1, 5)],
    )
    supervisor = await make_key("supervisor")
    november = {"date_from": "2026-11-01", "date_to": "2026-11-30"}
    topics = (
        await routing.get("/api/v1/stats/common-issues", params=november, headers=supervisor)
    ).json()["items"]
    (topic,) = topics
    assert topic["keywords"][0] == "注记" or topic["keywords"][0] == "违章"
    assert topic["rectifications"] == []
    clock.set(OPENED)
    r = await routing.post(
        "/api/v1/rectifications",
        json={**BODY, "topic": topic["keywords"], "case_nos": ["S-1"]},
        headers=supervisor,
    )
    rid = r.json()["id"]
    topics = (
        await routing.get("/api/v1/stats/common-issues", params=november, headers=supervisor)
    ).json()["items"]
    assert topics[0]["rectifications"] == [rid]

    report = (
        await routing.get(
            "/api/v1/reports/monthly", params={"month": "2026-11"}, headers=supervisor
        )
    ).json()
    fixes = report["rectifications"]
    assert (fixes["opened"], fixes["done"], fixes["verified"], fixes["overdue"]) == (1, 0, 0, 0)
    assert [i["id"] for i in fixes["items"]] == [rid]
    xlsx = await routing.get(
        "/api/v1/reports/monthly",
        params={"month": "2026-11", "format": "xlsx"},
        headers=supervisor,
    )
    book = load_workbook(BytesIO(xlsx.content))
    rows = list(book["整改"].iter_rows(values_only=True))
    assert rows[1][:5] == ("编号", "标题", "责任部门代码", "责任部门", "状态")
    assert rows[2][:5] == (rid, BODY["title"], "GZ-GHZY", "广州市规划和自然资源局", "待整改")
    overview = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=3, values_only=True)}
    assert overview["整改立项"] == 1


async def test_a_due_time_into_a_year_without_a_calendar_is_an_estimate_and_says_so(
    routing: httpx.AsyncClient, make_key: KeyFactory, clock: ManualClock
) -> None:
    """In December a month's fix reaches a year whose holidays may not be announced: the
    working days there are counted Monday to Friday, and the answer says it is an estimate."""
    unknown = stand_in_calendar().first_unknown_year(TEST_NOW.year)
    clock.set(datetime(unknown - 1, 12, 21, 10, 0, tzinfo=SHANGHAI))
    supervisor = await make_key("supervisor")
    r = await routing.post("/api/v1/rectifications", json=BODY, headers=supervisor)
    assert r.status_code == 201, r.text
    assert r.json()["due_estimated"] is True
    assert r.json()["due_at"].startswith(f"{unknown}-01-")
    assert not r.json()["due_at"].startswith(f"{unknown}-01-01")  # 元旦 is off in any year
    near = await routing.post("/api/v1/rectifications", json={**BODY, "due": 2}, headers=supervisor)
    assert near.json()["due_estimated"] is False
