"""What the 整改 calls answer."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.view import ShownTime, View


class RectificationCaseOut(View):
    """A case the rectification was opened from: figures, not people (the title as the
    common-issues examples show it, the applicant erased)."""

    case_no: str = Field(examples=["GZ-20261118-000001"])
    status: str
    lead_department: str | None
    title: str | None
    registered_at: ShownTime


class RecurrenceMonth(View):
    month: str = Field(examples=["2026-12"], description="Shanghai month of registration")
    cases: int


class RectificationEventOut(View):
    action: str = Field(
        examples=["opened"],
        description="opened, started, done, verified, reopened, overdue",
    )
    at: ShownTime
    actor_role: str
    reason: str | None
    data: dict[str, Any] = Field(default_factory=dict)


class RectificationOut(View):
    id: int
    title: str = Field(examples=["历史违章注记导致不动产转移登记办不成"])
    problem: str
    department: str = Field(examples=["GZ-GHZY"], description="the owner, who makes the fix")
    department_name: str | None = None
    issuing_unit: str | None = Field(description="the supervisor's unit; none: the city's")
    topic: list[str] = Field(examples=[["违章", "注记", "转移登记"]])
    status: str = Field(examples=["in_progress"], description="open, in_progress, done, verified")
    due_days: int = Field(description="working days it was given")
    due_at: ShownTime
    due_estimated: bool = Field(
        default=False,
        description="part of the working days fell in a year whose calendar was not loaded "
        "and were counted Monday to Friday (load the year's calendar; the due time stays)",
    )
    overdue_at: ShownTime | None = Field(
        default=None, description="when the sweep found it late and not done (once)"
    )
    card_id: int | None = Field(default=None, description="the card its lateness gave the owner")
    change: str | None = Field(
        default=None, description="what was changed: policy, process, system, rule, training"
    )
    change_note: str | None = None
    document_ref: str | None = None
    created_at: ShownTime
    started_at: ShownTime | None = None
    done_at: ShownTime | None = None
    verified_at: ShownTime | None = None
    reopen_count: int = 0
    case_count: int = Field(description="the cases it was opened from")
    recurred: int | None = Field(
        default=None,
        description="cases registered after `done` matching its topic (none before done)",
    )
    recurrence: list[RecurrenceMonth] = Field(
        default_factory=list, description="the recurrence per Shanghai month"
    )
    cases: list[RectificationCaseOut] | None = Field(
        default=None, description="read alone: the cases it was opened from"
    )
    history: list[RectificationEventOut] | None = Field(
        default=None, description="read alone: its steps, oldest first"
    )


class RectificationMonthRow(View):
    id: int
    title: str
    department: str
    department_name: str | None
    status: str
    due_at: ShownTime
    done_at: ShownTime | None = None
    verified_at: ShownTime | None = None
    overdue_at: ShownTime | None = None
    recurred: int = Field(description="cases registered this month matching its topic, after done")


class RectificationFigures(View):
    """整改 in a month: opened, done, verified and found overdue in it, and the recurrence its
    cases show; `items` every rectification open at some point in the month."""

    opened: int
    done: int
    verified: int
    overdue: int
    recurred: int
    items: list[RectificationMonthRow]
