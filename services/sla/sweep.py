"""The SLA sweep: warnings, yellow and red cards, auto-close. Exactly once, however many run.

A batch claims due cases with `FOR UPDATE SKIP LOCKED` through the partial index on
`sla_next_check_at`, so concurrent workers split the work and an idle sweep is one index probe.
Every notice is an INSERT … ON CONFLICT DO NOTHING against a unique index (case, deadline, due
time): a retried batch, a second worker or a worker killed mid-batch (its transaction rolls
back) can never issue a card twice. History, points and outbox messages are written only for
rows this transaction actually inserted, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.case.history import record, transition
from services.case.lifecycle import Action
from services.case.notify import notify_followers
from services.clock import deadlines
from services.clock.calendar import CalendarUnknown, WorkCalendar
from services.routing.schemas import CardPolicy, SlaPolicy
from services.sla.schedule import AUTO_CLOSING, CLOCK_RUNNING, auto_close_at
from shared import telemetry
from shared.enums import CaseStatus as S
from shared.models import Card, Case
from shared.principal import SYSTEM
from shared.timeutil import to_shanghai

# Plain SQL for the two inserts a sweep repeats thousands of times: the ON CONFLICT form is not
# in SQLAlchemy's statement cache and would be compiled again for every card.
INSERT_WARNING = text("""
    INSERT INTO warnings (case_id, department, deadline, due_at, issued_at)
    VALUES (:case_id, :department, :deadline, :due_at, :issued_at)
    ON CONFLICT (case_id, deadline, due_at) DO NOTHING RETURNING id
""")
INSERT_CARD = text("""
    INSERT INTO cards (case_id, department, colour, deadline, due_at, month, points, issued_at)
    VALUES (:case_id, :department, :colour, :deadline, :due_at, :month, :points, :issued_at)
    ON CONFLICT (case_id, deadline, due_at) WHERE case_id IS NOT NULL DO NOTHING RETURNING id
""")


@dataclass
class SweepResult:
    cases: int = 0
    warnings: int = 0
    yellow: int = 0
    red: int = 0
    closed: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _month(moment: datetime) -> str:
    return to_shanghai(moment).strftime("%Y-%m")


def _policies(case: Case) -> tuple[SlaPolicy | None, CardPolicy]:
    routing = case.routing or {}
    sla = SlaPolicy.model_validate(routing["policy"]) if routing.get("policy") else None
    cards = CardPolicy.model_validate(routing.get("card_policy") or {})
    return sla, cards


async def _warn(
    session: AsyncSession, case: Case, deadline: str, due: datetime, now: datetime
) -> bool:
    inserted = await session.execute(
        INSERT_WARNING,
        {
            "case_id": case.id,
            "department": case.lead_department,
            "deadline": deadline,
            "due_at": due,
            "issued_at": now,
        },
    )
    if inserted.scalar_one_or_none() is None:
        return False
    record(
        session,
        case,
        action="warning",
        actor=SYSTEM,
        from_status=case.status,
        at=now,
        data={"deadline": deadline, "due_at": due.isoformat(), "department": case.lead_department},
    )
    await notify_followers(
        session, case, "warning", {"deadline": deadline, "due_at": due.isoformat()}
    )
    telemetry.WARNINGS_ISSUED.labels(deadline).inc()
    return True


async def _card(
    session: AsyncSession,
    case: Case,
    colour: str,
    deadline: str,
    due: datetime,
    points: int,
    now: datetime,
) -> int | None:
    department = case.lead_department
    if department is None:
        return None
    inserted = await session.execute(
        INSERT_CARD,
        {
            "case_id": case.id,
            "department": department,
            "colour": colour,
            "deadline": deadline,
            "due_at": due,
            "month": _month(now),
            "points": points,
            "issued_at": now,
        },
    )
    card_id = inserted.scalar_one_or_none()
    if card_id is None:
        return None
    record(
        session,
        case,
        action=f"{colour}_card",
        actor=SYSTEM,
        from_status=case.status,
        at=now,
        data={
            "card_id": card_id,
            "deadline": deadline,
            "due_at": due.isoformat(),
            "department": department,
            "points": points,
        },
    )
    await notify_followers(
        session,
        case,
        f"{colour}_card",
        {"card_id": card_id, "deadline": deadline, "points": points},
    )
    telemetry.CARDS_ISSUED.labels(colour, deadline).inc()
    return int(card_id)


async def _monthly_red(
    session: AsyncSession,
    department: str,
    policy: CardPolicy,
    now: datetime,
    done: set[tuple[str, str]],
) -> bool:
    """Too many yellows in a month: one red card for the department. The advisory lock makes
    concurrent sweeps count one after the other, so the threshold is never missed. Once the
    month's red exists nothing more can happen, so that is checked first (and remembered for
    the batch): without it every yellow would count the month's yellows again."""
    month = _month(now)
    if (department, month) in done:
        return False
    monthly = select(Card.id).where(
        Card.department == department, Card.month == month, Card.deadline == "monthly"
    )
    if await session.scalar(monthly) is not None:
        done.add((department, month))
        return False
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"cards:{department}"))))
    yellows = await session.scalar(
        select(func.count())
        .select_from(Card)
        .where(
            Card.department == department,
            Card.month == month,
            Card.colour == "yellow",
            Card.status != "revoked",
        )
    )
    if (yellows or 0) < policy.red_when_yellows_in_month:
        return False
    inserted = await session.execute(
        insert(Card)
        .values(
            case_id=None,
            department=department,
            colour="red",
            deadline="monthly",
            due_at=None,
            month=month,
            points=policy.red_points,
            issued_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["department", "month"],
            index_where=Card.deadline == literal_column("'monthly'"),
        )
        .returning(Card.id)
    )
    done.add((department, month))
    if inserted.scalar_one_or_none() is None:
        return False
    telemetry.CARDS_ISSUED.labels("red", "monthly").inc()
    return True


async def _process(
    session: AsyncSession,
    case: Case,
    now: datetime,
    calendar: WorkCalendar,
    result: SweepResult,
    done: set[tuple[str, str]],
) -> None:
    status = S(case.status)
    sla, cards = _policies(case)
    future: list[datetime] = []

    def due(point: datetime | None) -> bool:
        if point is None:
            return False
        if point > now:
            future.append(point)
            return False
        return True

    if status is S.assigned and case.sign_due_at is not None:
        if due(case.sign_warn_at):
            result.warnings += await _warn(session, case, "sign", case.sign_due_at, now)
        if due(case.sign_due_at) and await _card(
            session, case, "yellow", "sign", case.sign_due_at, cards.yellow_points, now
        ):
            result.yellow += 1
            result.red += await _monthly_red(session, case.lead_department or "", cards, now, done)
    if status in CLOCK_RUNNING and case.handle_due_at is not None:
        handle_due = case.handle_due_at
        if due(case.handle_warn_at):
            result.warnings += await _warn(session, case, "handle", handle_due, now)
        if due(handle_due):
            if await _card(session, case, "yellow", "handle", handle_due, cards.yellow_points, now):
                result.yellow += 1
                result.red += await _monthly_red(
                    session, case.lead_department or "", cards, now, done
                )
            if sla is not None:
                try:
                    red_at: datetime | None = deadlines.add(handle_due, sla.red_after, calendar)
                except CalendarUnknown:
                    red_at = None
                if due(red_at) and await _card(
                    session, case, "red", "drag", handle_due, cards.red_points, now
                ):
                    result.red += 1
    if status in AUTO_CLOSING and due(auto_close_at(case)):
        transition(
            session,
            case,
            Action.auto_close,
            actor=SYSTEM,
            now=now,
            reason="no feedback in time: closed automatically",
        )
        result.closed += 1
        future.clear()
    case.sla_next_check_at = min(future) if future and S(case.status) is status else None


async def sweep_batch(
    session: AsyncSession, *, now: datetime, calendar: WorkCalendar, batch: int = 500
) -> SweepResult:
    """One batch in the caller's transaction (the caller commits). Returns what it issued."""
    with telemetry.SWEEP_SECONDS.time():
        claimed = list(
            (
                await session.execute(
                    select(Case)
                    .where(Case.sla_next_check_at.is_not(None), Case.sla_next_check_at <= now)
                    .order_by(Case.sla_next_check_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).scalars()
        )
        result = SweepResult(cases=len(claimed))
        done: set[tuple[str, str]] = set()
        # One flush for the batch: events and case updates never need to be visible mid-batch,
        # and an autoflush before each statement would cost a round trip per case.
        with session.no_autoflush:
            for case in claimed:
                await _process(session, case, now, calendar, result, done)
        await session.flush()
    return result


async def lag_seconds(session: AsyncSession, now: datetime) -> float:
    """Now minus the oldest check still due (0 when caught up): one probe of the sweep's index."""
    oldest = await session.scalar(
        select(Case.sla_next_check_at)
        .where(Case.sla_next_check_at.is_not(None))
        .order_by(Case.sla_next_check_at)
        .limit(1)
    )
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def summary(result: SweepResult) -> dict[str, Any]:
    return {
        "cases": result.cases,
        "warnings": result.warnings,
        "yellow": result.yellow,
        "red": result.red,
        "closed": result.closed,
    }
