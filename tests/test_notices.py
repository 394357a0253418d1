"""Notices to the applicant (issue 15): which steps, what they say, in what order, and when
the person hears nothing (hotline, a landline, opted out, the day's cap) or hears it later
(the quiet hours)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from services.notices import rules, templates
from services.outbox.topics import Topic
from shared import metrics
from shared.database import transaction
from shared.models import Case, Notice, OutboxMessage
from shared.sms.aliyun import SmsUndeliverable
from shared.timeutil import SHANGHAI
from tests.helpers.bodies import ESTATE, case_body
from tests.helpers.clock import ManualClock
from tests.helpers.notices import Phone, deliver, do

pytestmark = pytest.mark.usefixtures("sample_departments")


async def test_the_applicant_hears_of_every_step_in_order(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Registered, assigned, suspended (why), resumed (new deadline), replied (the answer and
    how to rate), the unsatisfied rating's review, reopened and closed: each once, in the order
    they happened, to the phone given, with nothing of the ID number and no more of the
    complaint than the template."""
    clock.set(datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI))
    body = {**ESTATE, "applicant": {**ESTATE["applicant"], "id_number": "11010519491231002X"}}
    case = (await intake.post("/api/v1/cases", json=body, headers=keys["window"])).json()
    no = case["case_no"]
    await do(routing, no, "sign", keys["bdc"])
    await do(routing, no, "suspend", keys["bdc"], reason="等待补充注销申请书")
    clock.advance(timedelta(hours=2))
    resumed = await do(routing, no, "resume", keys["bdc"], note="材料已补齐")
    phone = Phone()
    sent_before = metrics.NOTICES_SENT.labels("sms", "registered")._value.get()
    parts_before = metrics.NOTICE_SEGMENTS.labels("sms")._value.get()
    assert await deliver(sessionmaker, phone, clock) == 4  # the worker sends within seconds
    assert metrics.NOTICES_SENT.labels("sms", "registered")._value.get() == sent_before + 1
    clock.advance(timedelta(days=1))  # four notices a day here; the cap is five
    await do(
        routing, no, "reply", keys["bdc"], reply="已办理抵押注销登记，请携身份证到窗口领取证书"
    )
    r = await intake.post(
        f"/api/v1/cases/{no}/feedback", json={"satisfaction": "unsatisfied"}, headers=keys["window"]
    )
    assert r.status_code == 200, r.text
    r = await routing.post(
        f"/api/v1/cases/{no}/rating-review",
        json={"decision": "reopen"},
        headers=keys["coordinator"],
    )
    assert r.status_code == 200, r.text
    await do(routing, no, "sign", keys["bdc"])
    await do(routing, no, "reply", keys["bdc"], reply="已补发证书")
    r = await intake.post(
        f"/api/v1/cases/{no}/feedback", json={"satisfaction": "satisfied"}, headers=keys["window"]
    )
    assert r.json()["status"] == "closed"

    assert await deliver(sessionmaker, phone, clock) == 5  # the day's cap, exactly
    assert {to for to, _ in phone.sent} == {"13800138001"}
    said = [t for _, t in phone.sent]
    due = datetime.fromisoformat(resumed["deadlines"]["handle_due_at"]).astimezone(SHANGHAI)
    assert said[0].startswith(
        f"【办不成事窗口】您的诉求已登记，编号{no}，跟踪码{case['tracking_code']}"
    )
    assert said[1].startswith(f"【办不成事窗口】您的诉求{no}已交广州市不动产登记中心办理，")
    assert said[2].endswith("暂停办理：等待补充注销申请书。恢复后告知您新时限。")
    assert f"{due.month}月{due.day}日{due:%H:%M}前答复您" in said[3]
    assert "已答复：已办理抵押注销登记，请携身份证到窗口领取证书 请回复两位数字" in said[4]
    assert "不满意评价已收到" in said[5]
    assert "已重新办理" in said[6]
    assert "已答复：已补发证书" in said[7]
    assert said[8].endswith("已办结，感谢您的监督。")
    assert not any("11010519491231002X" in t or "黄丽华" in t for t in said)

    async with sessionmaker() as session:
        kept = (await session.execute(select(Notice).order_by(Notice.id))).scalars().all()
    assert [n.event for n in kept] == [
        "registered",
        "assigned",
        "suspended",
        "resumed",
        "replied",
        "rating_review",
        "reopened",
        "replied",
        "closed",
    ]
    assert [n.text for n in kept] == said
    assert all(n.segments == templates.segments(n.text) for n in kept)
    billed = metrics.NOTICE_SEGMENTS.labels("sms")._value.get() - parts_before
    assert billed == sum(n.segments for n in kept)
    assert await deliver(sessionmaker, phone, clock) == 0  # each once
    staff = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    assert [(n["event"], n["text"]) for n in staff["notices"]] == [(n.event, n.text) for n in kept]


async def test_nobody_is_told_through_a_landline_the_hotline_or_after_opting_out(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    landline = {**ESTATE, "applicant": {**ESTATE["applicant"], "phone": "020-83838383"}}
    r = await intake.post("/api/v1/cases", json=landline, headers=keys["window"])
    assert r.status_code == 201, r.text
    opted = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    async with transaction(sessionmaker) as session:
        await session.execute(
            update(Case).where(Case.case_no == opted["case_no"]).values(notices_opted_out=True)
        )
    phone = Phone()
    await deliver(sessionmaker, phone, clock)
    # The opted-out case's first notices were written before it opted out: they are dropped
    # at delivery, not sent.
    assert phone.sent == []


def test_the_quiet_hours_hold_a_notice_until_eight_unless_urgent() -> None:
    evening = datetime(2026, 11, 18, 21, 30, tzinfo=SHANGHAI)
    assert rules.held_for(evening, urgent=False) == timedelta(hours=10, minutes=30)
    assert rules.held_for(evening, urgent=True) is None
    early = datetime(2026, 11, 19, 7, 59, tzinfo=SHANGHAI)
    assert rules.held_for(early, urgent=False) == timedelta(minutes=1)
    assert rules.held_for(datetime(2026, 11, 19, 8, 0, tzinfo=SHANGHAI), urgent=False) is None
    assert rules.held_for(datetime(2026, 11, 19, 20, 59, tzinfo=SHANGHAI), urgent=False) is None


async def test_a_notice_at_night_waits_for_the_morning_and_keeps_its_place(
    intake: httpx.AsyncClient,
    clock: ManualClock,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Registered at 22:00: both its notices wait until 08:00 (the outbox's clock), and the
    later one never overtakes the earlier."""
    clock.set(datetime(2026, 11, 18, 22, 0, tzinfo=SHANGHAI))
    with capture_logs() as logs:
        case = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    held_lines = [line for line in logs if line["event"] == "notice_held"]
    assert [(line["notice"], line["until"]) for line in held_lines] == [
        ("registered", "2026-11-19T08:00:00+08:00"),
        ("assigned", "2026-11-19T08:00:00+08:00"),
    ]
    shown = (await intake.get(f"/api/v1/cases/{case['case_no']}", headers=keys["window"])).json()
    assert [(n["event"], n["queued"], n["scheduled_for"]) for n in shown["notices"]] == [
        ("registered", True, "2026-11-19T08:00:00+08:00"),
        ("assigned", True, "2026-11-19T08:00:00+08:00"),
    ]
    phone = Phone()
    assert await deliver(sessionmaker, phone, clock) == 0
    async with transaction(sessionmaker) as session:
        held = (
            (
                await session.execute(
                    select(OutboxMessage).where(OutboxMessage.topic == Topic.applicant_notice)
                )
            )
            .scalars()
            .all()
        )
        assert len(held) == 2
        # Ten hours on the database's clock: the morning has come.
        await session.execute(
            text(
                "UPDATE outbox SET available_at = available_at - interval '10 hours' "
                "WHERE topic = :t"
            ),
            {"t": Topic.applicant_notice},
        )
    assert await deliver(sessionmaker, phone, clock) == 2
    assert [t.split("，")[0] for _, t in phone.sent] == [
        "【办不成事窗口】您的诉求已登记",
        f"【办不成事窗口】您的诉求{case['case_no']}已交广州市不动产登记中心办理",
    ]


async def test_a_case_sends_at_most_the_days_cap(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Suspended and resumed all day: after the cap the steps are on the tracking page only;
    the next day counts afresh."""
    no = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()["case_no"]
    await do(routing, no, "sign", keys["bdc"])
    for _ in range(3):
        await do(routing, no, "suspend", keys["bdc"], reason="等待材料")
        await do(routing, no, "resume", keys["bdc"], note="已补齐")
    phone = Phone()
    await deliver(sessionmaker, phone, clock)
    assert len(phone.sent) == rules.DAILY_CAP
    clock.advance(timedelta(days=1))
    await do(routing, no, "suspend", keys["bdc"], reason="等待材料")
    await deliver(sessionmaker, phone, clock)
    assert len(phone.sent) == rules.DAILY_CAP + 1


async def test_a_provider_outage_delays_the_notices_and_keeps_their_order(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    no = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()["case_no"]
    await do(routing, no, "sign", keys["bdc"])
    await do(routing, no, "suspend", keys["bdc"], reason="等待材料")
    assert await deliver(sessionmaker, Phone(down=True), clock) == 0
    async with transaction(sessionmaker) as session:
        failed = await session.scalar(
            text("SELECT max(attempts) FROM outbox WHERE topic = :t"),
            {"t": Topic.applicant_notice},
        )
        assert failed == 1
        await session.execute(
            text("UPDATE outbox SET available_at = now() WHERE topic = :t"),
            {"t": Topic.applicant_notice},
        )
    phone = Phone()
    assert await deliver(sessionmaker, phone, clock) == 3
    assert ["登记" in phone.sent[0][1], "已交" in phone.sent[1][1], "暂停" in phone.sent[2][1]] == [
        True,
        True,
        True,
    ]


def test_every_template_fits_one_sms_with_typical_values() -> None:
    values = {
        "signature": "办不成事窗口",
        "case_no": "GZ-20261118-000123",
        "tracking_code": "K7M2Q9XR",
        "department": "市规划和自然资源局",
        "due": "11月25日17:30",
        "reason": "等待补充材料",
        "reply": templates.quoted("已办理" * 30),
    }
    for event, template in templates.DEFAULTS.items():
        rendered = templates.render(template, values)
        assert "$" not in rendered, event
        assert templates.segments(rendered) <= (2 if event == "replied" else 1), (
            event,
            len(rendered),
        )


def test_a_hotline_case_is_left_to_the_hotline() -> None:
    case: Any = Case(
        channel="hotline",
        status="registered",
        urgent=False,
        applicant_phone="13800138001",
        notices_opted_out=False,
        notices_day=None,
        notices_that_day=0,
    )
    assert not rules.reachable(case)
    case.channel = "window"
    assert rules.reachable(case)
    assert case_body()["applicant"]["phone"] == case.applicant_phone


async def test_the_applicant_turns_notices_off_on_the_tracking_page(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Proven as tracking is: wrong digits change nothing and answer the look-up's 404; the
    right ones stop the notices not yet sent and every later one, until turned on again."""
    case = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    code, no = case["tracking_code"], case["case_no"]
    wrong = await intake.put(
        f"/api/v1/track/{code}/notices", json={"phone_last4": "0000", "notices": False}
    )
    assert wrong.status_code == 404
    off = await intake.put(
        f"/api/v1/track/{code}/notices", json={"phone_last4": "8001", "notices": False}
    )
    assert off.status_code == 200, off.text
    assert off.json()["notices"] is False
    await do(routing, no, "sign", keys["bdc"])
    await do(routing, no, "suspend", keys["bdc"], reason="等待材料")
    phone = Phone()
    await deliver(sessionmaker, phone, clock)
    assert phone.sent == []  # the two written before, and the one after
    staff = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    assert staff["notices_opted_out"] is True

    on = await intake.put(
        f"/api/v1/track/{code}/notices", json={"phone_last4": "8001", "notices": True}
    )
    assert on.json()["notices"] is True
    await do(routing, no, "resume", keys["bdc"], note="已补齐")
    await deliver(sessionmaker, phone, clock)
    assert [t.split("已")[1][:4] for _, t in phone.sent] == ["恢复办理"]
    bad = await intake.put(
        f"/api/v1/track/{code}/notices", json={"phone_last4": "8001", "notices": "no"}
    )
    assert bad.status_code == 422


async def test_an_extension_granted_tells_the_new_deadline_and_why(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The applicant reads why the department needs more time (its request), not the
    coordinator's note, and the deadline as it now stands; a refusal tells them nothing."""
    no = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()["case_no"]
    await do(routing, no, "sign", keys["bdc"])
    phone = Phone()
    await deliver(sessionmaker, phone, clock)
    asked = await routing.post(
        f"/api/v1/cases/{no}/extensions",
        headers=keys["bdc"],
        json={"extend_by": "3 working_days", "reason": "需调取历史档案"},
    )
    assert asked.status_code == 201, asked.text
    decided = await routing.post(
        f"/api/v1/extensions/{asked.json()['id']}/decision",
        headers=keys["coordinator"],
        json={"approve": True, "note": "同意"},
    )
    assert decided.status_code == 200, decided.text
    due = datetime.fromisoformat(decided.json()["case"]["deadlines"]["handle_due_at"])
    local = due.astimezone(SHANGHAI)
    await deliver(sessionmaker, phone, clock)
    assert phone.sent[-1][1] == (
        f"【办不成事窗口】您的诉求{no}办理时限延至{local.month}月{local.day}日{local:%H:%M}："
        "需调取历史档案。"
    )
    told = len(phone.sent)
    again = await routing.post(
        f"/api/v1/cases/{no}/extensions",
        headers=keys["bdc"],
        json={"extend_by": "2 working_days", "reason": "还需会商"},
    )
    refused = await routing.post(
        f"/api/v1/extensions/{again.json()['id']}/decision",
        headers=keys["coordinator"],
        json={"approve": False, "note": "不同意"},
    )
    assert refused.status_code == 200, refused.text
    await deliver(sessionmaker, phone, clock)
    assert len(phone.sent) == told


class Refusing(Phone):
    """A provider that says this number will never take a message (Alibaba Cloud's
    isv.MOBILE_NUMBER_ILLEGAL) for the first notice, and sends the rest."""

    async def send(
        self, phone: str, text: str, *, case_no: str, event: str, values: Mapping[str, str]
    ) -> str | None:
        if event == "registered":
            raise SmsUndeliverable("isv.MOBILE_NUMBER_ILLEGAL")
        return await super().send(phone, text, case_no=case_no, event=event, values=values)


async def test_a_refusal_no_retry_can_change_is_kept_and_lets_the_next_through(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Not retried twelve times over two days, not a dead letter holding the case's later
    notices back: kept as not delivered, with the provider's code, for the window to see."""
    case = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    before = metrics.NOTICES_FAILED.labels("sms", "registered", "permanent")._value.get()
    phone = Refusing()
    assert await deliver(sessionmaker, phone, clock) == 2  # both handled, one refused
    assert ["已交" in t for _, t in phone.sent] == [True]
    async with sessionmaker() as session:
        attempts = (
            await session.execute(
                select(OutboxMessage.attempts, OutboxMessage.failed_at)
                .where(OutboxMessage.topic == Topic.applicant_notice)
                .order_by(OutboxMessage.id)
            )
        ).all()
    assert [tuple(a) for a in attempts] == [(1, None), (1, None)]
    staff = (await intake.get(f"/api/v1/cases/{case['case_no']}", headers=keys["window"])).json()
    assert [(n["event"], n["delivered"]) for n in staff["notices"]] == [
        ("registered", False),
        ("assigned", None),
    ]
    after = metrics.NOTICES_FAILED.labels("sms", "registered", "permanent")._value.get()
    assert after == before + 1
