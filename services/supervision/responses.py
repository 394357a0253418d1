"""督办单 and 催办 as their calls answer them."""

from __future__ import annotations

from pydantic import Field

from services.case.responses import SupervisionOut
from shared.view import ShownTime, View

__all__ = ["Reminded", "SupervisionOut"]


class Reminded(View):
    """催办: the department was reminded; no deadline moves."""

    case_no: str
    department: str
    remind_count: int = Field(description="reminders on this case so far")
    reminded_at: ShownTime
