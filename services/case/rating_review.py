"""不满意甄别: an unsatisfied rating, from any channel, is looked at before the case is redone.

Not every 不满意 means the department failed: a lawful refusal (`kind: cannot`), a rating given
by mistake or in bad faith. Redoing each of them restarted a clock that could never end well and
taught nobody anything. So the rating moves the case to `rating_review`; a coordinator decides
within RATING_REVIEW_WITHIN working days whether it is redone (`reopen`: 重办, a new handling
deadline) or the answer stands (`uphold`, with the reason the applicant is told; the case
closes). A review nobody decides in time reopens by itself (the SLA sweep, `lapse`): the
applicant never waits on the city's silence. The applicant's rating is kept whatever happens;
the outcome sits beside it, so 满意率 is shown both raw and with upheld answers set aside.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.authz import May, require
from services.case import access, repository, timeline
from services.case.history import transition
from services.case.notify import notify_followers
from services.case.schedule import reschedule
from services.case.workflow_schemas import RatingDecision, RatingReviewDecision
from services.clock import deadlines
from services.clock import years as calendars
from services.clock.calendar import CalendarUnknown, WorkCalendar
from shared.durations import Duration, parse_duration
from shared.enums import Action, CaseStatus, RatingOutcome
from shared.errors import conflict
from shared.models import Case
from shared.principal import SYSTEM, Principal
from shared.settings import get_settings


def review_within() -> Duration:
    return parse_duration(get_settings().rating_review_within)


def due_at(now: datetime, within: Duration, calendar: WorkCalendar) -> datetime:
    """The review's deadline; in a year the calendar does not know, the working days are
    counted as calendar days (sooner, never later: the applicant is not made to wait)."""
    try:
        return deadlines.add(now, within, calendar)
    except CalendarUnknown:
        if within.is_working:
            days = within.amount if within.unit == "working_days" else within.amount / 24
            return now + timedelta(days=days)
        return now + within.natural()


async def open_review(session: AsyncSession, case: Case, *, now: datetime) -> None:
    """After the rating's step moved the case to `rating_review`: its deadline, on the case."""
    case.rating_outcome = RatingOutcome.pending.value
    case.rating_review_due_at = due_at(now, review_within(), await calendars.load(session))
    reschedule(case)
    await notify_followers(session, case, "rating_review")


async def decide(
    session: AsyncSession,
    case_no: str,
    data: RatingReviewDecision,
    *,
    actor: Principal,
    now: datetime,
) -> Case:
    """A coordinator's decision. The case row is locked: two decisions at once leave one (the
    second finds the case no longer in review: 409)."""
    require(actor, May.review_ratings)
    case = await repository.get_by_no(session, case_no, for_update=True)
    access.require_read(actor, case)
    access.require_in_units(actor, case)
    if case.status != CaseStatus.rating_review:
        raise conflict(
            f"case {case.case_no} is {case.status}: no unsatisfied rating waits for review",
            current_status=case.status,
        )
    if data.decision is RatingDecision.uphold:
        transition(session, case, Action.uphold, actor=actor, now=now, reason=data.reason)
        case.rating_outcome = RatingOutcome.upheld.value
        case.rating_review_due_at = None
        reschedule(case)
        await notify_followers(session, case, "rating_upheld")  # the reason: in the history
        return case
    await _reopen(session, case, RatingOutcome.reopened, actor=actor, now=now, reason=data.reason)
    return case


async def lapse(session: AsyncSession, case: Case, *, now: datetime) -> None:
    """The sweep, for a review nobody decided in time: redone, as a coordinator's reopen (the
    caller holds the row; the status check keeps it once)."""
    if case.status != CaseStatus.rating_review:
        return
    await _reopen(
        session,
        case,
        RatingOutcome.lapsed,
        actor=SYSTEM,
        now=now,
        reason="不满意甄别未在时限内作出决定，自动重办",
    )


async def _reopen(
    session: AsyncSession,
    case: Case,
    outcome: RatingOutcome,
    *,
    actor: Principal,
    now: datetime,
    reason: str | None,
) -> None:
    transition(
        session,
        case,
        Action.reopen,
        actor=actor,
        now=now,
        reason=reason,
        data={"outcome": outcome.value},
    )
    case.rating_outcome = outcome.value
    case.rating_review_due_at = None
    case.reopen_count += 1
    case.closed_at = None
    if case.lead_department is not None:  # else routing or the coordinator sets the clock
        await timeline.follow(session, case, await calendars.load(session))
    reschedule(case)  # after the new deadlines: a reopen may cross a threshold (提级)
    await notify_followers(session, case, "reopened", {"outcome": outcome.value})
