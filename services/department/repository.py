"""Queries on departments."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import pagination
from shared.models import Department


async def get(session: AsyncSession, code: str) -> Department | None:
    return await session.get(Department, code)


async def page_departments(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> tuple[list[Department], str | None]:
    """By code, `limit` at a time: a province has thousands of offices."""
    stmt = select(Department).order_by(Department.code).limit(limit + 1)
    if cursor:
        (after,) = pagination.decode_cursor(cursor, str)
        stmt = stmt.where(Department.code > after)
    rows = (await session.execute(stmt)).scalars().all()
    return pagination.page(rows, limit, lambda d: (d.code,))


async def all_departments(session: AsyncSession) -> list[Department]:
    return list((await session.execute(select(Department).order_by(Department.code))).scalars())


async def names(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    wanted = [c for c in set(codes) if c]
    if not wanted:
        return {}
    rows = await session.execute(
        select(Department.code, Department.name).where(Department.code.in_(wanted))
    )
    return {code: name for code, name in rows.tuples()}
