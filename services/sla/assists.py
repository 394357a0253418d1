"""协办 tasks still owed past their time: the co-department gets a yellow card, exactly once
(`cards.assist_id`, unique; the claimed row is skipped by other sweeps and leaves the claim in
the same transaction). The task stays open: the opinion is still owed, and the lead still
waits for it unless a coordinator waives it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.case.history import note
from services.case.notify import followers, notify_departments
from services.case.routing_record import routing_of
from services.rules.schemas import CardPolicy
from shared import metrics
from shared.enums import AssistStatus, Note
from shared.models import Assist, Case
from shared.principal import SYSTEM
from shared.timeutil import to_shanghai

CLAIM = (
    select(Assist, Case)
    .join(Case, Case.id == Assist.case_id)
    .where(Assist.status == AssistStatus.open.value, Assist.overdue_at.is_(None))
    .order_by(Assist.due_at, Assist.id)
    .with_for_update(of=Assist, skip_locked=True)
)

INSERT_CARD = text("""
    INSERT INTO cards (case_id, department, colour, deadline, due_at, month, points, issued_at,
                       assist_id)
    VALUES (:case_id, :department, 'yellow', 'assist', :due_at, :month, :points, :now,
            :assist_id)
    ON CONFLICT (assist_id) WHERE assist_id IS NOT NULL DO NOTHING
    RETURNING id
""")


async def overdue_batch(session: AsyncSession, *, now: datetime, batch: int = 200) -> int:
    """One batch in the caller's transaction: how many owed tasks it found past their time."""
    rows = (await session.execute(CLAIM.where(Assist.due_at <= now).limit(batch))).tuples()
    found = 0
    for task, case in rows:
        found += 1
        task.overdue_at = now
        points = (routing_of(case).card_policy or CardPolicy()).yellow_points
        card_id = (
            await session.execute(
                INSERT_CARD,
                {
                    "case_id": case.id,
                    "department": task.department,
                    "due_at": task.due_at,
                    "month": f"{to_shanghai(now):%Y-%m}",
                    "points": points,
                    "now": now,
                    "assist_id": task.id,
                },
            )
        ).scalar_one_or_none()
        if card_id is None:
            continue
        metrics.CARDS_ISSUED.labels("yellow", "assist").inc()
        data = {
            "card_id": card_id,
            "deadline": "assist",
            "points": points,
            "department": task.department,
            "due_at": task.due_at.isoformat() if task.due_at else None,
        }
        note(session, case, action=Note.yellow_card, actor=SYSTEM, at=now, data=data)
        await notify_departments(
            session,
            case,
            [*followers(case), task.department],
            "yellow_card",
            {k: data[k] for k in ("card_id", "deadline", "points")},
        )
    await session.flush()
    return found
