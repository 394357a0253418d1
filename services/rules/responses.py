"""What the rule-table operations answer, as models (see `shared.view`)."""

from __future__ import annotations

from pydantic import Field

from services.rules.schemas import RuleTable
from shared.view import View


class RulesOut(View):
    draft: RuleTable | None = Field(description="the table being edited, not yet in force")
    current_version: int | None = Field(description="the published version cases route by")
    current: RuleTable | None


class DraftSaved(View):
    draft: RuleTable
    rules: int = Field(description="how many rules the draft holds")


class Published(View):
    version: int = Field(description="the new version; cases route by it from now on")


class VersionOut(View):
    version: int
    table: RuleTable


class Tried(View):
    rule_id: str
    priority: int
    matched: bool
    failed: list[str] = Field(description="the conditions that did not hold")


class DryDeadlines(View):
    sign_due_at: str | None
    handle_due_at: str | None
    alert: str | None = Field(description="why a deadline could not be computed, if it could not")


class Explanation(View):
    """Where a case with these facts would go now, and why: every rule tried in order."""

    table: int | str = Field(description="the version used, or `draft`")
    lead_department: str
    co_departments: list[str]
    rule_id: str | None = Field(description="None when no rule matched (the fallback)")
    reason: str
    fallback: bool
    sla_policy: str | None
    deadlines: DryDeadlines
    rules: list[Tried]


class MovedCase(View):
    case_no: str
    title: str | None
    old_rule: str | None
    new_rule: str | None


class Move(View):
    from_: str = Field(alias="from", description="the lead department now ('' for none)")
    to: str
    count: int
    examples: list[MovedCase] = Field(description="up to five of the cases that would move")


class Simulation(View):
    """What a table would change over the newest stored cases, before it is published."""

    limit: int
    cases: int
    moved: int
    unchanged: int
    moves: list[Move]
    rules_hit: dict[str, int] = Field(description="cases per rule id; `(fallback)` for none")
