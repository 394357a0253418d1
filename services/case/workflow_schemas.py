"""Bodies of the department and coordinator actions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool

from services.case.schemas import DepartmentCode, Strict, Text
from shared.durations import DurationField

Reason = Annotated[Text, Field(max_length=2000)]


class Sign(Strict):
    note: Reason | None = None


class Return(Strict):
    reason: Reason


class Transfer(Strict):
    to_department: DepartmentCode
    reason: Reason


class Suspend(Strict):
    reason: Reason
    required_materials: Annotated[
        list[Annotated[Text, Field(max_length=200)]], Field(max_length=50)
    ] = Field(default_factory=list)


class Resume(Strict):
    note: Reason | None = None


class Reply(Strict):
    reply: Annotated[Text, Field(max_length=5000)]


class Assign(Strict):
    department: DepartmentCode
    co_departments: Annotated[list[DepartmentCode], Field(max_length=20)] = Field(
        default_factory=list
    )
    sla_policy: Annotated[str, Field(max_length=32)] | None = None
    reason: Reason


class ExtensionRequest(Strict):
    extend_by: DurationField
    reason: Reason


class ExtensionDecision(Strict):
    approve: StrictBool
    note: Reason | None = None
