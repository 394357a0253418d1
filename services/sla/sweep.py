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


@dataclass
class Notice:
    """A warning or card a case is due, before it is known whether it was already issued."""

    case: Case
    kind: str  # "warning" or "card"
    deadline: str
    due: datetime
    colour: str | None = None
    points: int | None = None
    card_id: int | None = None
    issued: bool = False


INSERT_WARNINGS = text("""
    INSERT INTO warnings (case_id, department, deadline, due_at, issued_at)
    SELECT case_id, department, deadline, due_at, CAST(:now AS timestamptz)
    FROM unnest(CAST(:case_ids AS bigint[]), CAST(:departments AS text[]),
                CAST(:deadlines AS text[]), CAST(:dues AS timestamptz[]))
         AS w(case_id, department, deadline, due_at)
    ON CONFLICT (case_id, deadline, due_at) DO NOTHING
    RETURNING case_id, deadline, due_at
""")
INSERT_CARDS = text("""
    INSERT INTO cards (case_id, department, colour, deadline, due_at, month, points, issued_at)
    SELECT case_id, department, colour, deadline, due_at, CAST(:month AS text), points,
           CAST(:now AS timestamptz)
    FROM unnest(CAST(:case_ids AS bigint[]), CAST(:departments AS text[]),
                CAST(:colours AS text[]), CAST(:deadlines AS text[]),
                CAST(:dues AS timestamptz[]), CAST(:points AS int[]))
         AS c(case_id, department, colour, deadline, due_at, points)
    ON CONFLICT (case_id, deadline, due_at) WHERE case_id IS NOT NULL DO NOTHING
    RETURNING id, case_id, deadline, due_at
""")


async def _issue(session: AsyncSession, notices: list[Notice], now: datetime) -> None:
    """Insert a batch's warnings in one statement and its cards in another; the unique index
    decides which are new (`issued`), so a notice a retried or concurrent batch already wrote is
    skipped, exactly as one INSERT per notice would."""
    warnings = [n for n in notices if n.kind == "warning"]
    if warnings:
        rows = await session.execute(
            INSERT_WARNINGS,
            {
                "now": now,
                "case_ids": [n.case.id for n in warnings],
                "departments": [n.case.lead_department for n in warnings],
                "deadlines": [n.deadline for n in warnings],
                "dues": [n.due for n in warnings],
            },
        )
        new = {(r.case_id, r.deadline, r.due_at) for r in rows}
        for n in warnings:
            n.issued = (n.case.id, n.deadline, n.due) in new
    cards = [n for n in notices if n.kind == "card" and n.case.lead_department is not None]
    if cards:
        rows = await session.execute(
            INSERT_CARDS,
            {
                "now": now,
                "month": _month(now),
                "case_ids": [n.case.id for n in cards],
                "departments": [n.case.lead_department for n in cards],
                "colours": [n.colour for n in cards],
                "deadlines": [n.deadline for n in cards],
                "dues": [n.due for n in cards],
                "points": [n.points for n in cards],
            },
        )
        ids = {(r.case_id, r.deadline, r.due_at): int(r.id) for r in rows}
        for n in cards:
            n.card_id = ids.get((n.case.id, n.deadline, n.due))
            n.issued = n.card_id is not None


async def _announce(session: AsyncSession, notice: Notice, now: datetime) -> None:
    """History, followers' webhooks and the metric for a notice this batch issued."""
    case, due = notice.case, notice.due
    data: dict[str, Any]
    told: dict[str, Any]
    if notice.kind == "warning":
        action, data = "warning", {"deadline": notice.deadline, "due_at": due.isoformat()}
        told = {"deadline": notice.deadline, "due_at": due.isoformat()}
        telemetry.WARNINGS_ISSUED.labels(notice.deadline).inc()
    else:
        action = f"{notice.colour}_card"
        data = {
            "card_id": notice.card_id,
            "deadline": notice.deadline,
            "due_at": due.isoformat(),
            "points": notice.points,
        }
        told = {"card_id": notice.card_id, "deadline": notice.deadline, "points": notice.points}
        telemetry.CARDS_ISSUED.labels(notice.colour, notice.deadline).inc()
    record(
        session,
        case,
        action=action,
        actor=SYSTEM,
        from_status=case.status,
        at=now,
        data={**data, "department": case.lead_department},
    )
    await notify_followers(session, case, action, told)


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


def _plan(case: Case, now: datetime, calendar: WorkCalendar) -> tuple[list[Notice], bool]:
    """What `case` is due at `now` (in the order it falls due) and whether it closes; sets its
    next check time. Pure: nothing is written here."""
    status = S(case.status)
    sla, cards = _policies(case)
    future: list[datetime] = []
    notices: list[Notice] = []

    def due(point: datetime | None) -> bool:
        if point is None:
            return False
        if point > now:
            future.append(point)
            return False
        return True

    if status is S.assigned and case.sign_due_at is not None:
        if due(case.sign_warn_at):
            notices.append(Notice(case, "warning", "sign", case.sign_due_at))
        if due(case.sign_due_at):
            notices.append(
                Notice(case, "card", "sign", case.sign_due_at, "yellow", cards.yellow_points)
            )
    if status in CLOCK_RUNNING and case.handle_due_at is not None:
        handle_due = case.handle_due_at
        if due(case.handle_warn_at):
            notices.append(Notice(case, "warning", "handle", handle_due))
        if due(handle_due):
            notices.append(
                Notice(case, "card", "handle", handle_due, "yellow", cards.yellow_points)
            )
            if sla is not None:
                try:
                    red_at: datetime | None = deadlines.add(handle_due, sla.red_after, calendar)
                except CalendarUnknown:
                    red_at = None
                if due(red_at):
                    notices.append(
                        Notice(case, "card", "drag", handle_due, "red", cards.red_points)
                    )
    closes = status in AUTO_CLOSING and due(auto_close_at(case))
    case.sla_next_check_at = None if closes or not future else min(future)
    return notices, closes


async def sweep_batch(
    session: AsyncSession, *, now: datetime, calendar: WorkCalendar, batch: int = 500
) -> SweepResult:
    """One batch in the caller's transaction (the caller commits). Returns what it issued.

    Set-based: the batch's warnings are one INSERT and its cards another (the unique index
    keeps each exactly once); history, webhooks, case updates and outbox messages for what was
    issued are flushed together at the end; each department's monthly red is judged once per
    batch, after its new yellows."""
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
        with session.no_autoflush:
            plans = [(case, *_plan(case, now, calendar)) for case in claimed]
            notices = [n for _, case_notices, _ in plans for n in case_notices]
            await _issue(session, notices, now)
            yellowed: dict[str, CardPolicy] = {}
            for case, case_notices, closes in plans:
                for notice in case_notices:
                    if not notice.issued:
                        continue
                    await _announce(session, notice, now)
                    if notice.kind == "warning":
                        result.warnings += 1
                    elif notice.colour == "yellow":
                        result.yellow += 1
                        department = case.lead_department or ""
                        if department not in yellowed:  # its card policy, parsed once
                            yellowed[department] = _policies(case)[1]
                    else:
                        result.red += 1
                if closes:
                    transition(
                        session,
                        case,
                        Action.auto_close,
                        actor=SYSTEM,
                        now=now,
                        reason="no feedback in time: closed automatically",
                    )
                    result.closed += 1
            await session.flush()  # the new yellows count towards the monthly reds below
            for department, policy in yellowed.items():
                result.red += await _monthly_red(session, department, policy, now, done)
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
