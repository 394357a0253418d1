"""When the SLA sweep must next look at a case. Pure; called wherever deadlines or status move.

Points already handled may come round again after a reschedule: the sweep's inserts are unique
per case, deadline and due time, so seeing a point twice never issues anything twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from services.case.crossings import counted
from services.case.lifecycle import AUTO_CLOSING, CLOCK_RUNNING, RATED_UNSATISFIED
from services.case.routing_record import RoutingRecord
from shared.enums import CaseStatus as S
from shared.models import Case


class Timed(Protocol):
    """What deciding a case's next check reads: an ORM case, or the sweep's narrow row of one."""

    @property
    def status(self) -> str: ...
    @property
    def routing(self) -> dict[str, Any] | None: ...
    @property
    def replied_at(self) -> datetime | None: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def sign_warn_at(self) -> datetime | None: ...
    @property
    def sign_due_at(self) -> datetime | None: ...
    @property
    def handle_warn_at(self) -> datetime | None: ...
    @property
    def handle_due_at(self) -> datetime | None: ...
    @property
    def rating_review_due_at(self) -> datetime | None: ...


def auto_close_at(case: Timed) -> datetime | None:
    """Replied (or window-settled) cases close by themselves when the citizen says nothing."""
    cards = RoutingRecord.of(case.routing).card_policy
    after = cards.auto_close_after if cards else None
    since = case.replied_at or case.updated_at
    if after is None or since is None or after.is_working:
        return None
    return since + after.natural()


def points(case: Timed) -> list[datetime]:
    status = S(case.status)
    found: list[datetime | None] = []
    if status is S.assigned:
        found += [case.sign_warn_at, case.sign_due_at]
    if status in CLOCK_RUNNING:
        found += [case.handle_warn_at, case.handle_due_at]
    if status in AUTO_CLOSING:
        found.append(auto_close_at(case))
    if status in RATED_UNSATISFIED:
        found.append(case.rating_review_due_at)
    return [p for p in found if p is not None]


def reschedule(case: Case) -> None:
    """Also after a counter moves (a reopen, a return, a transfer, a repeat): a threshold it
    crossed (提级) has the sweep look at the case at once."""
    found = points(case)
    if counted(case):
        found.append(case.updated_at)
    case.sla_next_check_at = min(found) if found else None
