"""The audit trail's rows, as the auditor reads them."""

from __future__ import annotations

from pydantic import Field

from shared.view import View


class AuditEntryOut(View):
    """One disclosure: who (key and role), when, which cases and fields, how, from where."""

    id: int
    at: str | None
    key_id: str | None
    role: str = Field(examples=["window"])
    operation: str = Field(examples=["GET /api/v1/cases/{case_no}"])
    case_nos: list[str]
    fields: list[str] = Field(examples=[["name", "phone", "id_number"]])
    address: str | None
    reason: str | None = Field(description="a supervisor's stated reason for unmasking")
    subject: str | None = Field(
        default=None,
        description="what a change changed: a key and its holder, a department, a rule table "
        "version, a year's calendar, a notice template",
        examples=["key 3f0c…: issued, role supervisor, held by 王主任 (督查室)"],
    )
