"""Retention (issue 16): PERSONAL_DATA_RETENTION after a case closed, the worker removes its
applicant's personal data; the figures and the monthly report are the same before and after."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.stats import rollup
from shared.database import transaction
from shared.models import Card, Case, CaseEvent, SmsReply
from shared.timeutil import SHANGHAI
from sla_worker import worker as worker_module
from tests.helpers.cases import case
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")

M = TypeVar("M", CaseEvent, Card)

NOW = datetime(2029, 12, 1, 10, tzinfo=SHANGHAI)
LONG_AGO = datetime(2026, 10, 5, 10, tzinfo=SHANGHAI)  # closed more than three years before NOW
LATELY = datetime(2029, 11, 20, 10, tzinfo=SHANGHAI)


async def figures(routing: httpx.AsyncClient, headers: dict[str, str]) -> list[Any]:
    answers = []
    for path, params in (
        ("/api/v1/stats/summary", {}),
        ("/api/v1/stats/departments", {}),
        ("/api/v1/stats/categories", {}),
        ("/api/v1/stats/trend", {}),
        ("/api/v1/reports/monthly", {"month": "2026-09"}),
        ("/api/v1/stats/common-issues", {}),
    ):
        r = await routing.get(path, params=params, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        if isinstance(body, dict):
            body.pop("generated_at", None)  # the report says when it was made
        answers.append(body)
    return answers


async def by_case(
    sessionmaker: async_sessionmaker[AsyncSession], model: type[M]
) -> list[tuple[str, M]]:
    """Each row of `model` (a case's history event, card) with its case's number."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Case.case_no, model).join(Case, Case.id == model.case_id)
        )
        return list(rows.tuples())


async def test_closed_cases_lose_personal_data_and_the_figures_stay(
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = {
        "applicant_name": "黄丽华",
        "applicant_phone": "13800138001",
        "applicant_id_number": "11010519491231002X",
        "applicant_openid": "oRetention0123456789",
        "attachments": ["https://files.example.gov.cn/a.pdf"],
        "feedback_comment": "我家住在XX路1号",
        # Where people wrote the applicant down: erased too, the rest stays readable.
        "title": "黄丽华抵押登记注销拖延",
        "description": "黄丽华(电话13800138001,证件11010519491231002X)的抵押登记注销一直没办好",
        "reply": "已电话13800138001告知黄丽华:注销登记已办结",
    }
    private = {"lat": 23.1, "long": 113.3, "address": "XX路1号3楼", "public": False}
    public = {"lat": 23.1, "long": 113.3, "address": "越秀区政务服务中心", "public": True}
    common: dict[str, Any] = {
        "lead_department": "GZ-BDC",
        "replied_at": LONG_AGO - timedelta(days=3),
        "satisfaction": "satisfied",
        "created_at": LONG_AGO - timedelta(days=5),
        "updated_at": LONG_AGO,
    }
    async with transaction(sessionmaker) as session:
        session.add_all(
            [
                case(1, "closed", closed_at=LONG_AGO, location=private, **person, **common),
                case(2, "closed", closed_at=LONG_AGO, location=public, **person, **common),
                case(3, "closed", closed_at=LATELY, **person, **common),  # closed lately
                case(4, "signed", **person, **common),  # still open, however old
            ]
        )
    async with transaction(sessionmaker) as session:
        old = await session.scalar(select(Case.id).where(Case.case_no == "S-1"))
        session.add(
            SmsReply(
                provider_id="r-1",
                case_id=old,
                phone_last4="8001",
                text="1 谢谢，我的新号码是13912345678",
                outcome="rating",
                received_at=LONG_AGO,
            )
        )
        for n in (1, 3):  # what a handler wrote down: erased once the case is anonymised
            session.add(
                CaseEvent(
                    case_id=await session.scalar(select(Case.id).where(Case.case_no == f"S-{n}")),
                    at=LONG_AGO,
                    action="sign",
                    from_status="assigned",
                    to_status="signed",
                    actor_role="department",
                    actor_department="GZ-BDC",
                    reason="已电话13800138001联系黄丽华",
                    data={"note": "黄丽华下周来补材料", "channel": "window"},
                )
            )
            session.add(  # and what a department and a supervisor wrote on its card
                Card(
                    case_id=await session.scalar(select(Case.id).where(Case.case_no == f"S-{n}")),
                    department="GZ-BDC",
                    colour="yellow",
                    deadline="sign",
                    due_at=LONG_AGO,
                    month="2026-10",  # not the report's month: that one must not move
                    points=1,
                    status="upheld",
                    issued_at=LONG_AGO,
                    appeal_reason="已电话13800138001联系黄丽华",
                    appealed_at=LONG_AGO,
                    decision_note="黄丽华(11010519491231002X)确认逾期",
                    decided_at=LONG_AGO,
                )
            )
    headers = await make_key("supervisor")
    before = await figures(routing, headers)
    assert before[0]["received"] == 4
    assert before[4]["summary"]["received"] == 4  # the report counts them too
    [topic] = before[5]["items"]  # one 共性问题 of the four, named by what it is about...
    assert topic["cases"] == 4
    assert {"抵押", "注销"} & set(topic["keywords"])
    assert "黄丽华" not in str(topic)  # ...not by whom: her name is no keyword, nor in a title
    async with transaction(sessionmaker) as session:
        await rollup.refresh(session)  # and from the folded rollups too
    assert await figures(routing, headers) == before

    ctx = {"sessionmaker": sessionmaker, "clock": lambda: NOW}
    assert await worker_module.anonymise_closed(ctx) == 2
    assert await worker_module.anonymise_closed(ctx) == 0  # once

    async with sessionmaker() as session:
        rows = {c.case_no: c for c in (await session.execute(select(Case))).scalars()}
        reply = (await session.execute(select(SmsReply))).scalar_one()
    for no in ("S-1", "S-2"):
        gone = rows[no]
        assert (
            gone.applicant_name,
            gone.applicant_phone,
            gone.applicant_id_number,
            gone.applicant_openid,
            gone.attachments,
            gone.feedback_comment,
        ) == (None, None, None, None, [], None)
        assert gone.anonymised_at == NOW
        assert (gone.title, gone.description, gone.reply) == (
            "申请人抵押登记注销拖延",
            "申请人(电话***,证件***)的抵押登记注销一直没办好",
            "已电话***告知申请人:注销登记已办结",
        )
        assert gone.keywords
        assert "黄丽华" not in gone.keywords
        assert (gone.satisfaction, gone.lead_department) == ("satisfied", "GZ-BDC")
    assert rows["S-1"].location is None
    assert rows["S-2"].location == public  # a public place is the complaint's
    for kept in ("S-3", "S-4"):
        assert rows[kept].applicant_phone == "13800138001"
        assert rows[kept].anonymised_at is None
    assert (reply.text, reply.phone_last4) == ("", "")
    events = {
        no: (e.reason, e.data, e.action, e.at) for no, e in await by_case(sessionmaker, CaseEvent)
    }
    assert events["S-1"] == (
        "已电话***联系申请人",
        {"note": "申请人下周来补材料", "channel": "window"},
        "sign",
        LONG_AGO,
    )
    assert events["S-3"][0] == "已电话13800138001联系黄丽华"  # closed lately: kept
    cards = {
        no: (c.appeal_reason, c.decision_note, c.status, c.points)
        for no, c in await by_case(sessionmaker, Card)
    }
    assert cards["S-1"] == ("已电话***联系申请人", "申请人(***)确认逾期", "upheld", 1)
    assert cards["S-3"][:2] == ("已电话13800138001联系黄丽华", "黄丽华(11010519491231002X)确认逾期")

    # The history is still append-only: without the retention step's say-so, and for anything
    # but its words, an UPDATE is refused.
    async def run(*statements: str) -> None:
        async with transaction(sessionmaker) as session:
            for statement in statements:
                await session.execute(text(statement))

    erasing = "SET LOCAL gaodedim.erasing = 'on'"
    for refused in (
        ("UPDATE case_events SET reason = 'rewritten'",),
        (erasing, "UPDATE case_events SET action = 'close'"),
        (erasing, "DELETE FROM case_events"),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            await run(*refused)

    assert await figures(routing, headers) == before  # every figure and the report, exact
