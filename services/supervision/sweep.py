"""督办单 left unanswered past their time: marked overdue, the department carded as the case's
card policy says, whoever is on duty told. Exactly once, however many sweeps run.

A batch claims open orders due by `now` with `FOR UPDATE SKIP LOCKED` through the partial
index on open orders' due times (an idle sweep is one index probe); concurrent sweeps split the
work. The card is an INSERT … ON CONFLICT DO NOTHING on `cards.supervision_id` (unique), and the
order leaves `open` in the same transaction: a retried batch, a second worker or a worker killed
mid-batch (its transaction rolls back) can never card an order twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.case.history import note
from services.case.routing_record import routing_of
from services.department import repository as departments
from services.duty import alerts
from services.rules.schemas import CardPolicy
from services.supervision import tell
from shared import metrics
from shared.enums import Note, SupervisionStatus
from shared.models import Case, Supervision
from shared.principal import SYSTEM
from shared.timeutil import to_shanghai

CLAIM = (
    select(Supervision, Case)
    .join(Case, Case.id == Supervision.case_id)
    .where(Supervision.status == SupervisionStatus.open.value)
    .order_by(Supervision.due_at, Supervision.id)
    .with_for_update(of=Supervision, skip_locked=True)
)

INSERT_CARD = text("""
    INSERT INTO cards (case_id, department, colour, deadline, due_at, month, points, issued_at,
                       supervision_id)
    VALUES (:case_id, :department, :colour, 'supervision', :due_at, :month, :points, :now,
            :supervision_id)
    ON CONFLICT (supervision_id) WHERE supervision_id IS NOT NULL DO NOTHING
    RETURNING id
""")


def _points(policy: CardPolicy) -> tuple[str, int] | None:
    if policy.supervision_card == "none":
        return None
    colour = policy.supervision_card
    return colour, policy.yellow_points if colour == "yellow" else policy.red_points


async def overdue_batch(session: AsyncSession, *, now: datetime, batch: int = 200) -> int:
    """One batch in the caller's transaction (the caller commits): how many orders it found
    overdue. Orders are few next to cases, so each is handled as a row; the card and the
    order's change are what make it exactly once."""
    rows = (await session.execute(CLAIM.where(Supervision.due_at <= now).limit(batch))).tuples()
    found = 0
    for order, case in rows:
        found += 1
        order.status, order.overdue_at = SupervisionStatus.overdue.value, now
        card_id: int | None = None
        card: dict[str, object] = {}
        colour_points = _points(routing_of(case).card_policy or CardPolicy())
        if colour_points is not None:
            colour, points = colour_points
            card_id = (
                await session.execute(
                    INSERT_CARD,
                    {
                        "case_id": case.id,
                        "department": order.department,
                        "colour": colour,
                        "due_at": order.due_at,
                        "month": f"{to_shanghai(now):%Y-%m}",
                        "points": points,
                        "now": now,
                        "supervision_id": order.id,
                    },
                )
            ).scalar_one_or_none()
            if card_id is not None:
                metrics.CARDS_ISSUED.labels(colour, "supervision").inc()
                card = {"card_id": card_id, "deadline": "supervision", "points": points}
        concerned = order.issuing_unit or order.copied_to or order.department
        told = await alerts.text_on_duty(
            session,
            concerned,
            now,
            tell.overdue_text(order, case.case_no),
            case_no=case.case_no,
            event="supervision_overdue",
        )
        lead = await departments.get(session, order.department)
        if lead is not None:
            tell.text_department(
                session,
                lead,
                tell.overdue_text(order, case.case_no),
                case_no=case.case_no,
                event="supervision_overdue",
            )
        note(
            session,
            case,
            action=Note.supervision_overdue,
            actor=SYSTEM,
            at=now,
            data={
                "supervision_id": order.id,
                "order_no": order.order_no,
                "department": order.department,
                "level": order.level,
                "due_at": order.due_at.isoformat(),
                **card,
                "told": told,
            },
        )
        await tell.webhooks(
            session,
            order,
            case,
            event="supervision_overdue",
            to=(order.department, order.copied_to, order.issuing_unit),
        )
    await session.flush()
    return found
