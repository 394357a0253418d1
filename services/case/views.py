"""The shapes `presenter.py` gives a case, as models: what the OpenAPI documents promise and a
generated client types. The presenter writes the dicts; these describe them (and a response
that drifted from its model fails the contract's tests, not a caller)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class View(BaseModel):
    # A member added to a view before its model learns of it is kept, not silently dropped.
    model_config = ConfigDict(extra="allow")


class ApplicantOut(View):
    name: str | None = Field(description="masked (黄*华) unless the caller's role needs it")
    phone: str | None = Field(description="masked (138****8001) unless the role needs it")
    id_number: str | None
    type: str = Field(examples=["individual", "enterprise"])
    org_name: str | None


class Deadlines(View):
    sign_due_at: str | None
    handle_due_at: str | None


class Resolution(View):
    note: str | None
    referred_to: str | None
    explanation: str | None


class FeedbackOut(View):
    satisfaction: str | None
    comment: str | None


class Actor(View):
    role: str
    department: str | None


class EventOut(View):
    id: int
    at: str | None
    action: str = Field(examples=["register", "route", "sign", "yellow_card"])
    from_status: str | None
    to_status: str
    actor: Actor
    reason: str | None
    data: dict[str, Any]


class CaseOut(View):
    """A case as staff see it (the applicant masked by role); `history` when one case is read."""

    case_no: str = Field(examples=["GZ-20261123-000001"])
    tracking_code: str
    status: str = Field(examples=["assigned"])
    status_label: str = Field(examples=["已派单"])
    allowed_actions: list[str]
    held_until: str | None
    channel: str
    title: str | None
    description: str
    category: str | None
    trigger: str | None
    kind: str | None
    matter_code: str | None
    district: str | None
    urgent: bool
    vulnerable: bool
    intake_department: str | None
    first_responsible_department: str | None
    lead_department: str | None
    co_departments: list[str]
    routing: dict[str, Any] | None = Field(
        description="how it came to its department: rule, SLA and card policies"
    )
    deadlines: Deadlines
    tracking_card: dict[str, Any]
    applicant: ApplicantOut
    attachments: list[str]
    location: dict[str, Any] | None
    resolution: Resolution
    feedback: FeedbackOut
    reopen_count: int
    return_count: int
    repeat_count: int
    assignment_final: bool
    reply: str | None
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    history: list[EventOut] | None = None
    repeat: bool | None = Field(
        default=None, description="on registration: true when linked to an open case (重复件)"
    )


class LinkedOut(View):
    """A repeat recorded on a case the caller may not read: that it was, and how it stands."""

    case_no: str
    status: str
    status_label: str
    repeat: bool
    visible: bool
