"""The duty roster as its calls answer it."""

from __future__ import annotations

from pydantic import Field

from shared.view import View


class ShiftOut(View):
    date: str = Field(examples=["2026-12-07"], description="the Shanghai day it starts on")
    starts_at: str = Field(examples=["2026-12-07T08:30:00+08:00"])
    ends_at: str = Field(examples=["2026-12-07T17:30:00+08:00"])
    name: str
    duty: str = Field(examples=["leader", "chief", "patrol"])
    phone: str = Field(
        description="in full for admins and coordinators; masked (138****8000) for others"
    )


class RosterDay(View):
    unit: str
    date: str
    shifts: list[ShiftOut]


class RosterSaved(View):
    unit: str
    dates: list[str] = Field(description="the days whose shifts were replaced")
    shifts: int


class OnDuty(View):
    """Who is on duty now for `unit`: its own people, or, when it has nobody on duty, those of
    the nearest unit above it that has (`answering`); nobody anywhere: an empty list."""

    unit: str
    answering: str | None = Field(description="the unit whose shifts these are")
    at: str
    shifts: list[ShiftOut]


class HandoverEscalation(View):
    case_no: str
    status: str
    level: str = Field(examples=["district"])
    reason: str = Field(examples=["reopened"])
    unit: str | None
    at: str | None
    order_no: str | None


class HandoverOrder(View):
    order_no: str
    case_no: str
    department: str
    level: str
    due_at: str | None
    overdue_at: str | None


class HandoverCase(View):
    case_no: str
    status: str
    category: str | None
    lead_department: str | None
    created_at: str | None


class Handover(View):
    """交接班: what a unit's shift of one day leaves open for the next: the cases raised in it,
    the orders that fell overdue in it (still unanswered) and the urgent cases registered in it,
    of the unit's subtree, still open. No applicant: case numbers and where they stand."""

    unit: str
    date: str
    starts_at: str | None = Field(description="the day's first shift start (none: 00:00)")
    ends_at: str | None = Field(description="the day's last shift end (none: the next 00:00)")
    escalations: list[HandoverEscalation]
    overdue_orders: list[HandoverOrder]
    urgent: list[HandoverCase]
