"""What applicants text back (issue 15): a rating recorded as the window's feedback is, TD,
and everything else kept for the window; delivery receipts; the provider's signed pushes."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case import sms_replies as replies
from services.notices.providers import ConsoleProvider, Providers
from services.outbox.topics import Topic
from shared import metrics
from shared.database import transaction
from shared.logging import configure as configure_logging
from shared.models import Case, Notice, SmsReply
from shared.timeutil import SHANGHAI
from sla_worker.dispatch import dispatch_all
from sla_worker.handlers import notice_handler
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock
from tests.helpers.notices import MOBILE, Phone, deliver, do, sms_signed, texted

pytestmark = pytest.mark.usefixtures("sample_departments")


async def replied_case(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    answer: str = "已办理抵押注销登记",
) -> str:
    no: str = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()[
        "case_no"
    ]
    await do(routing, no, "sign", keys["bdc"])
    await do(routing, no, "reply", keys["bdc"], reply=answer)
    return no


async def code_of(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> str:
    async with sessionmaker() as session:
        code = await session.scalar(select(Case.reply_code).where(Case.case_no == case_no))
    assert code is not None
    assert len(code) == 4
    return code


async def test_an_unsatisfied_reply_goes_to_review_and_an_upheld_answer_closes(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """不满意甄别 from the SMS door: the one reply rates and says whether it was solved; the
    case waits for a coordinator, who upholds the answer: closed, never reopened."""
    clock.set(datetime(2026, 11, 19, 10, 0, tzinfo=SHANGHAI))
    no = await replied_case(intake, routing, keys)
    phone = Phone()
    await deliver(sessionmaker, phone, clock)
    code = await code_of(sessionmaker, no)
    asked = phone.sent[-1][1]
    assert f"请回复两位数字加{code}评价" in asked
    assert f"首位1满意2基本满意3不满意，次位1已解决2未解决，如11{code}。" in asked

    before = metrics.SMS_REPLIES.labels("rating")._value.get()
    await texted(intake, f"32{code} 还是没收到证书", sequence_id="seq-1")
    case = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    assert case["status"] == "rating_review"
    assert case["reopen_count"] == 0
    assert case["feedback"] == {
        "satisfaction": "unsatisfied",
        "comment": "还是没收到证书",
        "resolved": False,
        "rating_outcome": "pending",
        # 2 working days from Thursday 10:00: Monday 10:00.
        "rating_review_due_at": "2026-11-23T10:00:00+08:00",
    }
    last = case["history"][-1]
    assert (last["action"], last["actor"]["role"]) == ("feedback_unsatisfied", "system")
    assert last["data"] == {"satisfaction": "unsatisfied", "resolved": False, "review": True}
    assert [(r["outcome"], r["text"]) for r in case["sms_replies"]] == [
        ("rating", f"32{code} 还是没收到证书")
    ]
    assert metrics.SMS_REPLIES.labels("rating")._value.get() == before + 1

    # The provider pushes the same message again (our answer was lost): it acts once.
    seen = metrics.SMS_REPLIES.labels("seen")._value.get()
    await texted(intake, f"32{code} 还是没收到证书", sequence_id="seq-1")
    assert metrics.SMS_REPLIES.labels("seen")._value.get() == seen + 1
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SmsReply)) == 1

    await deliver(sessionmaker, phone, clock)
    assert "不满意评价已收到" in phone.sent[-1][1]

    clock.advance(timedelta(hours=3))
    r = await routing.post(
        f"/api/v1/cases/{no}/rating-review",
        json={"decision": "uphold", "reason": "证书已于11月18日寄出，快递单号已告知"},
        headers=keys["coordinator"],
    )
    assert r.status_code == 200, r.text
    decided = r.json()
    assert (decided["status"], decided["reopen_count"]) == ("closed", 0)
    assert decided["feedback"]["rating_outcome"] == "upheld"
    assert decided["feedback"]["satisfaction"] == "unsatisfied"  # the applicant's, kept
    await deliver(sessionmaker, phone, clock)
    assert "经复核维持原答复：证书已于11月18日寄出" in phone.sent[-1][1]


async def test_a_reopened_review_gets_a_new_clock_and_a_bare_rating_still_counts(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock.set(datetime(2026, 11, 19, 10, 0, tzinfo=SHANGHAI))
    no = await replied_case(intake, routing, keys)
    phone = Phone()
    code = await code_of(sessionmaker, no)
    await texted(intake, f"3 {code}")  # the earlier one-digit reply: 解决 not said
    clock.advance(timedelta(hours=1))
    r = await routing.post(
        f"/api/v1/cases/{no}/rating-review",
        json={"decision": "reopen"},
        headers=keys["coordinator"],
    )
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["status"], case["reopen_count"]) == ("reopened", 1)
    assert case["feedback"]["resolved"] is None
    assert case["feedback"]["rating_outcome"] == "reopened"
    # 重办: a new handling deadline counted from the decision, not from the rating.
    assert case["deadlines"]["handle_due_at"] == "2026-11-26T11:00:00+08:00"  # 5 working days
    await deliver(sessionmaker, phone, clock)
    assert "已重新办理" in phone.sent[-1][1]

    # Answered again: a new code, and a bare full-width １ (the phone's only case waiting) closes.
    await do(routing, no, "sign", keys["bdc"])
    await do(routing, no, "reply", keys["bdc"], reply="已补发证书")
    await texted(intake, "１")
    case = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    assert (case["status"], case["feedback"]["satisfaction"]) == ("closed", "satisfied")


async def test_a_phone_with_two_answers_waiting_rates_by_code(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A bare 2 could mean either case: nothing is rated, the window reads it. With the code,
    the right one is."""
    first = await replied_case(intake, routing, keys, "第一件的答复")
    second = await replied_case(intake, routing, keys, "第二件的答复")
    a, b = await code_of(sessionmaker, first), await code_of(sessionmaker, second)
    if a == b:  # one chance in 10,000: the test is about telling them apart
        async with transaction(sessionmaker) as session:
            b = "9999" if a != "9999" else "0000"
            await session.execute(
                text("UPDATE cases SET reply_code = :b WHERE case_no = :no"),
                {"b": b, "no": second},
            )
    await texted(intake, "2")
    statuses = [
        (await intake.get(f"/api/v1/cases/{n}", headers=keys["window"])).json()["status"]
        for n in (first, second)
    ]
    assert statuses == ["replied", "replied"]
    inbox = (await intake.get("/api/v1/sms-replies", headers=keys["window"])).json()
    assert [(r["text"], r["outcome"], r["phone_last4"]) for r in inbox["items"]] == [
        ("2", "other", "8001")
    ]
    assert inbox["items"][0]["case_no"] in (first, second)

    await texted(intake, f"2 {b}")
    case = (await intake.get(f"/api/v1/cases/{second}", headers=keys["window"])).json()
    assert (case["status"], case["feedback"]["satisfaction"]) == ("closed", "basically_satisfied")
    first_now = (await intake.get(f"/api/v1/cases/{first}", headers=keys["window"])).json()
    assert first_now["status"] == "replied"

    # Read by the window: gone from what waits, kept in the whole list, first reader's time.
    waiting_id = inbox["items"][0]["id"]
    clock.advance(timedelta(minutes=5))
    r = await intake.post(f"/api/v1/sms-replies/{waiting_id}/read", headers=keys["coordinator"])
    assert r.status_code == 200, r.text
    read_at = r.json()["read_at"]
    clock.advance(timedelta(minutes=5))
    again = await intake.post(f"/api/v1/sms-replies/{waiting_id}/read", headers=keys["window"])
    assert again.json()["read_at"] == read_at
    waiting = (await intake.get("/api/v1/sms-replies", headers=keys["window"])).json()
    assert waiting["items"] == []
    every = await intake.get("/api/v1/sms-replies?waiting=false&limit=1", headers=keys["window"])
    assert every.json()["items"][0]["outcome"] == "rating"
    assert every.json()["next_cursor"]
    r = await intake.get("/api/v1/sms-replies", headers=keys["bdc"])
    assert r.status_code == 403  # a department key reads replies on its own cases only
    missing = await intake.post("/api/v1/sms-replies/999999/read", headers=keys["window"])
    assert missing.status_code == 404


async def test_words_for_a_person_are_kept_for_the_window_and_not_shown_to_everyone(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    make_key: Any,
) -> None:
    no = await replied_case(intake, routing, keys)
    await texted(intake, "请问证书 什么时候能领？\n")
    await texted(intake, "1", phone="13900000000")  # a phone with no case
    case = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    assert case["status"] == "replied"
    assert [(r["text"], r["outcome"]) for r in case["sms_replies"]] == [
        ("请问证书 什么时候能领？", "other")
    ]
    lead = (await intake.get(f"/api/v1/cases/{no}", headers=keys["bdc"])).json()
    assert len(lead["sms_replies"]) == 1  # the department handling it sees the person's data
    supervisor = await make_key("supervisor")
    masked = (await intake.get(f"/api/v1/cases/{no}", headers=supervisor)).json()
    assert "sms_replies" not in masked
    inbox = (await intake.get("/api/v1/sms-replies", headers=keys["coordinator"])).json()["items"]
    assert [(r["case_no"], r["phone_last4"]) for r in inbox] == [(None, "0000"), (no, "8001")]
    # A window sees the replies on the cases it may read in clear (its own registrations and
    # its hall's); a text from a number no case has waits for the coordinator.
    inbox = (await intake.get("/api/v1/sms-replies", headers=keys["window"])).json()["items"]
    assert [(r["case_no"], r["phone_last4"]) for r in inbox] == [(no, "8001")]
    elsewhere = await make_key("window")
    assert (await intake.get("/api/v1/sms-replies", headers=elsewhere)).json()["items"] == []
    r = await intake.post(f"/api/v1/sms-replies/{inbox[0]['id']}/read", headers=elsewhere)
    assert r.status_code == 404


async def test_td_stops_every_notice_of_the_phone(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    no = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    await deliver(sessionmaker, Phone(), clock)
    await texted(intake, " td ")
    await do(routing, no["case_no"], "sign", keys["bdc"])
    await do(routing, no["case_no"], "suspend", keys["bdc"], reason="等待材料")
    phone = Phone()
    assert await deliver(sessionmaker, phone, clock) == 0
    assert phone.sent == []
    look = await intake.get(
        f"/api/v1/track/{no['tracking_code']}", params={"phone_last4": MOBILE[-4:]}
    )
    assert look.json()["notices"] is False


async def test_the_pushes_are_signed(intake: httpx.AsyncClient) -> None:
    body = json.dumps([{"phone_number": MOBILE, "content": "1", "sequence_id": 1}]).encode()
    for path in ("/webhooks/sms/replies", "/webhooks/sms/receipts"):
        r = await intake.post(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 401
        forged = sms_signed(body, secret="someone-elses-secret")
        assert (await intake.post(path, content=body, headers=forged)).status_code == 401
    bad_bodies = {
        b'{"phone_number": "1"}': '"field": "body"',
        b'[{"content": "1", "sequence_id": 1}]': "[0].phone_number",
        b'[{"phone_number": "1", "content": "1", "sequence_id": -1}]': "[0].sequence_id",
        # Refused at the edge like any text with a control character, before the signature.
        b'[{"phone_number": "1", "content": "\\u0007", "sequence_id": 1}]': "[0].content",
    }
    for bad, field in bad_bodies.items():
        r = await intake.post("/webhooks/sms/replies", content=bad, headers=sms_signed(bad))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in json.dumps(r.json()["errors"]), r.text


async def test_delivery_receipts_mark_the_notices(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    no = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    await deliver(sessionmaker, Phone(), clock)  # ref-1 registered, ref-2 assigned
    failed_before = metrics.NOTICE_RECEIPTS.labels("sms", "false")._value.get()
    reports = [
        {
            "phone_number": MOBILE,
            "send_time": "2026-11-18 10:00:01",
            "report_time": "2026-11-18 10:00:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": "ref-1",
            "out_id": "",
        },
        {"success": False, "err_code": "MK:0001", "biz_id": "ref-2"},
        {"success": True, "err_code": "DELIVERED", "biz_id": "not-ours"},
    ]
    body = json.dumps(reports, ensure_ascii=False).encode()
    r = await intake.post("/webhooks/sms/receipts", content=body, headers=sms_signed(body))
    assert r.status_code == 200, r.text
    case = (await intake.get(f"/api/v1/cases/{no['case_no']}", headers=keys["window"])).json()
    assert [n["delivered"] for n in case["notices"]] == [True, False]
    async with sessionmaker() as session:
        codes = (await session.execute(select(Notice.delivery_code).order_by(Notice.id))).all()
    assert [c for (c,) in codes] == ["DELIVERED", "MK:0001"]
    assert metrics.NOTICE_RECEIPTS.labels("sms", "false")._value.get() == failed_before + 1


@pytest.mark.parametrize(
    ("message", "meant"),
    [
        ("1", ("1", None, None, "")),
        ("14821", ("1", None, "4821", "")),  # the one-digit notice's reply: 解决 not said
        ("3 4821，态度差", ("3", None, "4821", "态度差")),
        ("2。还行", ("2", None, None, "还行")),
        ("３４８２１", ("3", None, "4821", "")),
        # The two-digit reply: rating, 解决 (1 solved, 2 not), then the code.
        ("114821", ("1", "1", "4821", "")),
        ("32 4821 没解决", ("3", "2", "4821", "没解决")),
        ("1 2 4821", ("1", "2", "4821", "")),
        ("12", ("1", "2", None, "")),
        ("３２", ("3", "2", None, "")),
        # A digit that begins words is the words' (`3 2天了`), not a 解决 answer.
        ("3 2天了还没人联系", ("3", None, None, "2天了还没人联系")),
    ],
)
def test_ratings_are_read_as_people_type_them(
    message: str, meant: tuple[str, str | None, str | None, str]
) -> None:
    found = replies.RATING.fullmatch(replies.read(message))
    assert found is not None
    assert found.groups() == meant


@pytest.mark.parametrize("message", ["13", "1234567", "4", "满意", "0000", "TD"])
def test_other_words_are_not_ratings(message: str) -> None:
    found = replies.RATING.fullmatch(replies.read(message))
    assert found is None


async def test_the_figures_and_the_monthly_report_show_how_many_rated(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    make_key: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Two answered, one rated by text: half of those asked answered."""
    rated = await replied_case(intake, routing, keys, "第一件的答复")
    await replied_case(intake, routing, keys, "第二件的答复")
    await texted(intake, f"1{await code_of(sessionmaker, rated)}")
    dashboard = await make_key("dashboard")
    summary = (await routing.get("/api/v1/stats/summary", headers=dashboard)).json()
    assert (summary["asked_to_rate"], summary["rated"], summary["rating_response_rate"]) == (
        2,
        1,
        50.0,
    )
    month = {"month": "2026-11"}
    report = (await routing.get("/api/v1/reports/monthly", params=month, headers=dashboard)).json()
    assert report["summary"]["rating_response_rate"] == 50.0
    book = await routing.get(
        "/api/v1/reports/monthly", params={**month, "format": "xlsx"}, headers=dashboard
    )
    sheet = load_workbook(io.BytesIO(book.content)).worksheets[0]
    shown = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if len(row) > 1}
    assert shown["评价回复率(%)"] == 50.0
    assert shown["请求评价"] == 2


async def test_the_phone_the_openid_and_what_was_texted_never_reach_the_logs(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Through the console provider (which logs each notice), a rating with a comment, words
    for a person, TD and a receipt, at DEBUG."""
    openid = "oPrivacyOpenid0123456789"
    body = {**ESTATE, "applicant": {**ESTATE["applicant"], "wechat_openid": openid}}
    buffer = io.StringIO()
    configure_logging("DEBUG", stream=buffer)
    try:
        no = (await intake.post("/api/v1/cases", json=body, headers=keys["window"])).json()
        await do(routing, no["case_no"], "sign", keys["bdc"])
        await do(routing, no["case_no"], "reply", keys["bdc"], reply="已办理")
        console = Providers(sms=ConsoleProvider(), wechat=ConsoleProvider())
        handler = notice_handler(sessionmaker, console, "办不成事窗口", clock)
        await dispatch_all(sessionmaker, {Topic.applicant_notice: handler})
        code = await code_of(sessionmaker, no["case_no"])
        await texted(intake, f"3{code} 证件号11010519491231002X还没处理")
        await texted(intake, "请联系我的另一个号码13912345678")
        await texted(intake, "TD")
    finally:
        configure_logging("INFO")
    text = buffer.getvalue()
    assert '"event": "applicant_notice"' in text  # the notices were logged...
    assert '"event": "sms_reply"' in text
    for secret in ("13800138001", openid, "11010519491231002X", "13912345678", "另一个号码"):
        assert secret not in text  # ...but nothing of the person


STRANGE_REPLIES: list[Any] = [
    [],
    [{"phone_number": "+86 138-0013-8001", "content": "３４８２１", "sequence_id": 2**62}],
    [{"phone_number": "１３８００１３８００１", "content": "①", "sequence_id": "s-1"}],
    [{"phone_number": "", "content": "", "sequence_id": "s-2"}],
    [{"phone_number": "x" * 32, "content": '=HYPERLINK("http://x","点我")', "sequence_id": 3}],
    [{"phone_number": MOBILE, "content": "١٢٣٤٥", "sequence_id": "s-4"}],  # Arabic-Indic digits
    [{"phone_number": MOBILE, "content": "1" + "９" * 4 + "\u202e", "sequence_id": "s-5"}],
    [{"phone_number": MOBILE, "content": "长" * 2000, "sequence_id": "s-6"}],
    [{"phone_number": MOBILE, "content": "长" * 2001, "sequence_id": "s-7"}],
    [{"phone_number": MOBILE, "content": "1", "sequence_id": 2**70}],
    [{"phone_number": MOBILE, "content": "1", "sequence_id": 1.5}],
    [{"phone_number": MOBILE, "content": "1", "sequence_id": True}],
    [{"phone_number": MOBILE, "content": ["1"], "sequence_id": "s-8"}],
    [{"phone_number": None, "content": "1", "sequence_id": "s-9"}],
    [{"phone_number": MOBILE, "content": "1", "sequence_id": "x" * 65}],
    [{"phone_number": MOBILE, "content": "TD", "sequence_id": "s-10"}] * 501,
    {"phone_number": MOBILE},
    "1",
    None,
]


@pytest.mark.parametrize("body", STRANGE_REPLIES, ids=range(len(STRANGE_REPLIES)))
async def test_a_strange_signed_push_is_a_4xx_or_taken_never_a_500(
    intake: httpx.AsyncClient, body: Any
) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode()
    for path in ("/webhooks/sms/replies", "/webhooks/sms/receipts"):
        r = await intake.post(path, content=raw, headers=sms_signed(raw))
        assert r.status_code in (200, 400, 413, 422), (path, r.status_code, r.text)
        if r.status_code != 200:
            assert r.headers["content-type"].startswith("application/problem+json")
