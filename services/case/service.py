"""Case operations at the window and intake: register, resolve on the spot, refer, feedback.

Each function works inside the caller's transaction and never commits: the request (or job)
boundary does, so a failure anywhere leaves nothing half-written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services import authz
from services.authz import May
from services.case import access, codes, rating_review, repository
from services.case.history import note, record, transition
from services.case.lifecycle import allowed_actions
from services.case.presenter import tracking_out
from services.case.repeats import find_open_repeat
from services.case.responses import NoticeOut, TrackingOut
from services.case.routing_record import RoutingRecord
from services.case.schedule import reschedule
from services.case.schemas import CaseCreate, Feedback, OutOfScope, ResolveOnSpot
from services.department import repository as departments
from services.notices import inbox
from services.notices import rules as notice_rules
from services.notices.responses import SmsReplyOut
from services.outbox import service as outbox
from services.outbox.topics import Topic
from services.rules import versions
from shared import audit
from shared.durations import parse_duration
from shared.enums import Action, CaseStatus, Note, Role
from shared.errors import conflict, forbidden, invalid
from shared.models import Case, CaseEvent, Department, Matter, Notice, OutboxMessage
from shared.principal import Principal
from shared.signing import same_secret
from shared.timeutil import shanghai_iso, to_shanghai

HANDOVER_GRACE = timedelta(seconds=10)
"""How long the routing message waits before the worker may deliver it. Intake hands the case
to routing right after its commit, and routing settles the message in the same transaction that
routes the case; without the wait the worker's poll would often take the message in between and
call routing a second time for nothing. When intake's call fails it releases the message at
once (`release_hand_over`); if intake dies in between, the worker routes the case after this."""

_CALLER_TURN = text("SELECT pg_advisory_xact_lock(hashtext(:key))")

DEFAULT_WINDOW = "办不成事反映窗口(搞得掂窗口)"
DEFAULT_CONTACT = "12345"


def tracking_card(
    code: str, intake: Department | None, materials: list[str] | None = None
) -> dict[str, Any]:
    """The 一跟到底 card handed over at registration: with a known matter, the catalogue's
    materials, told once and in full (一次性告知); the handler may add to them later."""
    return {
        "code": code,
        "required_materials": list(materials or []),
        "next_window": f"{intake.name} {DEFAULT_WINDOW}" if intake else DEFAULT_WINDOW,
        "handler_contact": (intake.contact if intake and intake.contact else DEFAULT_CONTACT),
    }


@dataclass(frozen=True)
class RepeatPolicy:
    window: timedelta
    threshold: float

    @classmethod
    def of(cls, window: str, threshold: float) -> RepeatPolicy:
        duration = parse_duration(window)
        if duration.is_working:
            raise ValueError("REPEAT_WINDOW is natural time (days, hours), not working time")
        return cls(duration.natural(), threshold)


async def register_or_link(
    session: AsyncSession,
    data: CaseCreate,
    *,
    actor: Principal,
    now: datetime,
    numbers: codes.CaseNumbers,
    repeats: RepeatPolicy,
    hold_for: timedelta | None = None,
) -> tuple[Case, bool]:
    """A new case, or the caller's open case about the same matter (重复件): then the complaint
    is recorded on that case, counted, and the caller is told which case it is. (False = new.)"""
    _may_register(actor, data)
    # One caller's complaints take turns, so two sent at once cannot both open a case.
    await session.execute(_CALLER_TURN, {"key": f"phone:{data.applicant.phone}"})
    existing = await find_open_repeat(
        session,
        phone=data.applicant.phone,
        text=f"{data.title or ''}{data.description}",
        now=now,
        window=repeats.window,
        threshold=repeats.threshold,
    )
    if existing is None:
        case = await _store(
            session,
            data,
            actor=actor,
            now=now,
            numbers=numbers,
            hold_for=hold_for,
        )
        return case, False
    existing.repeat_count += 1
    existing.updated_at = now
    reschedule(existing)
    note(
        session,
        existing,
        action=Note.repeat,
        actor=actor,
        reason=data.description,
        data={"channel": data.channel.value, "repeat_count": existing.repeat_count},
    )
    return existing, True


async def register(
    session: AsyncSession,
    data: CaseCreate,
    *,
    actor: Principal,
    now: datetime,
    numbers: codes.CaseNumbers,
    hold_for: timedelta | None = None,
) -> Case:
    """Store the case and ask for routing in the same transaction. A held case (`hold`, with
    the caller's `hold_for`) asks for routing only when the hold runs out: the window settles it,
    hands it over sooner, or routing takes it then."""
    _may_register(actor, data)
    return await _store(
        session,
        data,
        actor=actor,
        now=now,
        numbers=numbers,
        hold_for=hold_for,
    )


def _may_register(actor: Principal, data: CaseCreate) -> None:
    authz.require(actor, May.register)
    access.require_channel(actor, data.channel, data.intake_department)


async def _store(
    session: AsyncSession,
    data: CaseCreate,
    *,
    actor: Principal,
    now: datetime,
    numbers: codes.CaseNumbers,
    hold_for: timedelta | None,
) -> Case:
    """`register` once the caller may: the case, its first event and its hand-over message."""
    intake: Department | None = None
    if data.intake_department:
        intake = await departments.get(session, data.intake_department)
        if intake is None or not intake.active:
            raise invalid(
                "intake_department", f"unknown department code '{data.intake_department}'"
            )

    day = to_shanghai(now).date()
    held_for = hold_for if data.hold and hold_for else None
    case_no = await numbers.case_no(day)
    # Unique through tracking_codes, which a trigger fills: see codes.with_fresh_tracking_code.
    code = codes.new_tracking_code()
    applicant = data.applicant
    case = Case(
        # The month in the id and the day in the case number come from this one `now`.
        id=func.cases_next_id(now),
        case_no=case_no,
        tracking_code=code,
        status=CaseStatus.registered.value,
        channel=data.channel.value,
        title=data.title,
        description=data.description,
        category=data.category.value if data.category else None,
        trigger=data.trigger.value if data.trigger else None,
        kind=data.kind.value if data.kind else None,
        matter_code=data.matter_code,
        district=data.district,
        urgent=data.urgent,
        vulnerable=data.vulnerable,
        intake_department=data.intake_department,
        # 首问负责制: whoever was first asked stays accountable until the case ends.
        first_responsible_department=data.intake_department,
        co_departments=[],
        applicant_name=applicant.name,
        applicant_phone=applicant.phone,
        applicant_id_number=applicant.id_number,
        applicant_type=applicant.type.value,
        applicant_org_name=applicant.org_name,
        applicant_openid=applicant.wechat_openid,
        intake_hall=actor.department if actor.role is Role.window else None,
        notices_opted_out=data.notices is False,
        notices_asked=data.notices is True,
        attachments=[str(url) for url in data.attachments],
        location=data.location.model_dump(exclude_unset=True) if data.location else None,
        tracking_card=tracking_card(code, intake, await _materials(session, data.matter_code)),
        created_by_key_id=actor.key_id,
        held_until=now + held_for if held_for else None,
        # Segmenting the text costs more than the rest of the registration: the worker's
        # keyword job fills it within half a minute, off the caller's path (common_issues).
        keywords=None,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    await session.flush()
    # The hand-over first: its message is the case's first (the applicant's notice follows).
    outbox.enqueue(
        session, Topic.registered, {"case_no": case.case_no}, delay=held_for or HANDOVER_GRACE
    )
    record(
        session,
        case,
        action=Action.register.value,
        actor=actor,
        from_status=None,
        data={"channel": case.channel}
        | ({"held_until": shanghai_iso(case.held_until)} if case.held_until else {}),
    )
    return case


async def _materials(session: AsyncSession, matter_code: str | None) -> list[str]:
    """The catalogue's materials for the matter (none for a code it does not hold: routing's
    rules may use codes the catalogue has not caught up with)."""
    if not matter_code:
        return []
    found = await session.scalar(select(Matter.materials).where(Matter.code == matter_code))
    return list(found or [])


async def _standard_answer(session: AsyncSession, answer_id: str) -> dict[str, str]:
    code, _, wanted = answer_id.partition("#")
    answers = await session.scalar(select(Matter.answers).where(Matter.code == code))
    for answer in answers or []:
        if answer.get("id") == wanted:
            return {
                "answer_id": answer_id,
                "question": answer["question"],
                "answer": answer["answer"],
            }
    raise invalid("answer_id", f"no standard answer {answer_id} in the matter catalogue")


async def hand_over(
    session: AsyncSession, case_no: str, *, actor: Principal, now: datetime
) -> Case:
    """The window could not settle a held case: routing takes it now, not when the hold ends."""
    case = await _at_window(session, case_no, actor)
    if case.status != CaseStatus.registered.value or case.held_until is None:
        raise conflict(
            f"case {case_no} is not held at the window (status {case.status})",
            allowed_actions=allowed_actions(CaseStatus(case.status)),
        )
    note(
        session,
        case,
        action=Note.hand_over,
        actor=actor,
        data={"held_until": shanghai_iso(case.held_until)},
    )
    case.held_until = None
    case.updated_at = now
    outbox.enqueue(session, Topic.registered, {"case_no": case.case_no}, delay=HANDOVER_GRACE)
    return case


async def release_hand_over(session: AsyncSession, case_no: str) -> None:
    """Intake's own hand-over failed: the worker may deliver the routing message now."""
    await outbox.release_for_case(session, Topic.registered, case_no)


async def get_visible(session: AsyncSession, case_no: str, *, actor: Principal) -> Case:
    case = await repository.get_by_no(session, case_no)
    access.require_read(actor, case)
    return case


async def _for_action(session: AsyncSession, case_no: str, actor: Principal) -> Case:
    """Lock the row: two handlers acting at once are serialised, the second sees the new state."""
    case = await repository.get_by_no(session, case_no, for_update=True)
    access.require_act(actor, case)
    return case


async def _at_window(session: AsyncSession, case_no: str, actor: Principal) -> Case:
    """A window's own action (resolve, refer, hand over): its role, then its hall's case."""
    authz.require(actor, May.act_at_window)
    return await _for_action(session, case_no, actor)


async def resolve_on_spot(
    session: AsyncSession, case_no: str, data: ResolveOnSpot, *, actor: Principal, now: datetime
) -> Case:
    case = await _at_window(session, case_no, actor)
    cited = await _standard_answer(session, data.answer_id) if data.answer_id else None
    transition(
        session,
        case,
        Action.resolve_on_spot,
        actor=actor,
        now=now,
        reason=data.note,
        data={"standard_answer": cited} if cited else None,
    )
    case.resolution_note = data.note
    if cited:
        case.tracking_card = {**case.tracking_card, "standard_answer": cited}
    await _close_in_time(session, case)
    return case


async def refer_out_of_scope(
    session: AsyncSession, case_no: str, data: OutOfScope, *, actor: Principal, now: datetime
) -> Case:
    case = await _at_window(session, case_no, actor)
    transition(
        session,
        case,
        Action.refer_out_of_scope,
        actor=actor,
        now=now,
        reason=data.explanation,
        data={"referred_to": data.referred_to},
    )
    case.referred_to = data.referred_to
    case.explanation = data.explanation
    await _close_in_time(session, case)
    return case


async def _close_in_time(session: AsyncSession, case: Case) -> None:
    """A window-settled case closes by itself, like a replied one, when the citizen gives no
    feedback: it records the card policy of the rule table in force (its auto_close_after), as
    routing records it for routed cases, and the SLA sweep closes it in time."""
    current = await versions.card_policy(session)
    if current is None:
        return
    number, policy = current
    case.routing = RoutingRecord(rule_version=number, card_policy=policy).stored()
    reschedule(case)


async def give_feedback(
    session: AsyncSession, case_no: str, data: Feedback, *, actor: Principal, now: datetime
) -> Case:
    """Satisfied (or basically) closes the case; unsatisfied, from any channel, goes to
    不满意甄别 (`rating_review`), where a coordinator decides whether it is redone."""
    authz.require(actor, May.give_feedback)
    case = await _for_action(session, case_no, actor)
    unhappy = data.satisfaction.unhappy
    action = Action.feedback_unsatisfied if unhappy else Action.feedback_satisfied
    said: dict[str, Any] = {"satisfaction": data.satisfaction.value}
    if data.resolved is not None:
        said["resolved"] = data.resolved
    if unhappy:
        said["review"] = True  # the timeline: this rating starts no clock; the decision may
    transition(session, case, action, actor=actor, now=now, reason=data.comment, data=said)
    case.satisfaction = data.satisfaction.value
    case.feedback_comment = data.comment
    if data.resolved is not None:
        case.resolved = data.resolved
    if unhappy:
        await rating_review.open_review(session, case, now=now)
    return case


async def list_visible(
    session: AsyncSession,
    filters: repository.CaseFilter,
    *,
    actor: Principal,
    now: datetime,
    limit: int,
    cursor: str | None,
) -> tuple[list[Case], str | None]:
    access.require_list(actor)
    if authz.may(actor, May.read_own_registrations):
        filters.created_by_key_id = actor.key_id
    elif actor.role is Role.department:
        if filters.department and filters.department != actor.department:
            raise forbidden("a department key lists its own department's cases only")
        filters.department = actor.department
    filters.units = actor.units
    return await repository.page(session, filters, limit=limit, cursor=cursor, now=now)


async def history_of(session: AsyncSession, case: Case) -> list[CaseEvent]:
    return await repository.history(session, case.id)


async def notices_of(session: AsyncSession, case: Case) -> list[Notice | NoticeOut]:
    """What the applicant was sent, then what is queued for them (a notice held through the
    quiet hours says when it goes), so a night-time step's notice is seen before 08:00."""
    sent: list[Notice | NoticeOut] = list(await repository.notices(session, case.id))
    queued = await session.execute(
        select(OutboxMessage.payload["event"].astext, OutboxMessage.payload["at"].astext)
        .where(
            OutboxMessage.topic == Topic.applicant_notice.value,
            OutboxMessage.payload["case_no"].astext == case.case_no,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.failed_at.is_(None),
        )
        .order_by(OutboxMessage.id)
    )
    return sent + [
        NoticeOut(
            event=str(event),
            channel=None,
            text=None,
            segments=None,
            sent_at=None,
            queued=True,
            scheduled_for=shanghai_iso(notice_rules.goes_at(datetime.fromisoformat(at), case)),
        )
        for event, at in queued.tuples()
    ]


async def unmask(session: AsyncSession, case_no: str, reason: str, *, actor: Principal) -> Case:
    """A supervisor sees one case in clear, saying why: the reason goes on the audit row the
    response writes (shared.audit), where the auditor reads it."""
    authz.require(actor, May.unmask)
    case = await repository.get_by_no(session, case_no)
    access.require_read(actor, case)
    audit.because(reason)
    return case


async def replies_of(
    session: AsyncSession, case: Case, *, actor: Principal
) -> list[SmsReplyOut] | None:
    """What the applicant texted back: their own words, which may hold anything, so only for
    those who see their data unmasked (None for everyone else)."""
    if not access.sees_in_clear(actor, case):
        return None
    return await inbox.of_case(session, case.id, case.case_no)


async def track(session: AsyncSession, code: str, phone_last4: str) -> TrackingOut | None:
    """The citizen's look-up. None for a wrong code and for wrong digits alike, so the answer
    never tells a guesser which half was right."""
    case = await _tracked(session, code, phone_last4)
    return await _tracking(session, case) if case else None


async def choose_notices(
    session: AsyncSession, code: str, phone_last4: str, *, wanted: bool
) -> TrackingOut | None:
    """The applicant turns this case's notices off (or on again), proving it is theirs as
    tracking does. Notices already written and not yet sent are dropped when their turn comes."""
    case = await _tracked(session, code, phone_last4)
    if case is None:
        return None
    case.notices_opted_out = not wanted
    return await _tracking(session, case)


async def _tracked(session: AsyncSession, code: str, phone_last4: str) -> Case | None:
    case = await repository.get_by_tracking_code(session, codes.normalise_tracking_code(code))
    phone = (case.applicant_phone or "") if case else ""
    if case is None or len(phone) < 4 or not same_secret(phone[-4:], phone_last4):
        return None
    return case


async def _tracking(session: AsyncSession, case: Case) -> TrackingOut:
    events = await repository.history(session, case.id)
    lead = case.lead_department or case.first_responsible_department
    names = await departments.names(session, [lead] if lead else [])
    return tracking_out(case, events, names)
