"""One deadline calculator: whatever a case goes through, the deadlines the live actions leave on
it are the ones its history implies (`timeline.derive`), and a calendar recompute changes
nothing. Hypothesis drives random histories (route, sign, suspend, resume, extend, transfer,
return, assign, reply, reopen by 不满意甄别 or its lapse) from random starts between
mid-September and New Year: across the National Day holidays, their make-up working weekends
and into a stand-in year, under a working-time policy and under the natural-time urgent one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case import rating_review, repository, timeline, workflow
from services.case import service as cases
from services.case import workflow_schemas as forms
from services.case.routing_record import routing_of
from services.case.schemas import Feedback
from services.sla.recompute import recompute_year
from shared.database import transaction
from shared.durations import parse_duration
from shared.enums import CaseStatus, Role
from shared.errors import DomainError
from shared.principal import Principal
from shared.timeutil import SHANGHAI
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock, stand_in_calendar

pytestmark = pytest.mark.usefixtures("sample_departments")

CAL = stand_in_calendar()
COORDINATOR = Principal(role=Role.coordinator)
POLICY = workflow.WorkflowPolicy(parse_duration("1 working_days"), 2, CAL)
DEPARTMENTS = ("GZ-BDC", "GZ-GHZY", "GZ-CGJ")
ACTIONS = (
    "sign",
    "suspend",
    "resume",
    "extend",
    "transfer",
    "return",
    "assign",
    "reply",
    "reopen",
    "lapse",
)
FIRST = datetime(2026, 9, 20, 9, 0, tzinfo=SHANGHAI)  # a make-up working Sunday before 国庆


async def _act(session: AsyncSession, action: str, no: str, case: Any, now: datetime) -> None:
    lead = Principal(role=Role.department, department=case.lead_department)
    other = next(d for d in DEPARTMENTS if d != case.lead_department)
    if action == "sign":
        await workflow.sign(session, no, forms.Sign(), actor=lead, now=now)
    elif action == "suspend":
        await workflow.suspend(session, no, forms.Suspend(reason="等材料"), actor=lead, now=now)
    elif action == "resume":
        await workflow.resume(session, no, forms.Resume(), actor=lead, now=now, calendar=CAL)
    elif action == "extend":
        asked = forms.ExtensionRequest.model_validate(
            {"extend_by": "2 working_days", "reason": "复杂"}
        )
        ext, _ = await workflow.request_extension(session, no, asked, actor=lead, now=now)
        decision = forms.ExtensionDecision(approve=True)
        await workflow.decide_extension(
            session, ext.id, decision, actor=COORDINATOR, now=now, calendar=CAL
        )
    elif action == "transfer":
        to = forms.Transfer(to_department=other, reason="另有职责")
        await workflow.transfer(session, no, to, actor=lead, now=now, calendar=CAL)
    elif action == "return":
        back = forms.Return(reason="不属于本单位职责")
        await workflow.return_case(session, no, back, actor=lead, now=now, policy=POLICY)
    elif action == "assign":
        to_whom = forms.Assign(department=other, reason="协调指派")
        await workflow.assign(session, no, to_whom, actor=COORDINATOR, now=now, policy=POLICY)
    elif action == "reply":
        await workflow.reply(session, no, forms.Reply(reply="已办理"), actor=lead, now=now)
    elif action in ("reopen", "lapse"):
        # 不满意甄别: rated unsatisfied (no clock starts), then redone, by a coordinator's
        # decision or by nobody deciding in time (the next step's time moves on from here).
        unhappy = Feedback.model_validate({"satisfaction": "unsatisfied"})
        await cases.give_feedback(session, no, unhappy, actor=COORDINATOR, now=now)
        later = now + timedelta(seconds=1)
        if action == "reopen":
            redo = forms.RatingReviewDecision(decision=forms.RatingDecision.reopen)
            await rating_review.decide(session, no, redo, actor=COORDINATOR, now=later)
        else:
            await rating_review.lapse(session, await repository.get_by_no(session, no), now=later)


async def _agrees(sessionmaker: async_sessionmaker[AsyncSession], no: str) -> Any:
    """The live deadlines against the derived ones, on every field the sweep reads now."""
    async with sessionmaker() as session:
        case = await repository.get_by_no(session, no)
        policy = routing_of(case).policy
        assert policy is not None
        derived = timeline.derive(await repository.history(session, case.id), policy, CAL)
    live = (case.sign_due_at, case.sign_warn_at, case.handle_due_at, case.handle_warn_at)
    if case.status != CaseStatus.assigned:
        derived = timeline.Deadlines(None, None, derived.handle_due_at, derived.handle_warn_at)
        live = (None, None, *live[2:])
    assert live == (
        derived.sign_due_at,
        derived.sign_warn_at,
        derived.handle_due_at,
        derived.handle_warn_at,
    ), case.status
    return case


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start_minutes=st.integers(min_value=0, max_value=102 * 24 * 60),
    urgent=st.booleans(),
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=1, max_value=3 * 24 * 60)),
        min_size=1,
        max_size=10,
    ),
)
async def test_live_deadlines_are_the_ones_the_history_implies(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    start_minutes: int,
    urgent: bool,
    steps: list[tuple[str, int]],
) -> None:
    now = FIRST + timedelta(minutes=start_minutes)
    clock.set(now)
    body = {**ESTATE, "urgent": urgent}
    created = await intake.post("/api/v1/cases", json=body, headers=keys["window"])
    no = created.json()["case_no"]
    case = await _agrees(sessionmaker, no)  # as routing left it
    done = ["route"]
    for action, minutes in steps:
        now += timedelta(minutes=minutes)
        try:
            async with transaction(sessionmaker) as session:
                await _act(session, action, no, case, now)
        except DomainError:
            continue  # not allowed in this state (or by this caller): nothing happened
        done.append(action)
        case = await _agrees(sessionmaker, no)
    async with transaction(sessionmaker) as session:
        for year in {FIRST.year, now.year}:
            assert await recompute_year(session, year, CAL) == 0, done
