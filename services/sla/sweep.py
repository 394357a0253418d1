"""The SLA sweep: warnings, yellow and red cards, auto-close. Exactly once, however many run.

A batch claims due cases with `FOR UPDATE SKIP LOCKED` through the partial index on
`sla_next_check_at`, so concurrent workers split the work and an idle sweep is one index probe.
Every notice is an INSERT … ON CONFLICT DO NOTHING against a unique index (case, deadline, due
time): a retried batch, a second worker or a worker killed mid-batch (its transaction rolls
back) can never issue a card twice. History, points and outbox messages are written only for
rows this transaction actually inserted, in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.case import history, notify, rating_review
from services.clock.calendar import WorkCalendar
from services.escalation import service as escalation
from services.outbox import service as outbox
from services.rules.schemas import CardPolicy
from services.sla.plan import Due, Notice, plan, policies
from shared import metrics
from shared.enums import Action, Note
from shared.models import Card, Case
from shared.models.card import CASE_DEADLINE
from shared.principal import SYSTEM
from shared.timeutil import to_shanghai


@dataclass
class SweepResult:
    cases: int = 0
    warnings: int = 0
    yellow: int = 0
    red: int = 0
    closed: int = 0
    orders_overdue: int = 0
    """督办单 found unanswered past their time (services/supervision/sweep.py)."""
    escalations: int = 0
    """Cases raised a level (提级), one per threshold crossed."""
    assists_overdue: int = 0
    """协办 opinions found owed past their time (services/sla/assists.py): one card each."""
    rectifications_overdue: int = 0
    """整改 found undone past its due time (services/rectification/sweep.py)."""
    reviews_lapsed: int = 0
    """不满意甄别 left undecided in time: reopened."""


def _month(moment: datetime) -> str:
    return to_shanghai(moment).strftime("%Y-%m")


CLAIM = (
    select(*(getattr(Case, name) for name in Due.__dataclass_fields__ if name != "reply"))
    .where(Case.sla_next_check_at.is_not(None))
    .order_by(Case.sla_next_check_at)
    .with_for_update(skip_locked=True)
)


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
    ON CONFLICT (case_id, deadline, due_at)
    WHERE case_id IS NOT NULL AND supervision_id IS NULL AND assist_id IS NULL DO NOTHING
    RETURNING id, case_id, deadline, due_at
""")
if CASE_DEADLINE not in INSERT_CARDS.text:  # the index's predicate, word for word
    raise RuntimeError("INSERT_CARDS must name uq_cards_case_deadline's predicate")
RESCHEDULE = text("""
    UPDATE cases SET sla_next_check_at = n.at
    FROM unnest(CAST(:ids AS bigint[]), CAST(:ats AS timestamptz[])) AS n(id, at)
    WHERE cases.id = n.id
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
        unsigned = [n.case.id for n in cards if n.issued and n.deadline == "sign"]
        if unsigned:  # 响应率: the sign clock ended unsigned
            await session.execute(
                update(Case).where(Case.id.in_(unsigned)).values(responded=False),
                execution_options={"synchronize_session": False},
            )


async def _announce(session: AsyncSession, issued: list[Notice], now: datetime) -> None:
    """History, the channel's callbacks and followers' webhooks for what this batch issued: one
    statement for the history rows and one for the messages, in the order one by one would
    have written them (a case's messages keep their order per receiver)."""
    hooks = await notify.webhooks(
        session, {code for n in issued for code in notify.followers(n.case)}
    )
    events: list[dict[str, Any]] = []
    messages: list[outbox.Message] = []
    counted: Counter[tuple[str, ...]] = Counter()
    for notice in issued:
        case, due = notice.case, notice.due
        data: dict[str, Any]
        told: dict[str, Any]
        if notice.kind == "warning":
            action, data = Note.warning, {"deadline": notice.deadline, "due_at": due.isoformat()}
            told = {"deadline": notice.deadline, "due_at": due.isoformat()}
        else:
            action = Note.card(notice.colour or "")
            data = {
                "card_id": notice.card_id,
                "deadline": notice.deadline,
                "due_at": due.isoformat(),
                "points": notice.points,
            }
            told = {"card_id": notice.card_id, "deadline": notice.deadline, "points": notice.points}
        counted[(notice.kind, notice.colour or "", notice.deadline)] += 1
        data["department"] = case.lead_department
        events.append(
            history.event_values(
                case.id,
                action=action,
                actor=SYSTEM,
                from_status=case.status,
                to_status=case.status,
                at=now,
                data=data,
            )
        )
        if history.calls_back(case, action, case.status):
            messages.append(history.callback(case, action, now, data))
        messages.extend(notify.notices(case, action, told, hooks))
    await history.append(session, events)
    await outbox.enqueue_many(session, messages)
    for (kind, colour, deadline), n in counted.items():
        if kind == "warning":
            metrics.WARNINGS_ISSUED.labels(deadline).inc(n)
        else:
            metrics.CARDS_ISSUED.labels(colour, deadline).inc(n)


async def _monthly_reds(
    session: AsyncSession, yellowed: dict[str, CardPolicy], now: datetime
) -> int:
    """Too many yellows in a month: one red card for the department. Once the month's red
    exists nothing more can happen, so the departments that have one are found first, in one
    query: without that, every batch would count each department's yellows again."""
    month = _month(now)
    have = set(
        await session.scalars(
            select(Card.department).where(
                Card.department.in_(yellowed), Card.month == month, Card.deadline == "monthly"
            )
        )
    )
    issued = 0
    for department in sorted(yellowed.keys() - have):
        issued += await _monthly_red(session, department, yellowed[department], month, now)
    return issued


async def _monthly_red(
    session: AsyncSession, department: str, policy: CardPolicy, month: str, now: datetime
) -> bool:
    """The advisory lock makes concurrent sweeps count one after the other, so the threshold
    is never missed; departments are taken in code order, so two sweeps cannot deadlock."""
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
    if inserted.scalar_one_or_none() is None:
        return False
    metrics.CARDS_ISSUED.labels("red", "monthly").inc()
    return True


async def _close(session: AsyncSession, ids: list[int], now: datetime) -> None:
    """Replied cases nobody answered close through the life cycle, like any other step; they
    are few, so they are loaded whole (this transaction already holds their rows)."""
    for case in await session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id)):
        history.transition(
            session,
            case,
            Action.auto_close,
            actor=SYSTEM,
            now=now,
            reason="no feedback in time: closed automatically",
        )


async def _reopen(session: AsyncSession, ids: list[int], now: datetime) -> None:
    """不满意甄别 nobody decided in time: redone, each through the life cycle (few; this
    transaction already holds their rows)."""
    for case in await session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id)):
        await rating_review.lapse(session, case, now=now)


async def sweep_batch(
    session: AsyncSession, *, now: datetime, calendar: WorkCalendar, batch: int = 500
) -> SweepResult:
    """One batch in the caller's transaction (the caller commits). Returns what it issued.

    Set-based: the batch is claimed as narrow rows; its warnings are one INSERT, its cards
    another (the unique index keeps each exactly once), its history rows one, its messages one,
    the next check times one UPDATE; each department's monthly red is judged once per batch,
    after its new yellows."""
    with metrics.SWEEP_SECONDS.time():
        rows = await session.execute(CLAIM.where(Case.sla_next_check_at <= now).limit(batch))
        plans = [plan(Due(**row._mapping), now, calendar) for row in rows]
        result = SweepResult(cases=len(plans))
        notices = [n for plan in plans for n in plan.notices]
        await _issue(session, notices, now)
        issued = [n for n in notices if n.issued]
        await _announce(session, issued, now)
        yellowed: dict[str, CardPolicy] = {}
        for notice in issued:
            if notice.kind == "warning":
                result.warnings += 1
            elif notice.colour == "yellow":
                result.yellow += 1
                department = notice.case.lead_department or ""
                if department not in yellowed:  # its card policy, parsed once
                    yellowed[department] = policies(notice.case)[1]
            else:
                result.red += 1
        staying = [plan for plan in plans if not plan.closes and not plan.reopens]
        if staying:
            await session.execute(
                RESCHEDULE,
                {"ids": [p.case.id for p in staying], "ats": [p.next_check for p in staying]},
            )
        closing = [plan.case.id for plan in plans if plan.closes]
        if closing:
            await _close(session, closing, now)
            result.closed = len(closing)
        reopening = [plan.case.id for plan in plans if plan.reopens]
        if reopening:
            await _reopen(session, reopening, now)
            result.reviews_lapsed = len(reopening)
        if yellowed:
            result.red += await _monthly_reds(session, yellowed, now)
        crossed = {p.case.id: p.crossings for p in plans if p.crossings}
        result.escalations = await escalation.raise_batch(
            session, crossed, now=now, calendar=calendar
        )
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
        "orders_overdue": result.orders_overdue,
        "escalations": result.escalations,
        "assists_overdue": result.assists_overdue,
        "reviews_lapsed": result.reviews_lapsed,
        "rectifications_overdue": result.rectifications_overdue,
    }
