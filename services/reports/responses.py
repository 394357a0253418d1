"""The monthly report as a model (see `shared.view`); the workbook shows the same figures."""

from __future__ import annotations

from pydantic import Field

from services.rectification.responses import RectificationFigures
from services.sla.responses import CardOut
from services.stats.responses import (
    CategoryFigures,
    ConductLead,
    DepartmentFigures,
    Summary,
    SupervisionFigures,
    Topic,
)
from shared.view import View


class ReportCard(CardOut):
    department_name: str | None = Field(examples=["广州市不动产登记中心"])


class CardCounts(View):
    yellow: int
    red: int
    appealed: int
    upheld: int
    revoked: int


class MonthlyReport(View):
    """月度报告: the month's figures as of `generated_at` (they move while the month is open)."""

    month: str = Field(examples=["2026-11"])
    generated_at: str | None
    summary: Summary
    departments: list[DepartmentFigures]
    categories: list[CategoryFigures]
    common_issues: list[Topic]
    cards: CardCounts
    card_list: list[ReportCard] = Field(description="every card issued in the month")
    appeals: list[ReportCard] = Field(description="the cards appealed, with their rulings")
    supervision: SupervisionFigures | None = Field(
        default=None, description="督办与提级: the month's orders and escalations"
    )
    leads: list[ConductLead] | None = Field(
        default=None, description="问题线索: the month's 能办不办 (`kind: refused`) cases, masked"
    )
    rectifications: RectificationFigures | None = Field(
        default=None, description="整改: the month's rectifications and their recurrence"
    )
