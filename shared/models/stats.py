"""Daily rollups behind the stats API, and the log of days whose rollup is stale.

A trigger on `cases` (migration 0007) appends the case's Shanghai day to `stats_dirty_days`
whenever a counted column changes; the worker folds those days into the rollups. Queries read
the rollup for clean days and count the cases themselves for dirty ones, so a figure is exact
the moment a case changes and costs a few thousand rows, not a million, to compute.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class StatsDirtyDay(Base):
    """Append-only, one row per counted change: inserts never wait on each other."""

    __tablename__ = "stats_dirty_days"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)


class _Measures:
    """The counted columns; `services.stats.rollup.MEASURES` says what each one counts."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    received: Mapped[int] = mapped_column(Integer)
    on_spot: Mapped[int] = mapped_column(Integer)
    out_of_scope: Mapped[int] = mapped_column(Integer)
    in_progress: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    replied: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    timed: Mapped[int] = mapped_column(Integer)
    good: Mapped[int] = mapped_column(Integer)
    rated: Mapped[int] = mapped_column(Integer)
    asked: Mapped[int] = mapped_column(Integer, server_default="0")
    """Added by migration 0005: the default lets the previous release's fold insert."""
    followed: Mapped[int] = mapped_column(Integer)
    followed_resolved: Mapped[int] = mapped_column(Integer)
    repeats: Mapped[int] = mapped_column(Integer)
    # Added by migration 0019 (the three rates and 不满意甄别), with defaults for the same reason.
    responded: Mapped[int] = mapped_column(Integer, server_default="0")
    response_due: Mapped[int] = mapped_column(Integer, server_default="0")
    solved: Mapped[int] = mapped_column(Integer, server_default="0")
    solve_asked: Mapped[int] = mapped_column(Integer, server_default="0")
    upheld: Mapped[int] = mapped_column(Integer, server_default="0")
    merged: Mapped[int] = mapped_column(Integer, server_default="0")
    """Added by migration 0022 (并单): cases that follow another; matters = received - merged."""


# Department and category tables come twice: across all districts (a tenth of the rows, for the
# unfiltered dashboards) and per district (for a district's filter).


class StatsByDay(_Measures, Base):
    """Per day and district: the summary and the daily trend."""

    __tablename__ = "stats_by_day"

    district: Mapped[str | None] = mapped_column(String(64))


class StatsByDepartment(_Measures, Base):
    """Per day and lead department, all districts together: the department table."""

    __tablename__ = "stats_by_department"

    lead_department: Mapped[str | None] = mapped_column(String(32))


class StatsByDistrictDepartment(_Measures, Base):
    """Per day, district and lead department: the department table for one district."""

    __tablename__ = "stats_by_district_department"

    district: Mapped[str | None] = mapped_column(String(64))
    lead_department: Mapped[str | None] = mapped_column(String(32))


class StatsByCategory(_Measures, Base):
    """Per day and category, all districts together: top categories."""

    __tablename__ = "stats_by_category"

    category: Mapped[str | None] = mapped_column(String(32))


class StatsByDistrictCategory(_Measures, Base):
    """Per day, district and category: top categories for one district."""

    __tablename__ = "stats_by_district_category"

    district: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(32))


class StatsByUnitCategory(_Measures, Base):
    """Per day, district, lead department and category: top categories for a unit (层级), whose
    cases are those its subtree leads, in one district or all."""

    __tablename__ = "stats_by_unit_category"

    district: Mapped[str | None] = mapped_column(String(64))
    lead_department: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))


class StatsByStatus(_Measures, Base):
    """Per day and current status: the cases-by-status gauge without counting a million rows."""

    __tablename__ = "stats_by_status"

    status: Mapped[str] = mapped_column(String(32))
