"""答复审核: with the case's policy asking for it (`reply_review`: `hall` or `coordinator`), the
lead's reply waits in `reviewing` until the registering hall's window or a coordinator approves
it (→ `replied`, and only then the citizen hears it) or sends it back with a reason (→
`signed`). The handling clock keeps running throughout: a send-back never restarts it. Each
decision locks the case row, so a concurrent approval and send-back leave one outcome (the
second finds the case no longer `reviewing`: 409)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.authz import May, may
from services.case import access, merging, repository
from services.case.history import transition
from services.case.notify import notify_followers
from services.case.routing_record import routing_of
from services.case.workflow_schemas import ApproveReply, SendBack
from shared.enums import Action, CaseStatus, ReplyReview, ReviewOutcome, Role
from shared.errors import conflict, forbidden
from shared.models import Case, ReplyReviewRecord
from shared.principal import Principal


def review_of(case: Case) -> ReplyReview:
    """Who reviews this case's reply: its SLA policy's `reply_review` (none without one)."""
    policy = routing_of(case).policy
    return ReplyReview(policy.reply_review) if policy is not None else ReplyReview.none


async def submit(session: AsyncSession, case: Case, *, actor: Principal, now: datetime) -> None:
    """The lead's reply, held for review: the row the figures count, written with the step."""
    review = review_of(case)
    transition(
        session,
        case,
        Action.submit_reply,
        actor=actor,
        now=now,
        reason=case.reply,
        data={"review": review.value},
    )
    session.add(
        ReplyReviewRecord(
            case_id=case.id,
            department=case.lead_department or "",
            reply=case.reply or "",
            review=review.value,
            outcome=ReviewOutcome.pending.value,
            submitted_at=now,
            submitted_by_key_id=actor.key_id,
        )
    )
    await notify_followers(session, case, "reply_submitted")


def _require_reviewer(actor: Principal, case: Case) -> None:
    if not may(actor, May.review_replies):
        raise forbidden("only the registering hall's window or a coordinator reviews a reply")
    access.require_in_units(actor, case)
    review = review_of(case)
    if actor.role is Role.coordinator:
        return
    if review is ReplyReview.hall and actor.department and actor.department == case.intake_hall:
        return
    raise forbidden(
        "a coordinator reviews this reply"
        if review is ReplyReview.coordinator
        else "the hall the case was registered at, or a coordinator, reviews this reply"
    )


async def _pending(session: AsyncSession, case: Case) -> ReplyReviewRecord:
    found = await session.scalar(
        select(ReplyReviewRecord)
        .where(
            ReplyReviewRecord.case_id == case.id,
            ReplyReviewRecord.outcome == ReviewOutcome.pending.value,
        )
        .order_by(ReplyReviewRecord.id.desc())
        .limit(1)
    )
    if found is None:  # a reply held before this table (none in practice): keep the step whole
        raise conflict(f"case {case.case_no} has no reply waiting for review")
    return found


async def _reviewing(session: AsyncSession, case_no: str, actor: Principal) -> Case:
    case = await repository.get_by_no(session, case_no, for_update=True)
    if not may(actor, May.review_replies):
        raise forbidden("only the registering hall's window or a coordinator reviews a reply")
    access.require_read(actor, case)
    if case.status != CaseStatus.reviewing:
        raise conflict(
            f"case {case.case_no} is {case.status}: no reply waits for review",
            current_status=case.status,
        )
    _require_reviewer(actor, case)
    return case


async def approve(
    session: AsyncSession, case_no: str, data: ApproveReply, *, actor: Principal, now: datetime
) -> Case:
    """The reply goes to the citizen: `replied`, its notice and the channel's callback."""
    case = await _reviewing(session, case_no, actor)
    record = await _pending(session, case)
    transition(
        session,
        case,
        Action.approve_reply,
        actor=actor,
        now=now,
        reason=data.note,
        data={"reply": case.reply, "review": record.review},
    )
    record.outcome, record.decided_at = ReviewOutcome.approved.value, now
    record.decided_by_key_id, record.decided_role, record.note = (
        actor.key_id,
        actor.role.value,
        data.note,
    )
    await notify_followers(session, case, "replied")
    await merging.follow_reply(session, case, now=now)
    return case


async def send_back(
    session: AsyncSession, case_no: str, data: SendBack, *, actor: Principal, now: datetime
) -> Case:
    """Back to the lead with the reason (→ `signed`); its deadline is the one that was running."""
    case = await _reviewing(session, case_no, actor)
    record = await _pending(session, case)
    transition(session, case, Action.send_back, actor=actor, now=now, reason=data.reason, data={})
    case.reply = None  # the draft stays on the review record and in the history, not the case
    case.sent_back_count += 1
    record.outcome, record.decided_at = ReviewOutcome.sent_back.value, now
    record.decided_by_key_id, record.decided_role, record.note = (
        actor.key_id,
        actor.role.value,
        data.reason,
    )
    await notify_followers(session, case, "reply_sent_back", {"reason": data.reason})
    return case
