"""值班: a unit's roster, replaced a day at a time, and who is on duty for a unit at an instant,
walking up the tree (层级) when the unit itself has nobody on duty: a street's case at night
reaches the district's duty leader, and the city's when the district has nobody."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import authz
from services.authz import May
from services.department import repository as departments
from services.department.service import SEES_PHONES
from services.duty.responses import OnDuty, RosterDay, RosterSaved, ShiftOut
from services.duty.schemas import Roster
from services.privacy import mask_phone
from shared import audit
from shared.errors import forbidden, not_found
from shared.models import Department, DutyShift
from shared.principal import Principal
from shared.timeutil import SHANGHAI, shanghai_iso


async def _unit(session: AsyncSession, code: str) -> Department:
    unit = await departments.get(session, code)
    if unit is None or not unit.active:
        raise not_found(f"unit {code}")
    return unit


def _require_keeper(actor: Principal, unit: str) -> None:
    """An admin keeps any unit's roster; a coordinator its own unit's (any, when unbound)."""
    authz.require(actor, May.keep_duty_roster)
    if actor.units is not None and unit not in actor.units:
        raise forbidden(f"unit {unit} is outside this key's unit")


async def save(
    session: AsyncSession, code: str, roster: Roster, *, actor: Principal
) -> RosterSaved:
    _require_keeper(actor, code)
    await _unit(session, code)
    days = sorted({s.date for s in roster.shifts})
    await session.execute(delete(DutyShift).where(DutyShift.unit == code, DutyShift.day.in_(days)))
    for shift in roster.shifts:
        starts = datetime.combine(shift.date, shift.starts, SHANGHAI)
        ends = datetime.combine(shift.date, shift.ends, SHANGHAI)
        if ends <= starts:
            ends += timedelta(days=1)  # a night shift ends the next morning
        session.add(
            DutyShift(
                unit=code,
                day=shift.date,
                starts_at=starts,
                ends_at=ends,
                name=shift.name,
                duty=shift.duty.value,
                phone=shift.phone,
            )
        )
    await session.flush()
    shown = ", ".join(d.isoformat() for d in days)
    audit.changed(f"duty roster of {code}: {len(roster.shifts)} shifts on {shown}")
    return RosterSaved(unit=code, dates=[d.isoformat() for d in days], shifts=len(roster.shifts))


def shift_out(shift: DutyShift, viewer: Principal) -> ShiftOut:
    return ShiftOut(
        date=shift.day.isoformat(),
        starts_at=shanghai_iso(shift.starts_at) or "",
        ends_at=shanghai_iso(shift.ends_at) or "",
        name=shift.name,
        duty=shift.duty,
        phone=shift.phone if viewer.role in SEES_PHONES else mask_phone(shift.phone) or "",
    )


async def day(session: AsyncSession, code: str, on: date, *, actor: Principal) -> RosterDay:
    authz.require(actor, May.read_duty_roster)
    await _unit(session, code)
    rows = await session.execute(
        select(DutyShift)
        .where(DutyShift.unit == code, DutyShift.day == on)
        .order_by(DutyShift.starts_at, DutyShift.id)
    )
    shifts = [shift_out(s, actor) for s in rows.scalars()]
    return RosterDay(unit=code, date=on.isoformat(), shifts=shifts)


async def on_duty(
    session: AsyncSession, code: str, now: datetime
) -> tuple[str | None, list[DutyShift]]:
    """Who is on duty at `now` for `code`, or for the nearest unit above it with anyone."""
    unit: Department | None = await _unit(session, code)
    seen: set[str] = set()
    while unit is not None and unit.code not in seen:
        seen.add(unit.code)
        rows = await session.execute(
            select(DutyShift)
            .where(
                DutyShift.unit == unit.code,
                DutyShift.starts_at <= now,
                DutyShift.ends_at > now,
            )
            .order_by(DutyShift.duty, DutyShift.starts_at, DutyShift.id)
        )
        found = list(rows.scalars())
        if found:
            return unit.code, found
        unit = await departments.get(session, unit.parent_code) if unit.parent_code else None
    return None, []


async def now_for(session: AsyncSession, code: str, now: datetime, *, actor: Principal) -> OnDuty:
    authz.require(actor, May.read_duty_roster)
    answering, shifts = await on_duty(session, code, now)
    return OnDuty(
        unit=code,
        answering=answering,
        at=shanghai_iso(now) or "",
        shifts=[shift_out(s, actor) for s in shifts],
    )


async def staff_phone(session: AsyncSession, payload: Mapping[str, Any]) -> str | None:
    """The number a staff text goes to, read at delivery: a department's notice mobile or a
    shift's phone (a shift replaced since has none: that text is not sent)."""
    if "shift" in payload:
        shift = await session.get(DutyShift, int(payload["shift"]))
        return shift.phone if shift else None
    unit = await departments.get(session, str(payload.get("department", "")))
    return unit.notice_mobile if unit else None
