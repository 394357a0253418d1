"""Routing a stored case, explaining a decision, simulating a draft over stored cases."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.case import access, assists, repository
from services.case.assignment import assign_to
from services.case.history import transition
from services.case.routing_record import RoutingRecord, routing_of
from services.clock.calendar import WorkCalendar
from services.clock.policy import choose
from services.duty import alerts
from services.outbox import service as outbox
from services.outbox.topics import Topic
from services.privacy import applicant_of, redact
from services.rules import versions
from services.rules.engine import CompiledTable, Decision, evaluate
from services.rules.responses import DryDeadlines, Explanation, Move, MovedCase, Simulation, Tried
from services.rules.schemas import CaseFacts, RuleTable
from shared import audit
from shared.enums import Action, ApplicantType, CaseStatus, Category, Channel
from shared.errors import DomainError, conflict
from shared.models import Case
from shared.principal import Principal
from shared.timeutil import shanghai_iso

log = structlog.get_logger("gaodedim.routing")


def facts_of(case: Case) -> CaseFacts:
    return CaseFacts(
        channel=Channel(case.channel),
        title=case.title,
        description=case.description,
        category=Category(case.category) if case.category else None,
        matter_code=case.matter_code,
        district=case.district,
        applicant_type=ApplicantType(case.applicant_type),
        urgent=case.urgent,
        vulnerable=case.vulnerable,
        intake_department=case.intake_department,
    )


def routable(case: Case) -> bool:
    return case.status == CaseStatus.registered or (
        case.status == CaseStatus.reopened and case.lead_department is None
    )


async def route_case(
    session: AsyncSession,
    case_no: str,
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
    table_max_age: float = 0,
) -> tuple[Case, bool]:
    """Route with the latest published table (as read within `table_max_age` seconds).
    Idempotent: a case already routed is returned as it is (False), so a retried hand-over never
    routes twice."""
    case = await repository.get_by_no(session, case_no, for_update=True)
    access.require_in_units(actor, case)
    if not routable(case):
        return case, False
    current = await _published(session, table_max_age)
    await _route_locked(session, case, current, actor=actor, now=now, calendar=calendar)
    return case, True


@dataclass(frozen=True)
class GroupOutcome:
    case_no: str
    case: Case | None
    """None when this case could not be routed now (its outbox message routes it later)."""
    routed: bool = False
    error: str | None = None


async def route_group(
    session: AsyncSession,
    case_nos: list[str],
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
    table_max_age: float = 0,
) -> list[GroupOutcome]:
    """Route the cases intake handed over together (issue 32), in one transaction: one
    statement loads and locks them, the table is read once. Each case is decided under its own
    savepoint, so a case that fails leaves the others routed and itself `registered` (its
    outbox message routes it later). As one by one, a case routed already is returned as it is."""
    current = await _published(session, table_max_age)
    found = await repository.lock_many_by_no(session, case_nos)
    outcomes = []
    for case_no in dict.fromkeys(case_nos):
        case = found.get(case_no)
        if case is None:
            outcomes.append(GroupOutcome(case_no, None, error=f"case {case_no} not found"))
            continue
        if not access.in_units(actor, case):
            outcomes.append(GroupOutcome(case_no, None, error="not within this key's units"))
            continue
        if not routable(case):
            outcomes.append(GroupOutcome(case_no, case))
            continue
        try:
            async with session.begin_nested():
                await _route_locked(session, case, current, actor=actor, now=now, calendar=calendar)
        except (DomainError, ValueError, LookupError) as exc:
            log.warning("group_routing_failed", case_no=case_no, error=type(exc).__name__)
            outcomes.append(GroupOutcome(case_no, None, error=type(exc).__name__))
            continue
        outcomes.append(GroupOutcome(case_no, case, routed=True))
    return outcomes


async def _published(session: AsyncSession, table_max_age: float) -> tuple[int, CompiledTable]:
    current = await versions.compiled(session, max_age=table_max_age)
    if current is None:
        raise conflict("no rule table has been published yet; the case stays registered")
    return current


async def _route_locked(
    session: AsyncSession,
    case: Case,
    current: tuple[int, CompiledTable],
    *,
    actor: Principal,
    now: datetime,
    calendar: WorkCalendar,
) -> None:
    """Decide a routable case whose row this transaction holds."""
    number, compiled = current
    first = case.status == CaseStatus.registered
    # The hand-over message written with the case asked for exactly this: one routing call per
    # case, not a second one from the worker that would answer `routed: false`. Settled before
    # the case changes, so the session has nothing to flush first and the case row is written
    # once, at the commit.
    await outbox.settle_for_case(session, Topic.registered, case.case_no)
    decision = compiled.route(facts_of(case))
    policy_name, due = choose(
        compiled.table,
        decision.sla_policy,
        urgent=case.urgent,
        vulnerable=case.vulnerable,
        start=now,
        calendar=calendar,
    )
    routing = RoutingRecord(
        rule_id=decision.rule_id,
        rule_version=number,
        sla_policy=policy_name,
        reason=decision.reason,
        fallback=decision.fallback,
        card_policy=compiled.table.card_policy,
        escalation=compiled.table.escalation,
        assist_within=decision.assist_within,
    )
    transition(
        session,
        case,
        Action.route,
        actor=actor,
        now=now,
        reason=decision.reason,
        data={
            "lead_department": decision.lead_department,
            "co_departments": list(decision.co_departments),
            **routing.stored(),
        },
    )
    assign_to(
        case,
        decision.lead_department,
        list(decision.co_departments),
        policy=compiled.table.sla_policies.get(policy_name or ""),
        policy_name=policy_name,
        due=due,
        routing=routing,
        now=now,
    )
    await assists.open_tasks(
        session,
        case,
        decision.co_departments,
        actor=actor,
        now=now,
        calendar=calendar,
        reason=decision.reason,
    )
    if first:
        await alerts.urgent_after_hours(session, case, now=now, calendar=calendar)


def explain(
    compiled_or_table: RuleTable,
    facts: CaseFacts,
    calendar: WorkCalendar,
    now: datetime,
    *,
    label: int | str,
) -> Explanation:
    """A dry run: the decision, the policy and deadlines it would get now, and every rule tried."""
    decision, trace = evaluate(compiled_or_table, facts)
    policy_name, due = choose(
        compiled_or_table,
        decision.sla_policy,
        urgent=facts.urgent,
        vulnerable=facts.vulnerable,
        start=now,
        calendar=calendar,
    )
    return Explanation(
        table=label,
        lead_department=decision.lead_department,
        co_departments=list(decision.co_departments),
        rule_id=decision.rule_id,
        reason=decision.reason,
        fallback=decision.fallback,
        sla_policy=policy_name,
        deadlines=DryDeadlines(
            sign_due_at=shanghai_iso(due.sign_due_at),
            handle_due_at=shanghai_iso(due.handle_due_at),
            alert=due.alert,
        ),
        rules=[Tried(**asdict(t)) for t in trace],
    )


async def simulate(
    session: AsyncSession, table: RuleTable, *, limit: int, since: datetime | None = None
) -> Simulation:
    """Replay `table` over the newest stored cases: how many would move, from where to where."""
    compiled = CompiledTable(table)
    stmt = select(Case).where(Case.lead_department.is_not(None))
    if since is not None:
        stmt = stmt.where(Case.created_at >= since)
    stmt = stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)
    cases = list((await session.execute(stmt)).scalars())
    moves: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[MovedCase]] = defaultdict(list)
    rules_hit: Counter[str] = Counter()
    for case in cases:
        decision: Decision = compiled.route(facts_of(case))
        rules_hit[decision.rule_id or "(fallback)"] += 1
        old = case.lead_department or ""
        if decision.lead_department != old:
            key = (old, decision.lead_department)
            moves[key] += 1
            if len(examples[key]) < 5:
                # An administrator's tool: the example's words without the applicant's data,
                # and the cases it named on the audit row (issue 26 #4).
                audit.disclosed(case.case_no, ["title"])
                examples[key].append(
                    MovedCase(
                        case_no=case.case_no,
                        title=redact(case.title, **applicant_of(case)),
                        old_rule=routing_of(case).rule_id,
                        new_rule=decision.rule_id,
                    )
                )
    audit.exported(f"route simulation over {len(cases)} stored cases")
    return Simulation(
        limit=limit,
        cases=len(cases),
        moved=sum(moves.values()),
        unchanged=len(cases) - sum(moves.values()),
        moves=[
            # `from` is a keyword: the member is given by its name in the answer.
            Move.model_validate(
                {"from": frm, "to": to, "count": n, "examples": examples[(frm, to)]}
            )
            for (frm, to), n in moves.most_common()
        ],
        rules_hit=dict(rules_hit.most_common()),
    )
