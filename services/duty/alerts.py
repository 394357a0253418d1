"""Telling whoever is on duty: a text to each person the roster has on duty for a unit at a
moment (or for the nearest unit above with anyone), through the outbox. The message names the
shift, never its phone, so the phone is read at delivery and no number sits in the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.case.history import note
from services.clock.calendar import WorkCalendar
from services.clock.deadlines import in_office_hours
from services.duty.service import on_duty
from services.outbox import service as outbox
from services.outbox.topics import Topic
from shared.enums import Note
from shared.models import Case
from shared.principal import SYSTEM
from shared.timeutil import to_shanghai


async def text_on_duty(
    session: AsyncSession, unit: str, now: datetime, text: str, *, case_no: str, event: str
) -> list[dict[str, Any]]:
    """Who was told, as the history names them (unit, name, duty; no phones)."""
    answering, shifts = await on_duty(session, unit, now)
    told = []
    for shift in shifts:
        outbox.enqueue(
            session,
            Topic.staff_sms,
            {"shift": shift.id, "text": text, "case_no": case_no, "event": event},
            ordering_key=f"{Topic.staff_sms}:{answering}",
        )
        told.append({"unit": answering, "name": shift.name, "duty": shift.duty})
    return told


async def urgent_after_hours(
    session: AsyncSession, case: Case, *, now: datetime, calendar: WorkCalendar
) -> list[dict[str, Any]] | None:
    """An urgent case registered outside office hours, just placed with its first department:
    whoever is on duty for that department (or above) is texted, and the history names them.
    Called once per case, at its first placement (the step that leaves `registered`), so it
    is told once; none when the case is not urgent or came in office hours."""
    if not case.urgent or case.lead_department is None:
        return None
    if in_office_hours(case.created_at, calendar):
        return None
    text = (
        f"【紧急诉求】案件{case.case_no}于{to_shanghai(case.created_at):%m月%d日%H:%M}"
        f"非工作时间登记,已派{case.lead_department},请值班人员关注。"
    )
    told = await text_on_duty(
        session, case.lead_department, now, text, case_no=case.case_no, event="urgent_after_hours"
    )
    note(
        session,
        case,
        action=Note.urgent_after_hours,
        actor=SYSTEM,
        at=now,
        data={"unit": case.lead_department, "told": told},
    )
    return told
