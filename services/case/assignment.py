"""Putting a case in a department's hands: lead, co-handlers, deadlines, the routing record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.clock.policy import Deadlines
from services.routing.schemas import SlaPolicy
from services.sla.schedule import reschedule
from shared.models import Case


def assign_to(
    case: Case,
    lead: str,
    co: list[str],
    *,
    policy: SlaPolicy | None,
    policy_name: str | None,
    due: Deadlines,
    routing: dict[str, Any],
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
    case.routing = {
        **routing,
        "sla_policy": policy_name,
        "policy": policy.model_dump(mode="json") if policy else None,
        "deadline_alert": due.alert,
    }
    reschedule(case)
