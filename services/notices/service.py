"""Writing a notice with its step, and sending it from the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notices import catalogue, rules, templates
from services.notices.providers import Provider, Providers
from services.outbox import service as outbox
from services.outbox.topics import Topic
from shared import metrics
from shared.errors import Undeliverable
from shared.models import Case, Department, Notice
from shared.timeutil import shanghai_iso, to_shanghai

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
) -> str | None:
    """The applicant's notice of this step, if they hear of it: written with the step and sent
    by the worker in order. The step's own words (why it was suspended, the answer) are kept
    now; who handles it and by when are read when it is sent, seconds later as a rule, and
    after a night's hold what the person reads at 08:00 is where the case stands at 08:00."""
    event = rules.event_for(action, from_status, case.status)
    if event is None or not rules.reachable(case) or not rules.count_one(case, at):
        return None
    if event == "replied":
        case.reply_code = rules.new_reply_code()
    held = rules.held_for(at, urgent=case.urgent)
    if held is not None:
        log.info("notice_held", case_no=case.case_no, notice=event, until=shanghai_iso(at + held))
    outbox.enqueue(
        session,
        Topic.applicant_notice,
        {
            "case_id": case.id,
            "case_no": case.case_no,
            "event": event,
            "at": at.isoformat(),
            "reason": rules.words(event, reason, data),
        },
        ordering_key=f"{Topic.applicant_notice}:{case.case_no}",
        delay=held,
    )
    return event


async def deliver(
    session: AsyncSession,
    payload: dict[str, Any],
    providers: Providers,
    *,
    signature: str,
    now: datetime,
) -> bool:
    """Render the notice, send it and keep what was sent; False when it was dropped or every
    channel refused it for good (kept, marked not delivered). Sending again after a crash
    between the two is possible (the outbox delivers at least once); keeping it twice is not."""
    case = await session.get_one(Case, payload["case_id"])
    routes = providers.routes(case) if rules.reachable(case) else []
    if not routes:  # opted out or changed phone since the step, or no channel configured
        log.info("notice_dropped", case_no=case.case_no, notice=payload["event"])
        return False
    event = payload["event"]
    values = await _values(session, case, payload, signature)
    wording = await catalogue.current(session, event)
    text = templates.render(wording.text, values)
    sent = await _send(routes, text, case_no=case.case_no, event=event, values=values)
    parts = templates.segments(text)
    kept = {
        "event_id": payload["event_id"],
        "case_id": case.id,
        "event": event,
        "channel": sent.channel,
        "text": text,
        "segments": parts,
        "template_version": wording.version,
        "provider_ref": sent.reference,
        "sent_at": now,
        "delivered": False if sent.refused else None,
        "delivery_code": sent.refused,
        "reported_at": now if sent.refused else None,
    }
    stmt = insert(Notice).values(kept).on_conflict_do_nothing(index_elements=["event_id"])
    await session.execute(stmt)
    if sent.refused:
        log.info("notice_refused", case_no=case.case_no, notice=event, code=sent.refused)
        return False
    metrics.NOTICES_SENT.labels(sent.channel, event).inc()
    if sent.channel != "wechat":
        metrics.NOTICE_SEGMENTS.labels(sent.channel).inc(parts)
    return True


async def _values(
    session: AsyncSession, case: Case, payload: dict[str, Any], signature: str
) -> dict[str, str]:
    event = payload["event"]
    department = (
        case.intake_department or case.first_responsible_department
        if event == "registered"
        else case.lead_department
    )
    name = await session.scalar(select(Department.name).where(Department.code == department))
    return {
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


@dataclass(frozen=True)
class Sent:
    channel: str
    reference: str | None = None
    refused: str | None = None
    """The last channel's final refusal, when every channel refused for good."""


async def _send(
    routes: list[tuple[Provider, str]],
    text: str,
    *,
    case_no: str,
    event: str,
    values: dict[str, str],
) -> Sent:
    """Through the first channel that takes it. A refusal no retry changes (not subscribed on
    WeChat, a number that is no mobile) moves on to the next channel; any other failure raises,
    and the outbox tries the notice again later, from the first channel."""
    refused = ""
    for provider, to in routes:
        try:
            reference = await provider.send(to, text, case_no=case_no, event=event, values=values)
        except Undeliverable as exc:
            refused = str(exc)[:32]
            metrics.NOTICES_FAILED.labels(provider.channel, event, "permanent").inc()
            continue
        except Exception:
            metrics.NOTICES_FAILED.labels(provider.channel, event, "retry").inc()
            raise
        return Sent(provider.channel, reference)
    return Sent(routes[-1][0].channel, refused=refused or "refused")
