"""整改 left undone past its due time: marked overdue and, as RECTIFICATION_CARD says, the owner
carded. Exactly once, however many sweeps run: a batch claims undone rectifications due by `now`
with `FOR UPDATE SKIP LOCKED` through their partial index (an idle sweep is one index probe), the
mark and the history row are written with the card in one transaction, and the card is an
INSERT … ON CONFLICT DO NOTHING on `cards.rectification_id` (unique)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.rules import versions
from services.rules.schemas import CardPolicy
from shared import metrics
from shared.enums import RectificationStatus
from shared.models import Rectification, RectificationEvent
from shared.principal import SYSTEM
from shared.settings import get_settings
from shared.timeutil import to_shanghai

CLAIM = (
    select(Rectification)
    .where(
        Rectification.status.in_(
            [RectificationStatus.open.value, RectificationStatus.in_progress.value]
        ),
        Rectification.overdue_at.is_(None),
    )
    .order_by(Rectification.due_at, Rectification.id)
    .with_for_update(skip_locked=True)
)

INSERT_CARD = text("""
    INSERT INTO cards (department, colour, deadline, due_at, month, points, issued_at,
                       rectification_id)
    VALUES (:department, :colour, 'rectification', :due_at, :month, :points, :now,
            :rectification_id)
    ON CONFLICT (rectification_id) WHERE rectification_id IS NOT NULL DO NOTHING
    RETURNING id
""")


async def _points(session: AsyncSession, colour: str) -> int:
    current = await versions.card_policy(session)
    policy = current[1] if current else CardPolicy()
    return policy.yellow_points if colour == "yellow" else policy.red_points


async def overdue_batch(session: AsyncSession, *, now: datetime, batch: int = 200) -> int:
    """One batch in the caller's transaction (the caller commits): how many it found late."""
    late = list(await session.scalars(CLAIM.where(Rectification.due_at <= now).limit(batch)))
    colour = get_settings().rectification_card
    points = await _points(session, colour) if late and colour != "none" else 0
    for rectification in late:
        rectification.overdue_at = now
        card_id: int | None = None
        if colour != "none":
            card_id = (
                await session.execute(
                    INSERT_CARD,
                    {
                        "department": rectification.department,
                        "colour": colour,
                        "due_at": rectification.due_at,
                        "month": f"{to_shanghai(now):%Y-%m}",
                        "points": points,
                        "now": now,
                        "rectification_id": rectification.id,
                    },
                )
            ).scalar_one_or_none()
            if card_id is not None:
                metrics.CARDS_ISSUED.labels(colour, "rectification").inc()
        session.add(
            RectificationEvent(
                rectification_id=rectification.id,
                action="overdue",
                at=now,
                actor_role=SYSTEM.role.value,
                data={"due_at": rectification.due_at.isoformat(), "card_id": card_id},
            )
        )
    await session.flush()
    return len(late)
