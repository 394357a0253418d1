"""Writing a notice with its step, and sending it from the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notices import catalogue, rules, templates
from services.notices.providers import Provider
from services.outbox import service as outbox
from shared import metrics
from shared.errors import Undeliverable
from shared.models import Case, Department, Notice
from shared.timeutil import to_shanghai

TOPIC_APPLICANT_NOTICE = "applicant.notice"

log = structlog.get_logger("gaodedim.notices")


def due_text(moment: datetime | None) -> str:
    """A deadline as a person reads it: 11月25日17:30 (Shanghai)."""
    if moment is None:
        return ""
    local = to_shanghai(moment)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def enqueue_for(
    session: AsyncSession,
    case: Case,
    *,
    action: str,
    from_status: str | None,
    reason: str | None,
    data: Mapping[str, Any],
    at: datetime,
) -> bool:
    """The applicant's notice of this step, if they hear of it: written with the step and sent
    by the worker in order. The step's own words (why it was suspended, the answer) are kept
    now; who handles it and by when are read when it is sent, seconds later as a rule, and
    after a night's hold what the person reads at 08:00 is where the case stands at 08:00."""
    event = rules.event_for(action, from_status, case.status)
    if event is None or not rules.reachable(case) or not rules.count_one(case, at):
        return False
    if event == "replied":
        case.reply_code = rules.new_reply_code()
    outbox.enqueue(
        session,
        TOPIC_APPLICANT_NOTICE,
        {
            "case_id": case.id,
            "case_no": case.case_no,
            "event": event,
            "at": at.isoformat(),
            "reason": rules.words(event, reason, data),
        },
        ordering_key=f"{TOPIC_APPLICANT_NOTICE}:{case.case_no}",
        delay=rules.held_for(at, urgent=case.urgent),
    )
    return True


async def deliver(
    session: AsyncSession,
    payload: dict[str, Any],
    provider: Provider,
    *,
    signature: str,
    now: datetime,
) -> bool:
    """Render the notice, send it and keep what was sent; False when it was dropped or the
    provider refused it for good (kept, marked not delivered). Sending
    again after a crash between the two is possible (the outbox delivers at least once);
    keeping it twice is not."""
    case = await session.get_one(Case, payload["case_id"])
    if not rules.reachable(case):  # opted out (or changed phone) since the step
        log.info("notice_dropped", case_no=case.case_no, notice=payload["event"])
        return False
    event = payload["event"]
    department = (
        case.intake_department or case.first_responsible_department
        if event == "registered"
        else case.lead_department
    )
    name = await session.scalar(select(Department.name).where(Department.code == department))
    values = {
        "signature": signature,
        "case_no": case.case_no,
        "tracking_code": case.tracking_code,
        "department": name or "",
        "due": due_text(case.handle_due_at),
        "reason": payload.get("reason", ""),
        # The answer of this reply (the step's own words), not of a later one.
        "reply": templates.quoted(payload.get("reason")) if event == "replied" else "",
        "code": case.reply_code or "",
    }
    wording = await catalogue.current(session, event)
    text = templates.render(wording.text, values)
    assert case.applicant_phone is not None  # reachable
    refused: str | None = None
    try:
        reference = await provider.send(
            case.applicant_phone, text, case_no=case.case_no, event=event, values=values
        )
    except Undeliverable as exc:
        # About this message or this phone, so no retry helps and its later notices would fail
        # alike: kept as not delivered, for the window to see, rather than a dead letter that
        # holds the case's later notices back.
        reference, refused = None, str(exc)[:32]
        metrics.NOTICES_FAILED.labels(provider.channel, event, "permanent").inc()
    except Exception:
        metrics.NOTICES_FAILED.labels(provider.channel, event, "retry").inc()
        raise
    parts = templates.segments(text)
    kept = {
        "event_id": payload["event_id"],
        "case_id": case.id,
        "event": event,
        "channel": provider.channel,
        "text": text,
        "segments": parts,
        "template_version": wording.version,
        "provider_ref": reference,
        "sent_at": now,
        "delivered": False if refused else None,
        "delivery_code": refused,
        "reported_at": now if refused else None,
    }
    stmt = insert(Notice).values(kept).on_conflict_do_nothing(index_elements=["event_id"])
    await session.execute(stmt)
    if refused:
        log.info("notice_refused", case_no=case.case_no, notice=event, code=refused)
        return False
    metrics.NOTICES_SENT.labels(provider.channel, event).inc()
    metrics.NOTICE_SEGMENTS.labels(provider.channel).inc(parts)
    return True
