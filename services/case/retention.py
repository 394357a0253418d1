"""Personal data is kept while it serves the applicant, not for ever (个人信息保护法: no longer
than the purpose needs). PERSONAL_DATA_RETENTION after a case closed, the worker removes the
applicant's name, phone, ID number, openid, a private place, attachments and their own words
(feedback, texts); what the figures count (status, dates, departments, district, category,
satisfaction) stays, so every figure and report is the same before and after."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.enums import CaseStatus
from shared.models import Case, SmsReply

BATCH = 500
"""Cases a transaction anonymises: short transactions, however large the back-log."""


async def anonymise_due(
    session: AsyncSession, *, now: datetime, keep: timedelta, batch: int = BATCH
) -> int:
    """One batch of the cases closed longer than `keep` ago; returns how many. Rows another
    worker holds are skipped, not waited for."""
    due = (
        select(Case.id)
        .where(
            Case.status == CaseStatus.closed.value,
            Case.anonymised_at.is_(None),
            Case.closed_at < now - keep,
        )
        .order_by(Case.closed_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return 0
    public = Case.location["public"].astext == "true"
    await session.execute(
        update(Case)
        .where(Case.id.in_(ids))
        .values(
            applicant_name=None,
            applicant_phone=None,
            applicant_id_number=None,
            applicant_openid=None,
            # A public place (a road, a hall) is the complaint's, not the person's.
            location=case((public, Case.location), else_=None),
            attachments=[],
            feedback_comment=None,
            anonymised_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(SmsReply)
        .where(SmsReply.case_id.in_(ids))
        .values(text="", phone_last4="")
        .execution_options(synchronize_session=False)
    )
    return len(ids)
