"""A year of the working-day calendar, as its calls answer it."""

from __future__ import annotations

from pydantic import Field

from shared.view import View


class DayOut(View):
    date: str = Field(examples=["2026-10-01"])
    kind: str = Field(
        examples=["holiday", "workday"], description="off on a weekday, or on at a weekend"
    )
    name: str | None = Field(examples=["National Day"], description="the holiday's name")
    source: str = Field(examples=["chinese-calendar", "operator"])


class Schedule(View):
    holidays: list[str]
    workdays: list[str]


class YearOut(View):
    """A year as deadlines count it: every weekday off, every weekend day on, and whence."""

    year: int = Field(examples=[2027])
    known: bool = Field(description="false: deadlines falling in this year are refused (load it)")
    source: str | None = Field(examples=["chinese-calendar+operator"])
    library_years: list[int] = Field(description="first and last year the library ships")
    holidays: list[str]
    workdays: list[str]
    days: list[DayOut]
    operator_schedule: Schedule
    working_days: int


class YearSaved(YearOut):
    cases_recomputed: int = Field(description="open cases whose deadlines the change moved")
