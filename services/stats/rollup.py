"""What each figure counts, once, and the daily rollups that keep the counting cheap.

Every stats figure is a sum of the per-case measures below. The rollup tables hold those sums per
Shanghai day (and district, lead department or category); `combined()` reads the rollup for days
whose rollup is current and counts the cases themselves for days a change has marked dirty, in
one statement, so the answer is exact at any moment. `refresh()` (the worker, every few seconds)
folds dirty days back into the rollups.

Why this is exact with several writers and refreshers (READ COMMITTED): the refresh first deletes
the dirty-day rows it can see, then recounts those days with a later snapshot, so every change
whose mark it removed is in the new rollup; a change it could not see keeps its mark, and queries
count that day live until a later refresh. Refreshers take a transaction advisory lock, so one
folds at a time and a second simply skips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    Date,
    Select,
    all_,
    and_,
    any_,
    delete,
    distinct,
    func,
    insert,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.visitors import iterate

from services.case.lifecycle import OPEN
from shared.database import in_batches
from shared.enums import SATISFIED, UNSATISFIED, CaseStatus, RatingOutcome
from shared.models import Case
from shared.models import stats as rollups
from shared.models.case import LOCAL_DAY

REFRESH_LOCK = 0x5747_5354  # "GSTS": one refresher at a time, whatever the process


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


REPLIED = Case.replied_at.is_not(None)
TIMED = and_(REPLIED, Case.handle_due_at.is_not(None))
ON_TIME = and_(TIMED, Case.replied_at <= Case.handle_due_at)
FOLLOWED = Case.lead_department.is_not(None)

MEASURES: dict[str, ColumnElement[int]] = {
    "received": func.count(),
    # The window solved it at once: it carries a resolution note.
    "on_spot": _count(Case.resolution_note.is_not(None)),
    "out_of_scope": _count(Case.referred_to.is_not(None)),
    "in_progress": _count(Case.status.in_([s.value for s in OPEN])),
    "closed": _count(Case.status == CaseStatus.closed.value),
    "replied": _count(REPLIED),
    # Closed on time: of the cases replied with a handling deadline, replied by the deadline.
    "on_time": _count(ON_TIME),
    "timed": _count(TIMED),
    "good": _count(Case.satisfaction.in_(SATISFIED)),
    "rated": _count(Case.satisfaction.is_not(None)),
    # Asked to rate: answered by a department or settled at the window (every case that waits
    # for the applicant's feedback, by SMS or at the window, before it closes by itself).
    "asked": _count(or_(REPLIED, Case.resolution_note.is_not(None), Case.referred_to.is_not(None))),
    # Followed up: handed to a department; resolved once the department replied.
    "followed": _count(FOLLOWED),
    "followed_resolved": _count(and_(FOLLOWED, REPLIED)),
    "repeats": func.coalesce(func.sum(Case.repeat_count), 0),
    # 响应率: of the cases whose sign clock ended, those the lead signed by the deadline.
    "responded": _count(Case.responded.is_(True)),
    "response_due": _count(Case.responded.is_not(None)),
    # 解决率: of the applicants who said, those who said the matter was solved.
    "solved": _count(Case.resolved.is_(True)),
    "solve_asked": _count(Case.resolved.is_not(None)),
    # 并单: cases that follow a lead case (one matter, many callers).
    "merged": _count(Case.merged_into.is_not(None)),
    # 不满意甄别: unsatisfied ratings whose answer a coordinator upheld (set aside in the
    # adjusted 满意率, never in the raw one).
    "upheld": _count(
        and_(
            Case.satisfaction.in_(UNSATISFIED),
            Case.rating_outcome == RatingOutcome.upheld.value,
        )
    ),
}


Rollup = (
    rollups.StatsByDay
    | rollups.StatsByDepartment
    | rollups.StatsByDistrictDepartment
    | rollups.StatsByCategory
    | rollups.StatsByDistrictCategory
    | rollups.StatsByUnitCategory
    | rollups.StatsByStatus
)


@dataclass(frozen=True)
class Grain:
    """One rollup table and the case columns it is grouped by, beyond the day."""

    model: type[Rollup]
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Breakdown:
    """A figure's rollups: across all districts (far fewer rows, for the unfiltered
    dashboards) and per district (for a district filter), when it has one."""

    overall: Grain
    per_district: Grain | None = None
    per_unit: Grain | None = None
    """For a unit's figures when `overall` has no lead department: by district too, so one
    rollup serves a unit with or without a district's filter."""

    def grain(self, district: str | None, units: frozenset[str] | None = None) -> Grain:
        if units is not None and "lead_department" not in self.overall.keys:
            if self.per_unit is None:
                raise ValueError("this figure has no rollup by unit")
            return self.per_unit
        if not district:
            return self.overall
        if self.per_district is None:
            raise ValueError("this figure has no per-district rollup")
        return self.per_district


_DAY = Grain(rollups.StatsByDay, ("district",))
BY_DAY = Breakdown(_DAY, _DAY)  # a few rows a day either way
BY_DEPARTMENT = Breakdown(
    Grain(rollups.StatsByDepartment, ("lead_department",)),
    Grain(rollups.StatsByDistrictDepartment, ("district", "lead_department")),
)
BY_CATEGORY = Breakdown(
    Grain(rollups.StatsByCategory, ("category",)),
    Grain(rollups.StatsByDistrictCategory, ("district", "category")),
    Grain(rollups.StatsByUnitCategory, ("district", "lead_department", "category")),
)
BY_STATUS = Breakdown(Grain(rollups.StatsByStatus, ("status",)))  # the /metrics gauge
GRAINS = tuple(
    dict.fromkeys(
        grain
        for breakdown in (BY_DAY, BY_DEPARTMENT, BY_CATEGORY, BY_STATUS)
        for grain in (breakdown.overall, breakdown.per_district, breakdown.per_unit)
        if grain is not None
    )
)

KEY_COLUMNS = ("created_at", "district", "lead_department", "category", "status")


def counted_columns() -> set[str]:
    """The case columns a figure depends on: the cases trigger must watch each of them."""
    names = set(KEY_COLUMNS)
    for expression in MEASURES.values():
        names |= {
            element.name
            for element in iterate(expression)
            if isinstance(element, Column) and element.table is Case.__table__
        }
    return names


def counted(grain: Grain) -> Select[Any]:
    """The grain's sums counted straight from the cases."""
    keys = [getattr(Case, k) for k in grain.keys]
    return select(
        LOCAL_DAY.label("day"),
        *keys,
        *(expression.label(name) for name, expression in MEASURES.items()),
    ).group_by(LOCAL_DAY, *keys)


# The dirty days as one array, computed once per statement (an InitPlan). As `IN (SELECT ...)`
# the planner guessed 200 distinct days and counted the dirty days by a full scan of the cases
# joined to the log (300 ms over a million cases); against an array it probes the day index.
DIRTY_DAYS = literal_column("ARRAY(SELECT DISTINCT day FROM stats_dirty_days)", ARRAY(Date))


def combined(
    breakdown: Breakdown,
    date_from: date | None = None,
    date_to: date | None = None,
    district: str | None = None,
    units: frozenset[str] | None = None,
) -> Subquery:
    """Rows of (day, *keys, *measures) for the period: the rollup where current, counted from
    the cases where a change has marked the day dirty; `units`: only the cases those units
    lead (a grain by lead department only)."""
    grain = breakdown.grain(district, units)
    model = grain.model
    dirty = DIRTY_DAYS
    rolled = select(
        model.day,
        *(getattr(model, k) for k in grain.keys),
        *(getattr(model, name) for name in MEASURES),
    ).where(model.day != all_(dirty))
    day = LOCAL_DAY
    live = counted(grain).where(day == any_(dirty))
    if date_from:
        rolled, live = rolled.where(model.day >= date_from), live.where(day >= date_from)
    if date_to:
        rolled, live = rolled.where(model.day <= date_to), live.where(day <= date_to)
    if district:
        rolled = rolled.where(model.district == district)  # type: ignore[union-attr]
        live = live.where(Case.district == district)
    if units is not None:
        led = sorted(units)
        rolled = rolled.where(model.lead_department.in_(led))  # type: ignore[union-attr]
        live = live.where(Case.lead_department.in_(led))
    return union_all(rolled, live).subquery("figures")


def totals(figures: Subquery) -> list[ColumnElement[Any]]:
    """Each measure summed over the rows of `combined()`, labelled by its name."""
    return [func.coalesce(func.sum(figures.c[name]), 0).label(name) for name in MEASURES]


FOLD_DAYS = 31
"""Days folded per transaction, newest first: after a migration or a bulk load the fold goes a
month at a time, each transaction short, and the days dashboards read most are done first."""


async def refresh(session: AsyncSession, *, limit: int = FOLD_DAYS) -> list[date]:
    """Fold up to `limit` dirty days into the rollups; returns the days rebuilt (none if
    another process is folding right now). The caller commits; `refresh_all` loops."""
    locked = await session.scalar(select(func.pg_try_advisory_xact_lock(REFRESH_LOCK)))
    if not locked:
        return []
    newest = (
        select(rollups.StatsDirtyDay.day)
        .distinct()
        .order_by(rollups.StatsDirtyDay.day.desc())
        .limit(limit)
    )
    gone = (
        delete(rollups.StatsDirtyDay)
        .where(rollups.StatsDirtyDay.day.in_(newest.scalar_subquery()))
        .returning(rollups.StatsDirtyDay.day)
        .cte("gone")
    )
    days = sorted((await session.execute(select(distinct(gone.c.day)).select_from(gone))).scalars())
    if not days:
        return []
    for grain in GRAINS:
        model = grain.model
        await session.execute(delete(model).where(model.day.in_(days)))
        columns = ["day", *grain.keys, *MEASURES]
        await session.execute(
            insert(model).from_select(columns, counted(grain).where(LOCAL_DAY.in_(days)))
        )
    return days


async def refresh_all(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Fold every dirty day, `FOLD_DAYS` a transaction; returns how many days were folded."""

    async def fold(session: AsyncSession) -> int:
        return len(await refresh(session))

    return await in_batches(sessionmaker, fold, full=FOLD_DAYS)
