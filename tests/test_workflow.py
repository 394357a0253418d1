"""The department workflow: every transition in DOMAIN.md, and the refused ones."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock.deadlines import add, working_seconds_between
from shared.database import transaction
from shared.durations import Duration
from shared.models import Case, OutboxMessage
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock, stand_in_calendar

pytestmark = pytest.mark.usefixtures("sample_departments")


async def _new_case(
    intake: httpx.AsyncClient, keys: dict[str, dict[str, str]], body: dict[str, Any] = ESTATE
) -> dict[str, Any]:
    case: dict[str, Any] = (
        await intake.post("/api/v1/cases", json=body, headers=keys["window"])
    ).json()
    assert case["status"] == "assigned"
    assert case["lead_department"] == "GZ-BDC"
    return case


async def _do(
    routing: httpx.AsyncClient, case_no: str, action: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await routing.post(f"/api/v1/cases/{case_no}/{action}", json=body, headers=headers)


async def test_sign_suspend_resume_reply_close(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
) -> None:
    case = await _new_case(intake, keys)
    no = case["case_no"]
    r = await _do(routing, no, "sign", keys["bdc"])
    assert r.status_code == 200
    assert r.json()["status"] == "signed"
    r = await _do(
        routing,
        no,
        "suspend",
        keys["bdc"],
        reason="等待补充抵押权人注销申请",
        required_materials=["抵押权人注销申请书"],
    )
    assert r.json()["status"] == "suspended"
    assert r.json()["tracking_card"]["required_materials"] == ["抵押权人注销申请书"]

    # The case waits four days for the citizen; the deadline moves by exactly the working time
    # in those days (on the test clock's calendar, whatever day the suite runs on).
    due_before = datetime.fromisoformat(r.json()["deadlines"]["handle_due_at"])
    suspended_at = datetime.fromisoformat(r.json()["updated_at"])
    assert suspended_at == clock.now
    resumed_at = clock.advance(timedelta(days=4))
    r = await _do(routing, no, "resume", keys["bdc"], note="材料已补齐")
    assert r.json()["status"] == "signed"
    due_after = datetime.fromisoformat(r.json()["deadlines"]["handle_due_at"])
    assert datetime.fromisoformat(r.json()["updated_at"]) == resumed_at
    paused = working_seconds_between(suspended_at, resumed_at, stand_in_calendar())
    assert paused > 0  # four days always hold working time
    assert due_after == add(
        due_before, Duration(paused / 3600, "working_hours"), stand_in_calendar()
    )

    r = await _do(routing, no, "reply", keys["bdc"], reply="已办理抵押注销登记")
    assert r.json()["status"] == "replied"
    assert r.json()["reply"] == "已办理抵押注销登记"
    r = await intake.post(
        f"/api/v1/cases/{no}/feedback",
        json={"satisfaction": "basically_satisfied"},
        headers=keys["window"],
    )
    assert r.json()["status"] == "closed"
    history = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()["history"]
    assert [e["action"] for e in history] == [
        "register",
        "route",
        "sign",
        "suspend",
        "resume",
        "reply",
        "feedback_satisfied",
    ]
    assert history[4]["data"]["paused_working_seconds"] == pytest.approx(paused, abs=1)


async def test_unsatisfied_reply_reopens_and_the_department_signs_again(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    no = (await _new_case(intake, keys))["case_no"]
    await _do(routing, no, "sign", keys["bdc"])
    await _do(routing, no, "reply", keys["bdc"], reply="已答复")
    r = await intake.post(
        f"/api/v1/cases/{no}/feedback", json={"satisfaction": "unsatisfied"}, headers=keys["window"]
    )
    assert r.json()["status"] == "rating_review"
    r = await _do(routing, no, "rating-review", keys["coordinator"], decision="reopen")
    assert r.json()["status"] == "reopened"
    r = await _do(routing, no, "sign", keys["bdc"])
    assert r.json()["status"] == "signed"


async def test_transfer_keeps_the_first_responsible_department_informed(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    r = await routing.put(
        "/api/v1/departments/GZ-BDC",
        headers=keys["admin"],
        json={
            "name": "广州市不动产登记中心",
            "parent": "GZ-GHZY",
            "contact": "020-83190000",
            "webhook": "https://bdc.example.gov.cn/hooks/gaodedim",
        },
    )
    assert r.status_code == 200
    no = (await _new_case(intake, keys))["case_no"]
    await _do(routing, no, "sign", keys["bdc"])
    r = await _do(
        routing, no, "transfer", keys["bdc"], to_department="GZ-GHZY", reason="涉及规划历史资料"
    )
    assert r.status_code == 200
    case = r.json()
    assert (case["status"], case["lead_department"], case["first_responsible_department"]) == (
        "assigned",
        "GZ-GHZY",
        "GZ-BDC",
    )
    assert (await _do(routing, no, "sign", keys["bdc"])).status_code == 403  # no longer the lead
    assert (await _do(routing, no, "sign", keys["ghzy"])).json()["status"] == "signed"
    # BDC still sees the case it first answered for, and was told of each step.
    assert (await intake.get(f"/api/v1/cases/{no}", headers=keys["bdc"])).status_code == 200
    async with sessionmaker() as session:
        events = [
            m.payload["event"]
            for m in (
                await session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.topic == "department.notify")
                    .order_by(OutboxMessage.id)
                )
            ).scalars()
            if m.payload["department"] == "GZ-BDC"
        ]
    assert events == ["signed", "transferred", "signed"]


async def test_returns_go_to_the_coordinator_and_are_capped(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    no = (await _new_case(intake, keys))["case_no"]
    for round_ in (1, 2):
        r = await _do(routing, no, "return", keys["bdc"], reason="不属于本单位职责")
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["lead_department"], r.json()["return_count"]) == (
            "returned",
            None,
            round_,
        )
        assert (await _do(routing, no, "sign", keys["bdc"])).status_code == 403
        r = await _do(
            routing,
            no,
            "assign",
            keys["coordinator"],
            department="GZ-BDC",
            reason="经协调仍由登记中心办理",
        )
        assert r.status_code == 200
        assert r.json()["assignment_final"] is (round_ == 2)
    r = await _do(routing, no, "return", keys["bdc"], reason="再次退回")
    assert r.status_code == 409
    assert "final" in r.json()["detail"]
    r = await _do(routing, no, "transfer", keys["bdc"], to_department="GZ-GHZY", reason="x")
    assert r.status_code == 409
    r = await _do(
        routing, no, "transfer", keys["coordinator"], to_department="GZ-GHZY", reason="协调改派"
    )
    assert r.status_code == 200  # the coordinator still can


async def test_return_window(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    no = (await _new_case(intake, keys))["case_no"]
    async with transaction(sessionmaker) as session:
        await session.execute(
            update(Case)
            .where(Case.case_no == no)
            .values(assigned_at=Case.assigned_at - timedelta(days=20))
        )
    r = await _do(routing, no, "return", keys["bdc"], reason="太晚了")
    assert r.status_code == 409
    assert "return window" in r.json()["detail"]


async def test_extension_request_and_decision(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    case = await _new_case(intake, keys)
    no = case["case_no"]
    await _do(routing, no, "sign", keys["bdc"])
    r = await routing.post(
        f"/api/v1/cases/{no}/extensions",
        headers=keys["bdc"],
        json={"extend_by": "3 working_days", "reason": "需调取历史档案"},
    )
    assert r.status_code == 201, r.text
    ext = r.json()
    assert ext["status"] == "pending"
    dup = await routing.post(
        f"/api/v1/cases/{no}/extensions",
        headers=keys["bdc"],
        json={"extend_by": "1 working_days", "reason": "again"},
    )
    assert dup.status_code == 409
    bad = await routing.post(
        f"/api/v1/cases/{no}/extensions",
        headers=keys["bdc"],
        json={"extend_by": "3 fortnights", "reason": "x"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "extend_by"
    assert (
        await routing.post(
            f"/api/v1/extensions/{ext['id']}/decision", headers=keys["bdc"], json={"approve": True}
        )
    ).status_code == 403
    r = await routing.post(
        f"/api/v1/extensions/{ext['id']}/decision",
        headers=keys["coordinator"],
        json={"approve": True, "note": "同意"},
    )
    assert r.status_code == 200, r.text
    before = datetime.fromisoformat(case["deadlines"]["handle_due_at"])
    after = datetime.fromisoformat(r.json()["case"]["deadlines"]["handle_due_at"])
    assert after - before >= timedelta(days=3)
    again = await routing.post(
        f"/api/v1/extensions/{ext['id']}/decision",
        headers=keys["coordinator"],
        json={"approve": False},
    )
    assert again.status_code == 409
    history = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()["history"]
    assert [e["action"] for e in history][-2:] == ["extension_requested", "extension_approved"]


@pytest.mark.parametrize(
    ("setup", "action", "body"),
    [
        ([], "reply", {"reply": "x"}),  # assigned: must sign first
        ([], "resume", {}),
        ([("sign", {})], "sign", {}),
        ([("sign", {})], "return", {"reason": "x"}),  # after signing there is no return
        ([("sign", {}), ("reply", {"reply": "x"})], "suspend", {"reason": "x"}),
        (
            [("sign", {}), ("reply", {"reply": "x"})],
            "transfer",
            {"to_department": "GZ-GHZY", "reason": "x"},
        ),
    ],
)
async def test_illegal_transitions_are_409_and_change_nothing(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    setup: list[tuple[str, dict[str, Any]]],
    action: str,
    body: dict[str, Any],
) -> None:
    no = (await _new_case(intake, keys))["case_no"]
    for step, step_body in setup:
        assert (await _do(routing, no, step, keys["bdc"], **step_body)).status_code == 200
    before = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    r = await _do(routing, no, action, keys["bdc"], **body)
    assert r.status_code == 409, r.text
    assert r.json()["current_status"] == before["status"]
    assert r.json()["allowed_actions"] == before["allowed_actions"]
    after = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    assert after["history"] == before["history"]


@pytest.mark.parametrize(
    ("who", "action", "body", "status"),
    [
        ("swj", "sign", {}, 403),  # another department
        ("window", "sign", {}, 403),
        ("coordinator", "reply", {"reply": "x"}, 403),
        ("bdc", "assign", {"department": "GZ-SWJ", "reason": "x"}, 403),
        ("window", "route", {}, 403),
        ("coordinator", "assign", {"department": "NOPE", "reason": "x"}, 422),
        ("bdc", "transfer", {"to_department": "NOPE", "reason": "x"}, 422),
        ("bdc", "transfer", {"to_department": "GZ-BDC", "reason": "x"}, 422),
        ("bdc", "return", {}, 422),
    ],
)
async def test_roles_departments_and_bad_bodies(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    who: str,
    action: str,
    body: dict[str, Any],
    status: int,
) -> None:
    no = (await _new_case(intake, keys))["case_no"]
    r = await _do(routing, no, action, keys[who], **body)
    assert r.status_code == status, r.text
    assert (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()[
        "status"
    ] == "assigned"


async def test_a_department_key_reads_only_its_cases_on_routing_too(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    no = (await _new_case(intake, keys))["case_no"]
    assert (await intake.get(f"/api/v1/cases/{no}", headers=keys["swj"])).status_code == 403
    listed = (await intake.get("/api/v1/cases", headers=keys["bdc"])).json()["items"]
    assert [c["case_no"] for c in listed] == [no]


async def test_reopening_gives_a_new_handling_deadline(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    no = (await _new_case(intake, keys))["case_no"]
    await _do(routing, no, "sign", keys["bdc"])
    await _do(routing, no, "reply", keys["bdc"], reply="已答复")
    async with transaction(sessionmaker) as session:  # the reply came long after the case began
        await session.execute(
            update(Case)
            .where(Case.case_no == no)
            .values(handle_due_at=Case.handle_due_at - timedelta(days=30))
        )
    r = await intake.post(
        f"/api/v1/cases/{no}/feedback", json={"satisfaction": "unsatisfied"}, headers=keys["window"]
    )
    assert r.json()["status"] == "rating_review"
    r = await _do(routing, no, "rating-review", keys["coordinator"], decision="reopen")
    reopened = r.json()
    assert reopened["status"] == "reopened"
    new_due = datetime.fromisoformat(reopened["deadlines"]["handle_due_at"])
    expected = add(
        datetime.fromisoformat(reopened["updated_at"]),
        Duration(5, "working_days"),
        stand_in_calendar(),
    )
    assert new_due == expected
