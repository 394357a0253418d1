"""不满意甄别 (issue 29 #3): an unsatisfied rating waits for a coordinator, who has the case
redone or upholds the answer; nobody deciding in time reopens it; concurrent decisions leave one
outcome; the figures keep the rating and show 满意率 raw and with upheld answers set aside. And
响应率's measure: a signature in time, a card for none."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.runner import run_sweep
from shared.models import Case
from shared.timeutil import SHANGHAI
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")

FRIDAY = datetime(2026, 11, 20, 15, 0, tzinfo=SHANGHAI)
"""Two working days from here run over the weekend: Tuesday 15:00."""


async def rated_unsatisfied(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    **rating: Any,
) -> str:
    """An estate case signed, answered and rated unsatisfied at the window on Friday 15:00."""
    clock.set(FRIDAY - timedelta(hours=4))
    r = await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])
    assert r.status_code == 201, r.text
    no = str(r.json()["case_no"])
    for step, body in (("sign", {}), ("reply", {"reply": "经核查不符合补贴条件，已说明依据"})):
        r = await routing.post(f"/api/v1/cases/{no}/{step}", json=body, headers=keys["bdc"])
        assert r.status_code == 200, r.text
    clock.set(FRIDAY)
    r = await intake.post(
        f"/api/v1/cases/{no}/feedback",
        json={"satisfaction": "unsatisfied", **rating},
        headers=keys["window"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rating_review"
    assert r.json()["status_label"] == "不满意甄别中"
    return no


async def stored(sessionmaker: async_sessionmaker[AsyncSession], no: str) -> Case:
    async with sessionmaker() as session:
        return (await session.execute(select(Case).where(Case.case_no == no))).scalar_one()


async def test_an_undecided_review_reopens_on_time(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    no = await rated_unsatisfied(intake, routing, keys, clock)
    due = datetime(2026, 11, 24, 15, 0, tzinfo=SHANGHAI)  # Tuesday: the weekend is not counted
    case = await stored(sessionmaker, no)
    assert case.rating_review_due_at == due
    assert case.sla_next_check_at == due  # the sweep will look exactly then

    early = await run_sweep(sessionmaker, now=due - timedelta(seconds=1))
    assert early.reviews_lapsed == 0
    assert (await stored(sessionmaker, no)).status == "rating_review"

    swept = await run_sweep(sessionmaker, now=due + timedelta(seconds=1))
    assert swept.reviews_lapsed == 1
    case = await stored(sessionmaker, no)
    assert (case.status, case.rating_outcome, case.reopen_count) == ("reopened", "lapsed", 1)
    assert case.rating_review_due_at is None
    assert case.satisfaction == "unsatisfied"  # the applicant's rating is kept
    # 重办: five working days from the sweep's moment, Tuesday 15:00 → next Tuesday 15:00.
    assert case.handle_due_at == datetime(2026, 12, 1, 15, 0, 1, tzinfo=SHANGHAI)
    assert (await run_sweep(sessionmaker, now=due + timedelta(hours=1))).reviews_lapsed == 0

    shown = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    last = shown["history"][-1]
    assert (last["action"], last["actor"]["role"], last["data"]) == (
        "reopen",
        "system",
        {"outcome": "lapsed"},
    )
    assert shown["feedback"]["rating_outcome"] == "lapsed"
    reviews = (await routing.get("/api/v1/stats/reviews", headers=keys["coordinator"])).json()
    assert reviews["ratings"] == {"pending": 0, "reopened": 0, "upheld": 0, "lapsed": 1}
    late = await routing.post(
        f"/api/v1/cases/{no}/rating-review",
        json={"decision": "uphold", "reason": "答复依据充分"},
        headers=keys["coordinator"],
    )
    assert (late.status_code, late.json()["current_status"]) == (409, "reopened")


async def test_an_upheld_answer_closes_and_the_figures_keep_the_rating(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_key: KeyFactory,
) -> None:
    no = await rated_unsatisfied(intake, routing, keys, clock, resolved=False)
    clock.advance(timedelta(hours=1))
    r = await routing.post(
        f"/api/v1/cases/{no}/rating-review",
        json={"decision": "uphold", "reason": "申请人不符合补贴条件，答复依据充分"},
        headers=keys["coordinator"],
    )
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["status"], case["reopen_count"]) == ("closed", 0)
    assert case["feedback"]["rating_outcome"] == "upheld"
    assert case["feedback"]["rating_review_due_at"] is None
    shown = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    last = shown["history"][-1]
    assert (last["action"], last["actor"]["role"]) == ("uphold", "coordinator")
    assert last["reason"] == "申请人不符合补贴条件，答复依据充分"
    # Nothing left for the sweep: no reopening when the review's time would have run out.
    assert (await stored(sessionmaker, no)).sla_next_check_at is None
    swept = await run_sweep(sessionmaker, now=clock() + timedelta(days=10))
    assert swept.reviews_lapsed == 0
    assert (await stored(sessionmaker, no)).status == "closed"

    dashboard = await make_key("dashboard")
    summary = (await routing.get("/api/v1/stats/summary", headers=dashboard)).json()
    assert (summary["rated"], summary["upheld"]) == (1, 1)
    assert summary["satisfaction_rate"] == 0.0  # raw: the applicant was unsatisfied
    assert summary["satisfaction_rate_upheld_aside"] is None  # nothing left to divide
    assert (summary["solved"], summary["solve_asked"], summary["resolution_rate"]) == (0, 1, 0.0)
    assert (summary["responded"], summary["response_due"], summary["response_rate"]) == (
        1,
        1,
        100.0,
    )
    reviews = (await routing.get("/api/v1/stats/reviews", headers=dashboard)).json()
    assert reviews["ratings"] == {"pending": 0, "reopened": 0, "upheld": 1, "lapsed": 0}
    assert [(d["department"], d["upheld"]) for d in reviews["rating_departments"]] == [
        ("GZ-BDC", 1)
    ]


async def test_concurrent_decisions_leave_one_outcome(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    for _ in range(3):
        no = await rated_unsatisfied(intake, routing, keys, clock)
        reopen = routing.post(
            f"/api/v1/cases/{no}/rating-review",
            json={"decision": "reopen"},
            headers=keys["coordinator"],
        )
        uphold = routing.post(
            f"/api/v1/cases/{no}/rating-review",
            json={"decision": "uphold", "reason": "答复依据充分"},
            headers=keys["coordinator"],
        )
        answers = await asyncio.gather(reopen, uphold)
        assert sorted(a.status_code for a in answers) == [200, 409]
        won = next(a for a in answers if a.status_code == 200).json()
        case = await stored(sessionmaker, no)
        assert case.status == won["status"]
        assert (case.status, case.rating_outcome, case.reopen_count) in (
            ("reopened", "reopened", 1),
            ("closed", "upheld", 0),
        )
        shown = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
        decisions = [e for e in shown["history"] if e["action"] in ("reopen", "uphold")]
        assert len(decisions) == 1


async def test_who_may_decide_and_what_is_refused(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    make_key: KeyFactory,
) -> None:
    no = await rated_unsatisfied(intake, routing, keys, clock)
    path = f"/api/v1/cases/{no}/rating-review"
    reopen = {"decision": "reopen"}
    for role in ("window", "bdc", "admin"):
        r = await routing.post(path, json=reopen, headers=keys[role])
        assert r.status_code == 403, (role, r.text)
    supervisor = await make_key("supervisor")
    assert (await routing.post(path, json=reopen, headers=supervisor)).status_code == 403
    # A coordinator bound to another district's unit does not reach a city department's case.
    elsewhere = await make_key("coordinator", "PY-ZWFW")
    outside = await routing.post(path, json=reopen, headers=elsewhere)
    assert outside.status_code == 403, outside.text
    assert outside.headers["content-type"] == "application/problem+json"
    refused = {
        '{"decision": "uphold"}': "body",
        '{"decision": "uphold", "reason": "ok\\u0000"}': "reason",
        '{"decision": "maybe"}': "decision",
        '{"decision": "reopen", "reason": "答复", "extra": 1}': "extra",
    }
    for body, field in refused.items():
        r = await routing.post(
            path,
            content=body.encode(),
            headers={**keys["coordinator"], "Content-Type": "application/json"},
        )
        assert r.status_code == 422, (body, r.text)
        assert field in r.json()["errors"][0]["field"], (body, r.json())
    missing = await routing.post(
        "/api/v1/cases/GZ-20261120-999999/rating-review", json=reopen, headers=keys["coordinator"]
    )
    assert missing.status_code == 404
    r = await routing.post(path, json=reopen, headers=keys["coordinator"])
    assert r.status_code == 200, r.text


async def test_response_is_a_signature_in_time_or_a_card_for_none(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_key: KeyFactory,
) -> None:
    """响应率: one case signed in time, one never signed (carded at its sign deadline, then signed
    late: still late), one not yet due: 1 of 2."""
    clock.set(datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI))
    made = [
        (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
        for _ in range(2)
    ]
    in_time, never = (c["case_no"] for c in made)
    r = await routing.post(f"/api/v1/cases/{in_time}/sign", json={}, headers=keys["bdc"])
    assert r.status_code == 200, r.text
    assert (await stored(sessionmaker, in_time)).responded is True
    sign_due = (await stored(sessionmaker, never)).sign_due_at
    assert sign_due is not None
    swept = await run_sweep(sessionmaker, now=sign_due + timedelta(seconds=1))
    assert swept.yellow == 1
    assert (await stored(sessionmaker, never)).responded is False
    clock.set(sign_due + timedelta(hours=1))
    r = await routing.post(f"/api/v1/cases/{never}/sign", json={}, headers=keys["bdc"])
    assert r.status_code == 200, r.text
    assert (await stored(sessionmaker, never)).responded is False
    clock.set(sign_due + timedelta(hours=2))
    waiting = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    assert (await stored(sessionmaker, waiting["case_no"])).responded is None

    dashboard = await make_key("dashboard")
    departments = (await routing.get("/api/v1/stats/departments", headers=dashboard)).json()
    bdc = next(d for d in departments["items"] if d["department"] == "GZ-BDC")
    assert bdc["response_rate"] == 50.0
