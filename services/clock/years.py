"""Operators' calendar years in the database, and the calendar every process computes with.

A process keeps its WorkCalendar until the table changes: each use reads only the newest
`updated_at` (one indexed row), so a year loaded through one API process is seen by all.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock.calendar import WorkCalendar, YearSchedule, library_years
from services.clock.responses import DayOut, Schedule, YearOut
from shared import audit
from shared.models import CalendarYear
from shared.principal import Principal
from shared.recent import Recent

_cache: tuple[tuple[int, datetime | None], WorkCalendar] | None = None
_checked: Recent[WorkCalendar] = Recent()


class YearIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"holidays": ["2027-10-01", "2027-10-04"], "workdays": ["2027-09-26"]}]
        },
        extra="forbid",
    )
    holidays: Annotated[list[date], Field(max_length=366)] = Field(default_factory=list)
    workdays: Annotated[list[date], Field(max_length=366)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> YearIn:
        both = set(self.holidays) & set(self.workdays)
        if both:
            raise ValueError(f"a day cannot be both a holiday and a working day: {sorted(both)[0]}")
        return self

    def check_year(self, year: int) -> list[tuple[str, str]]:
        problems = []
        for name in ("holidays", "workdays"):
            for i, day in enumerate(getattr(self, name)):
                if day.year != year:
                    problems.append((f"{name}[{i}]", f"{day} is not in {year}"))
        return problems


async def load(session: AsyncSession, *, max_age: float = 0) -> WorkCalendar:
    """`max_age` > 0 (routing's hot path, CONFIG_CACHE_SECONDS): trust the calendar checked that
    recently without reading the stamp again."""
    global _cache
    recent = _checked.get(max_age)
    if recent is not None:
        return recent
    stamp = (
        await session.execute(
            select(func.count(), func.max(CalendarYear.updated_at)).select_from(CalendarYear)
        )
    ).one()
    key = (int(stamp[0]), stamp[1])
    if _cache is None or _cache[0] != key:
        rows = (await session.execute(select(CalendarYear))).scalars()
        calendar = WorkCalendar(
            schedules={
                r.year: YearSchedule(frozenset(r.holidays), frozenset(r.workdays)) for r in rows
            }
        )
        _cache = (key, calendar)
    return _checked.put(_cache[1])


async def save_year(session: AsyncSession, year: int, data: YearIn, *, actor: Principal) -> None:
    _checked.forget()
    values = {"holidays": sorted(set(data.holidays)), "workdays": sorted(set(data.workdays))}
    await session.execute(
        insert(CalendarYear)
        .values(year=year, updated_by_key_id=actor.key_id, **values)
        .on_conflict_do_update(
            index_elements=["year"],
            set_={
                **values,
                "updated_at": func.clock_timestamp(),
                "updated_by_key_id": actor.key_id,
            },
        )
    )
    audit.changed(
        f"calendar {year}: {len(values['holidays'])} holidays, "
        f"{len(values['workdays'])} make-up working days"
    )


def _holiday_name(day: date) -> str | None:
    try:
        _, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return str(name) if name else None


async def year_out(session: AsyncSession, year: int) -> YearOut:
    """The year as deadlines see it: every weekday off and every weekend day on, each with where
    it comes from (the library, or an operator's schedule), and the operator's own entries."""
    row = await session.get(CalendarYear, year)
    calendar = await load(session)
    known = calendar.knows(year)
    in_library = year in library_years()
    operator = set(row.holidays if row else []) | set(row.workdays if row else [])
    off, on = calendar.exceptions_of(year) if known else ([], [])

    def detail(day: date, kind: str) -> DayOut:
        return DayOut(
            date=day.isoformat(),
            kind=kind,
            name=_holiday_name(day) if in_library else None,
            source="operator" if day in operator or not in_library else "chinese-calendar",
        )

    sources = [name for name, used in (("chinese-calendar", in_library), ("operator", row)) if used]
    return YearOut(
        year=year,
        known=known,
        source="+".join(sources) if known else None,
        library_years=[library_years().start, library_years().stop - 1],
        holidays=[d.isoformat() for d in off],
        workdays=[d.isoformat() for d in on],
        days=sorted(
            [detail(d, "holiday") for d in off] + [detail(d, "workday") for d in on],
            key=lambda d: d.date,
        ),
        operator_schedule=Schedule(
            holidays=[d.isoformat() for d in (row.holidays if row else [])],
            workdays=[d.isoformat() for d in (row.workdays if row else [])],
        ),
        working_days=len(calendar.workdays_of(year)) if known else 0,
    )
