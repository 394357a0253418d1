"""Personal data is kept while it serves the applicant, not for ever (个人信息保护法: no longer
than the purpose needs). PERSONAL_DATA_RETENTION after a case closed, the worker removes the
applicant's name, phone, ID number, openid, a private place, attachments and their own words
(feedback, texts), and erases their name and numbers from what anyone wrote (the case's words,
its history, its cards' appeals and rulings); what the figures
count (status, dates, departments, district, category, satisfaction) stays, so every figure and
report is the same before and after."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services import keywords as words_of
from services.privacy import APPLICANT, applicant_of, each_text, erase
from shared.enums import CaseStatus
from shared.models import Card, Case, CaseEvent, SmsReply

BATCH = 500
"""Cases a transaction anonymises: short transactions, however large the back-log."""


WORDS = ("title", "description", "reply", "resolution_note", "explanation")
"""What people wrote, where the applicant's name and numbers may stand (erased, not emptied:
the complaint and its answer stay readable, and the figures and 共性问题 keep their cases)."""
Applicants = dict[int, dict[str, str | None]]
"""A batch's applicants by case id, as `erase` takes them."""


def _anonymised(row: Any, applicant: dict[str, str | None], now: datetime) -> dict[str, Any]:
    """One case's new values: the applicant's fields gone, their traces erased from the words.
    Keywords not stored yet are stored now, from the words as they were (less the applicant,
    as they are always computed), so 共性问题 counts the case as before."""
    keywords = row.keywords
    if keywords is None:
        keywords = words_of.of_case(row.title, row.description, **applicant)
    elif row.applicant_name:  # stored before keywords left the applicant out
        keywords = [k for k in keywords if k != row.applicant_name]
    location = row.location or {}
    return {
        "id": row.id,
        **{column: erase(getattr(row, column), **applicant) for column in WORDS},
        **dict.fromkeys(column.key for column in APPLICANT),
        "applicant_openid": None,
        # A public place (a road, a hall) is the complaint's, not the person's.
        "location": location if location.get("public") else None,
        "attachments": [],
        "feedback_comment": None,
        "keywords": keywords,
        "anonymised_at": now,
    }


async def _erase_history(session: AsyncSession, applicants: Applicants) -> None:
    """The applicant out of the history's reasons and data ("已电话联系黄丽华13800138001"): the
    only change the append-only history allows, and only in a transaction that says so
    (migration 0010)."""
    events = (
        await session.execute(
            select(CaseEvent.case_id, CaseEvent.id, CaseEvent.reason, CaseEvent.data).where(
                CaseEvent.case_id.in_(list(applicants))
            )
        )
    ).all()
    changed = []
    for e in events:
        who = applicants[e.case_id]

        def erased(words: str, who: dict[str, str | None] = who) -> str | None:
            return erase(words, **who)

        reason, data = each_text(e.reason, erased), each_text(e.data, erased)
        if (reason, data) != (e.reason, e.data):
            changed.append({"c": e.case_id, "e": e.id, "r": reason, "d": data})
    if not changed:
        return
    await session.execute(text("SELECT set_config('gaodedim.erasing', 'on', true)"))
    await session.execute(
        update(CaseEvent.__table__)  # type: ignore[arg-type]
        .where(CaseEvent.case_id == bindparam("c"), CaseEvent.id == bindparam("e"))
        .values(reason=bindparam("r"), data=bindparam("d")),
        changed,
    )
    await session.execute(text("SELECT set_config('gaodedim.erasing', 'off', true)"))


async def _erase_cards(session: AsyncSession, applicants: Applicants) -> None:
    """A department's appeal and a supervisor's ruling may quote the applicant ("已电话联系黄丽华");
    the card stays (the assessment counts it), the applicant leaves its words."""
    cards = (
        await session.execute(
            select(Card.id, Card.case_id, Card.appeal_reason, Card.decision_note).where(
                Card.case_id.in_(list(applicants)),
                (Card.appeal_reason.is_not(None)) | (Card.decision_note.is_not(None)),
            )
        )
    ).all()
    changed = []
    for c in cards:
        who = applicants[c.case_id]
        changed.append(
            {"i": c.id, "a": erase(c.appeal_reason, **who), "d": erase(c.decision_note, **who)}
        )
    if changed:
        await session.execute(
            update(Card.__table__)  # type: ignore[arg-type]
            .where(Card.id == bindparam("i"))
            .values(appeal_reason=bindparam("a"), decision_note=bindparam("d")),
            changed,
        )


async def anonymise_due(
    session: AsyncSession, *, now: datetime, keep: timedelta, batch: int = BATCH
) -> int:
    """One batch of the cases closed longer than `keep` ago; returns how many. Rows another
    worker holds are skipped, not waited for."""
    due = (
        select(
            Case.id,
            Case.location,
            Case.keywords,
            *(getattr(Case, column) for column in WORDS),
            *APPLICANT,
        )
        .where(
            Case.status == CaseStatus.closed.value,
            Case.anonymised_at.is_(None),
            Case.closed_at < now - keep,
        )
        .order_by(Case.closed_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.execute(due)).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    applicants: Applicants = {r.id: applicant_of(r) for r in rows}
    # Segmenting a batch's words takes CPU seconds: off the event loop.
    values = await asyncio.to_thread(lambda: [_anonymised(r, applicants[r.id], now) for r in rows])
    await session.execute(update(Case).execution_options(synchronize_session=False), values)
    await _erase_history(session, applicants)
    await _erase_cards(session, applicants)
    await session.execute(
        update(SmsReply)
        .where(SmsReply.case_id.in_(ids))
        .values(text="", phone_last4="")
        .execution_options(synchronize_session=False)
    )
    return len(ids)
