"""Putting a case in a department's hands: lead, co-handlers, deadlines, the routing record."""

from __future__ import annotations

from datetime import datetime

from services.case.routing_record import RoutingRecord
from services.case.schedule import reschedule
from services.clock.policy import Deadlines
from services.rules.schemas import SlaPolicy
from shared.models import Case


def assign_to(
    case: Case,
    lead: str,
    co: list[str],
    *,
    policy: SlaPolicy | None,
    policy_name: str | None,
    due: Deadlines,
    routing: RoutingRecord,
    now: datetime,
) -> None:
    """首问负责制: the first department to own the case stays first-responsible for good."""
    case.lead_department = lead
    case.co_departments = [c for c in co if c != lead]
    if case.first_responsible_department is None:
        case.first_responsible_department = lead
    case.assigned_at = now
    case.sign_due_at = due.sign_due_at
    case.handle_due_at = due.handle_due_at
    case.sign_warn_at = due.sign_warn_at
    case.handle_warn_at = due.handle_warn_at
    case.routing = routing.changed(
        sla_policy=policy_name, policy=policy, deadline_alert=due.alert
    ).stored()
    reschedule(case)
