"""How a case came to its department, as stored in `cases.routing`: the rule that decided (or
that the coordinator assigned), the SLA policy its deadlines run by, the card policy its cards
and auto-close follow. Read and written only through `RoutingRecord`; nothing else knows the
JSON's keys."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from services.rules.schemas import CardPolicy, EscalationPolicy, SlaPolicy
from shared.durations import DurationField


class RoutingRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    rule_id: str | None = None
    rule_version: int | None = None
    sla_policy: str | None = None
    """The policy's name in the rule table; `policy` is the policy itself as it was then."""
    policy: SlaPolicy | None = None
    card_policy: CardPolicy | None = None
    escalation: EscalationPolicy | None = None
    """The 提级 thresholds of the version that routed the case (none: the defaults)."""
    assist_within: DurationField | None = None
    """协办: the rule's time for co-departments' opinions (none: half the handling time)."""
    reason: str | None = None
    fallback: bool | None = None
    deadline_alert: str | None = None
    """Why a deadline could not be set (the calendar year is not loaded), until it can."""
    assigned_by: str | None = None
    final: bool | None = None
    """The coordinator assigned after the return cap: no further return or transfer."""

    @classmethod
    def of(cls, stored: dict[str, Any] | None) -> RoutingRecord:
        """The record of a case's stored JSON; an empty record when the case has none yet."""
        return cls.model_validate(stored or {})

    def changed(self, **fields: Any) -> RoutingRecord:
        """This record with `fields` replaced, validated as a new one would be."""
        return self.model_validate({**self.stored(), **fields})

    def stored(self) -> dict[str, Any]:
        """The JSON kept in `cases.routing`: the fields that were ever given, and only those."""
        return self.model_dump(mode="json", exclude_unset=True)


class Routed(Protocol):
    @property
    def routing(self) -> dict[str, Any] | None: ...


def routing_of(case: Routed) -> RoutingRecord:
    return RoutingRecord.of(case.routing)
