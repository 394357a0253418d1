"""督办 and 催办 (issue 28 #2): a numbered order to the lead department, due in working time,
copied to the unit above it; the department answers it; one unanswered past its time gives one
card and tells whoever is on duty; a reminder is counted."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.runner import run_sweep
from shared.models import Card, Supervision
from tests.helpers.cases import stored_case
from tests.helpers.clock import TEST_NOW, ManualClock
from tests.helpers.keys import KeyFactory
from tests.helpers.supervision import actions, messages, street_case

ORDER = {
    "reason": "重办两次仍未解决,请于两个工作日内反馈办理进展",
    "respond_within": "2 working_days",
}


async def test_an_order_is_issued_in_scope_and_answered_by_its_department(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = await make_key("admin")
    street = (await routing.get("/api/v1/departments/YX-BJJD", headers=admin)).json()
    update = {k: street[k] for k in ("name", "parent", "contact", "level")}
    r = await routing.put(
        "/api/v1/departments/YX-BJJD",
        json={**update, "notice_mobile": "１３８ ００１３ ８０００"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["notice_mobile"] == "13800138000"
    seen = await routing.get("/api/v1/departments/YX-BJJD", headers=await make_key("supervisor"))
    assert seen.json()["notice_mobile"] == "138****8000"
    case_no = await street_case(intake, routing, make_key)
    district = await make_key("coordinator", "YX-ZWFW")
    panyu = await make_key("coordinator", "PY-ZWFW")

    r = await routing.post(f"/api/v1/cases/{case_no}/supervise", json=ORDER, headers=panyu)
    assert r.status_code == 403
    for role in ("admin", "window", "dashboard"):
        r = await routing.post(
            f"/api/v1/cases/{case_no}/supervise", json=ORDER, headers=await make_key(role)
        )
        assert r.status_code == 403, role
    r = await routing.post(f"/api/v1/cases/{case_no}/supervise", json=ORDER, headers=district)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["order_no"] == f"DB-{TEST_NOW:%Y%m%d}-001"
    assert (order["department"], order["copied_to"], order["issuing_unit"], order["level"]) == (
        "YX-BJJD",
        "YX-ZWFW",
        "YX-ZWFW",
        "district",
    )
    assert order["status"] == "open"
    assert order["due_at"] == "2026-11-20T10:00:00+08:00"  # Wednesday 10:00 + 2 working days
    r = await routing.post(
        f"/api/v1/cases/{case_no}/supervise",
        json={"reason": "再次督办"},
        headers=await make_key("supervisor"),
    )
    assert r.status_code == 201
    assert r.json()["order_no"] == f"DB-{TEST_NOW:%Y%m%d}-002"  # numbered without gaps
    assert (r.json()["level"], r.json()["issuing_unit"]) == ("city", None)

    texts = await messages(sessionmaker, "staff.sms")
    assert [(t["department"], t["event"]) for t in texts] == [("YX-BJJD", "supervised")] * 2
    assert "13800138000" not in str(texts)  # the number is read at delivery
    assert "DB-" in texts[0]["text"]
    assert case_no in texts[0]["text"]
    supervised = [e for e in await actions(sessionmaker, case_no) if e.action == "supervised"]
    assert [e.data["order_no"] for e in supervised] == [order["order_no"], r.json()["order_no"]]

    answer = {"progress": "已约谈规划部门,12月9日前出具证明"}
    other = await make_key("department", "YX-ZJJ")
    respond = f"/api/v1/supervisions/{order['id']}/respond"
    r = await routing.post(respond, json=answer, headers=other)
    assert r.status_code == 403
    lead = await make_key("department", "YX-BJJD")
    r = await routing.post(respond, json=answer, headers=lead)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["answered_on_time"]) == ("answered", True)
    assert r.json()["progress"] == answer["progress"]
    again = await routing.post(respond, json=answer, headers=lead)
    assert again.status_code == 409

    shown = (await intake.get(f"/api/v1/cases/{case_no}", headers=district)).json()
    assert [o["status"] for o in shown["supervisions"]] == ["answered", "open"]
    portal_view = await intake.get(f"/api/v1/cases/{case_no}", headers=lead)
    assert len(portal_view.json()["supervisions"]) == 2

    listed = await routing.get("/api/v1/supervisions?status=open", headers=district)
    assert [o["order_no"] for o in listed.json()["items"]] == [f"DB-{TEST_NOW:%Y%m%d}-002"]
    assert (await routing.get("/api/v1/supervisions", headers=panyu)).json()["items"] == []
    r = await routing.get("/api/v1/supervisions?unit=YX-ZWFW", headers=panyu)
    assert r.status_code == 403
    r = await routing.get("/api/v1/supervisions?unit=PY-ZWFW", headers=await make_key("supervisor"))
    assert r.json()["items"] == []
    assert (await routing.get("/api/v1/supervisions", headers=other)).json()["items"] == []
    mine = (await routing.get("/api/v1/supervisions", headers=lead)).json()["items"]
    assert len(mine) == 2
    r = await routing.get(f"/api/v1/supervisions/{order['id']}", headers=other)
    assert r.status_code == 404
    r = await routing.get(f"/api/v1/supervisions/{order['id']}", headers=lead)
    assert r.status_code == 200, r.text
    assert (r.json()["order_no"], r.json()["status"]) == (order["order_no"], "answered")
    assert r.json()["progress"] == answer["progress"]


async def test_an_unanswered_order_gives_one_card_and_tells_whoever_is_on_duty(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> None:
    case_no = await street_case(intake, routing, make_key)
    r = await routing.post(
        f"/api/v1/cases/{case_no}/supervise", json=ORDER, headers=await make_key("coordinator")
    )
    due = datetime.fromisoformat(r.json()["due_at"])
    # On duty the whole day the order falls due (a `to` at its `from` ends the next day).
    shift = {"from": "00:00", "to": "00:00", "name": "王主任", "duty": "leader"}
    roster = {"shifts": [{**shift, "date": f"{due:%Y-%m-%d}", "phone": "13900139000"}]}
    admin = await make_key("admin")
    assert (await routing.put("/api/v1/duty/YX-ZWFW", json=roster, headers=admin)).is_success

    assert (await run_sweep(sessionmaker, now=due - timedelta(seconds=1))).orders_overdue == 0
    assert (await run_sweep(sessionmaker, now=due + timedelta(seconds=1))).orders_overdue == 1
    assert (await run_sweep(sessionmaker, now=due + timedelta(hours=1))).orders_overdue == 0
    async with sessionmaker() as session:
        cards = list(await session.scalars(select(Card).where(Card.deadline == "supervision")))
    assert [(c.department, c.colour, c.points) for c in cards] == [("YX-BJJD", "yellow", 1)]
    assert cards[0].supervision_id == r.json()["id"]

    overdue = [e for e in await actions(sessionmaker, case_no) if e.action == "supervision_overdue"]
    assert len(overdue) == 1
    assert overdue[0].data["told"] == [{"unit": "YX-ZWFW", "name": "王主任", "duty": "leader"}]
    assert overdue[0].data["card_id"] == cards[0].id
    texts = await messages(sessionmaker, "staff.sms")
    assert [t.get("shift") is not None for t in texts if t["event"] == "supervision_overdue"] == [
        True
    ]
    listed = await routing.get(
        "/api/v1/supervisions?status=overdue", headers=await make_key("supervisor")
    )
    assert [(o["status"], o["card_id"]) for o in listed.json()["items"]] == [
        ("overdue", cards[0].id)
    ]
    lead = await make_key("department", "YX-BJJD")
    clock.set(due + timedelta(hours=2))
    respond = f"/api/v1/supervisions/{r.json()['id']}/respond"
    r = await routing.post(respond, json={"progress": "已办"}, headers=lead)
    assert (r.json()["status"], r.json()["answered_on_time"]) == ("answered", False)


async def test_a_reminder_is_counted_and_moves_no_deadline(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> None:
    case_no = await street_case(intake, routing, make_key)
    before = await stored_case(sessionmaker, case_no)
    coordinator = await make_key("coordinator", "YX-ZWFW")
    for n in (1, 2):
        r = await routing.post(
            f"/api/v1/cases/{case_no}/remind", json={"note": "申请人再次来电"}, headers=coordinator
        )
        assert r.status_code == 200, r.text
        assert r.json()["remind_count"] == n
    after = await stored_case(sessionmaker, case_no)
    assert (after.handle_due_at, after.sign_due_at) == (before.handle_due_at, before.sign_due_at)
    shown = (await intake.get(f"/api/v1/cases/{case_no}", headers=coordinator)).json()
    assert shown["remind_count"] == 2
    r = await routing.post(
        f"/api/v1/cases/{case_no}/remind",
        json={"note": "x"},
        headers=await make_key("department", "YX-BJJD"),
    )
    assert r.status_code == 403


async def test_strange_input_is_a_problem_naming_the_field(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    case_no = await street_case(intake, routing, make_key)
    coordinator = await make_key("coordinator")
    for body, field in (
        ({"reason": "请\x00反馈"}, "reason"),
        ({"reason": "请反馈", "respond_within": "99999999999999999999999 working_days"}, None),
        ({"reason": "请反馈", "respond_within": "31 working_days"}, "respond_within"),
        ({"reason": "请反馈", "respond_within": "１ months"}, "respond_within"),
        ({"reason": "请反馈", "respond_within": "0.01 hours"}, "respond_within"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
    ):
        r = await routing.post(f"/api/v1/cases/{case_no}/supervise", json=body, headers=coordinator)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        named = [e["field"] for e in r.json()["errors"]]
        assert field is None or named == [field], (body, named)
    for path in ("/api/v1/supervisions/99999999999999999999999", "/api/v1/supervisions/-1"):
        assert (await routing.get(path, headers=coordinator)).status_code in (404, 422)
    r = await routing.get("/api/v1/supervisions", params={"status": "lost"}, headers=coordinator)
    assert r.status_code == 422
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Supervision)) == 0
