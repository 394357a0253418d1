"""Issue 26: no side door to an applicant's data, and limits no caller can turn against them.

Each test names the row of the issue's review it closes; each failed on the code before it."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from tests.helpers.bodies import ESTATE, case_body
from tests.helpers.hotline import order, post, signed
from tests.helpers.keys import IssueFactory, KeyFactory
from tests.helpers.notices import texted
from tests.helpers.rules import SAMPLE_TABLE

pytestmark = pytest.mark.usefixtures("sample_departments")

APPLICANT = {"name": "黄丽华", "phone": "13800138001", "type": "individual"}
TYPED = "黄丽华 138-0013-8001"
"""The applicant's name and phone as staff type them into free text."""


async def _routed(intake: httpx.AsyncClient, window: dict[str, str], **body: Any) -> Any:
    r = await intake.post(
        "/api/v1/cases", json={**ESTATE, "applicant": APPLICANT, **body}, headers=window
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_masked_readers_get_no_tracking_code_and_redacted_materials(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    make_key: KeyFactory,
) -> None:
    """#2: with the tracking code and four digits anyone reads the case and changes its
    notices; masked readers got the code, and materials typed with the applicant's data."""
    hall = await make_key("window", "GZ-BDC")
    case = await _routed(intake, hall, title=f"{TYPED}房屋转移登记")
    no, code = case["case_no"], case["tracking_code"]
    suspended = (
        await routing.post(f"/api/v1/cases/{no}/sign", json={}, headers=keys["bdc"]),
        await routing.post(
            f"/api/v1/cases/{no}/suspend",
            json={"reason": "等待补件", "required_materials": [f"{TYPED}的委托书"]},
            headers=keys["bdc"],
        ),
    )
    assert suspended[1].status_code == 200, suspended[1].text
    other_hall = await make_key("window", "GZ-SWJ")
    for reader in (other_hall, await make_key("supervisor")):
        r = await intake.get(f"/api/v1/cases/{no}", headers=reader)
        body = r.json()
        assert body["tracking_code"] != code
        assert body["tracking_code"].startswith(code[:2])
        assert "tracking_code" in body["masked"]
        dumped = json.dumps(body, ensure_ascii=False)
        assert code not in dumped, dumped[max(0, dumped.find(code) - 200) : dumped.find(code) + 20]
        assert "13800138001" not in dumped
        assert "138-0013-8001" not in dumped
        assert "黄丽华" not in dumped
        assert body["tracking_card"]["required_materials"] == ["黄*华 138****8001的委托书"]
    clear = (await intake.get(f"/api/v1/cases/{no}", headers=hall)).json()
    assert clear["tracking_code"] == code
    assert clear["tracking_card"]["required_materials"] == [f"{TYPED}的委托书"]
    # The keyless look-up shows the words without the applicant, whoever holds the code.
    looked = await intake.get(f"/api/v1/track/{code}", params={"phone_last4": "8001"})
    assert looked.status_code == 200
    shown = json.dumps(looked.json(), ensure_ascii=False)
    assert "黄丽华" not in shown
    assert "0013" not in shown
    assert looked.json()["tracking_card"]["required_materials"] == ["黄*华 138****8001的委托书"]


async def test_simulate_shows_no_applicant_and_is_audited(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    make_key: KeyFactory,
    issue: IssueFactory,
) -> None:
    """#4: a rule simulation returned stored titles verbatim, unaudited."""
    case = await _routed(intake, keys["window"], title=f"{TYPED}抵押登记注销拖延")
    table = copy.deepcopy(SAMPLE_TABLE)
    for rule in table["rules"]:
        rule["lead_department"] = "GZ-GHZY"  # every case moves: the examples name this one
    issued = await issue("admin")
    admin = issued.headers
    r = await routing.post("/api/v1/route/simulate", json={"table": table}, headers=admin)
    assert r.status_code == 200, r.text
    shown = json.dumps(r.json(), ensure_ascii=False)
    assert case["case_no"] in shown
    assert "黄丽华" not in shown
    assert "0013" not in shown
    auditor = await make_key("auditor")
    rows = (
        await routing.get("/api/v1/audit", params={"key_id": str(issued.id)}, headers=auditor)
    ).json()["items"]
    assert len(rows) == 1, rows
    assert rows[0]["operation"].startswith("POST /api/v1/route/simulate (route simulation")
    assert case["case_no"] in rows[0]["case_nos"]
    assert rows[0]["fields"] == ["title"]


async def test_a_window_acts_only_on_its_halls_cases(
    intake: httpx.AsyncClient, keys: dict[str, dict[str, str]], make_key: KeyFactory
) -> None:
    """#5: another hall's window closed a case with feedback, resolved on the spot and referred
    out of scope cases held at another hall."""
    bdc_window, other = await make_key("window", "GZ-BDC"), await make_key("window", "GZ-SWJ")
    unbound = await make_key("window")
    held = await intake.post(
        "/api/v1/cases",
        json=case_body(hold=True, applicant=APPLICANT),
        headers=bdc_window,
    )
    assert held.status_code == 201, held.text
    no = held.json()["case_no"]
    attempts = {
        "resolve-on-spot": {"note": "当场办结"},
        "out-of-scope": {"referred_to": "法院", "explanation": "属司法程序"},
        "hand-over": None,
        "feedback": {"satisfaction": "satisfied"},
    }
    for who in (other, unbound):
        for action, body in attempts.items():
            r = await intake.post(f"/api/v1/cases/{no}/{action}", json=body, headers=who)
            assert r.status_code == 403, (action, r.text)
    assert (await intake.get(f"/api/v1/cases/{no}", headers=bdc_window)).json()[
        "status"
    ] == "registered"
    # Its own hall's window acts, and so does the coordinator.
    done = await intake.post(
        f"/api/v1/cases/{no}/resolve-on-spot", json={"note": "当场办结"}, headers=bdc_window
    )
    assert done.status_code == 200, done.text


async def test_extensions_are_decided_on_open_cases_and_their_words_follow_need_to_know(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
) -> None:
    """#6: an extension was approved on a closed case (moving its deadline), its reason shown
    to an admin in clear, unaudited."""
    case = await _routed(intake, keys["window"])
    no = case["case_no"]
    await routing.post(f"/api/v1/cases/{no}/sign", json={}, headers=keys["bdc"])
    ext = await routing.post(
        f"/api/v1/cases/{no}/extensions",
        json={"extend_by": "3 working_days", "reason": f"需{TYPED}本人到场核验"},
        headers=keys["bdc"],
    )
    assert ext.status_code == 201, ext.text
    assert ext.json()["reason"] == f"需{TYPED}本人到场核验"  # the lead sees its own words
    replied = await routing.post(
        f"/api/v1/cases/{no}/reply", json={"reply": "已办结"}, headers=keys["bdc"]
    )
    assert replied.status_code == 200, replied.text
    closed = await intake.post(
        f"/api/v1/cases/{no}/feedback", json={"satisfaction": "satisfied"}, headers=keys["window"]
    )
    assert closed.json()["status"] == "closed", closed.text
    for who in (keys["admin"], keys["coordinator"]):
        r = await routing.post(
            f"/api/v1/extensions/{ext.json()['id']}/decision", json={"approve": True}, headers=who
        )
        assert r.status_code == 409, r.text
    after = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    assert after["deadlines"] == closed.json()["deadlines"]

    # On an open case an admin (masked) reads the words redacted; the coordinator in clear,
    # with an audit row.
    for decider, clear in ((keys["admin"], False), (keys["coordinator"], True)):
        case = await _routed(intake, keys["window"])
        await routing.post(f"/api/v1/cases/{case['case_no']}/sign", json={}, headers=keys["bdc"])
        ext = await routing.post(
            f"/api/v1/cases/{case['case_no']}/extensions",
            json={"extend_by": "1 working_days", "reason": f"需{TYPED}本人到场核验"},
            headers=keys["bdc"],
        )
        r = await routing.post(
            f"/api/v1/extensions/{ext.json()['id']}/decision",
            json={"approve": False, "note": f"请先电话联系{TYPED}"},
            headers=decider,
        )
        assert r.status_code == 200, r.text
        words = json.dumps(r.json()["extension"], ensure_ascii=False)
        assert ("黄丽华" in words) is clear
        assert ("0013" in words) is clear


async def test_invisible_characters_and_empty_reasons_are_refused(
    intake: httpx.AsyncClient, keys: dict[str, dict[str, str]], make_key: KeyFactory
) -> None:
    """#8: a title with a right-to-left override, an unmask reason of dots or zero-width
    spaces."""
    for char in ("\u202e", "\u200b", "\u2066", "\ufeff"):
        r = await intake.post(
            "/api/v1/cases",
            json=case_body(title=f"房屋登记{char}exe.jpg"),
            headers=keys["window"],
        )
        assert r.status_code == 422, (hex(ord(char)), r.text)
        assert r.json()["errors"][0]["field"] == "title"
    no = (await _routed(intake, keys["window"]))["case_no"]
    supervisor = await make_key("supervisor")
    for reason in ("....", "————————", "\u200b\u200b\u200b\u200b\u200b", "1 2 ."):
        r = await intake.post(
            f"/api/v1/cases/{no}/unmask", json={"reason": reason}, headers=supervisor
        )
        assert r.status_code == 422, (reason, r.text)
        assert r.json()["errors"][0]["field"] == "reason"


async def test_answers_are_not_cached_or_sniffed(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    """#11: no Cache-Control: no-store on answers with personal data or the workbook."""
    no = (await _routed(intake, keys["window"]))["case_no"]
    answers = [
        await intake.get(f"/api/v1/cases/{no}", headers=keys["window"]),
        await intake.get("/api/v1/cases", headers=keys["window"]),
        await routing.get(
            "/api/v1/reports/monthly",
            params={"month": "2026-11", "format": "xlsx"},
            headers=keys["admin"],
        ),
        await intake.get("/api/v1/cases/NOPE", headers=keys["window"]),
    ]
    for r in answers:
        assert r.headers["cache-control"] == "no-store", r.url
        assert r.headers["x-content-type-options"] == "nosniff", r.url


async def test_a_role_that_may_never_call_gets_403_before_422(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    make_key: KeyFactory,
) -> None:
    """#12: a role that may not call a route was told its body was wrong first."""
    supervisor = await make_key("supervisor")
    r = await intake.post("/api/v1/cases", json={"nonsense": 1}, headers=supervisor)
    assert r.status_code == 403, r.text
    r = await routing.post(
        "/api/v1/extensions/1/decision", json={"approve": "perhaps"}, headers=keys["bdc"]
    )
    assert r.status_code == 403, r.text
    r = await routing.post("/api/v1/cases/X/assign", json={}, headers=keys["bdc"])
    assert r.status_code == 403, r.text
    # A role that may call it still hears about its body.
    r = await intake.post("/api/v1/cases", json={"nonsense": 1}, headers=keys["window"])
    assert r.status_code == 422
    # Invalid UTF-8 is the documented malformed-JSON problem, not the framework's bare 400.
    r = await intake.post(
        "/api/v1/cases",
        content=b'{"title": "\xff\xfe"}',
        headers={**keys["window"], "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["type"] == "/problems/malformed-json"
    assert r.json()["errors"][0]["field"] == "body"


async def test_the_hotline_rates_its_own_orders(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    """#19: the hotline key got 403 on feedback for the cases its own signed orders created."""
    body = order()
    created = await post(intake, body, signed(body))
    assert created.status_code == 201, created.text
    no = created.json()["case_no"]
    hotline = await make_key("hotline")
    seen = await intake.get(f"/api/v1/cases/{no}", headers=hotline)
    assert seen.status_code == 200, seen.text
    rated = await intake.post(
        f"/api/v1/cases/{no}/feedback", json={"satisfaction": "unsatisfied"}, headers=hotline
    )
    # Not 403: the case is not yet replied, so the rating is refused for its state.
    assert rated.status_code == 409, rated.text
    portal = await make_key("portal")
    assert (await intake.get(f"/api/v1/cases/{no}", headers=portal)).status_code == 403


async def test_reading_what_applicants_texted_is_audited(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    make_key: KeyFactory,
    issue: IssueFactory,
) -> None:
    """#7: the SMS reply inbox showed the applicants' own words with no audit row."""
    no = (await _routed(intake, keys["window"]))["case_no"]
    await texted(intake, "请尽快处理，我是黄丽华", phone=APPLICANT["phone"])
    coordinator = await issue("coordinator")
    r = await intake.get("/api/v1/sms-replies", headers=coordinator.headers)
    assert r.status_code == 200, r.text
    assert [item["case_no"] for item in r.json()["items"]] == [no]
    auditor = await make_key("auditor")
    # The trail outlives each test (it refuses TRUNCATE): this key's rows only.
    rows = (
        await routing.get("/api/v1/audit", params={"key_id": str(coordinator.id)}, headers=auditor)
    ).json()["items"]
    assert len(rows) == 1, rows
    assert rows[0]["operation"].startswith("GET /api/v1/sms-replies")
    assert rows[0]["fields"] == ["sms_text"]


def test_log_lines_show_no_tracking_code() -> None:
    """#10: a console notice's line carried the citizen's tracking code."""
    from shared.logging import scrub, scrub_event

    line = scrub("【办不成事窗口】您的诉求已登记，编号GZ-20261203-000001，跟踪码Q3GYCSUQ，由广州")
    assert "Q3GYCSUQ" not in line
    assert "跟踪码Q3******" in line
    assert "Q3GYCSUQ" not in scrub("GET /api/v1/track/Q3GYCSUQ?phone_last4=8001")
    event = scrub_event(None, "info", {"event": "x", "tracking_code": "Q3GYCSUQ"})
    assert event["tracking_code"] == "Q3******"
