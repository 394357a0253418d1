"""层级: the tree of departments and service halls through `parent`, city → district → street.

A coordinator's or supervisor's key bound to a unit reads and acts on the cases of that unit's
subtree; the subtree is read when the key is (and kept with it for KEY_CACHE_SECONDS), a few
dozen codes for a district, so every check on a case is a set look-up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import forbidden, not_found
from shared.models import Department
from shared.principal import Principal


async def subtree(session: AsyncSession, code: str) -> frozenset[str]:
    """`code` and every department and hall below it."""
    top = select(Department.code).where(Department.code == code).cte("tree", recursive=True)
    below = select(Department.code).join(top, Department.parent_code == top.c.code)
    tree = top.union(below)
    rows = await session.execute(select(tree.c.code))
    return frozenset(rows.scalars())


async def ancestors(session: AsyncSession, code: str) -> list[Department]:
    """`code` and the units above it, nearest first (a cycle in bad data ends the walk)."""
    chain: list[Department] = []
    unit = await session.get(Department, code)
    while unit is not None and all(unit.code != seen.code for seen in chain):
        chain.append(unit)
        unit = await session.get(Department, unit.parent_code) if unit.parent_code else None
    return chain


async def scope(
    session: AsyncSession, reader: Principal, unit: str | None
) -> frozenset[str] | None:
    """Whose cases, orders or figures `reader` asks for: `unit`'s subtree, within the reader's
    own unit when its key is bound to one (403 outside it); a bound key without `unit` its own
    unit's; an unbound one without `unit` the city's (None)."""
    if unit is None:
        return reader.units
    if reader.units is not None and unit not in reader.units:
        raise forbidden(f"unit {unit} is outside this key's unit")
    if await session.get(Department, unit) is None:
        raise not_found(f"unit {unit}")
    return await subtree(session, unit)
