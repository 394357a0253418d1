"""Queries on departments."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Department


async def get(session: AsyncSession, code: str) -> Department | None:
    return await session.get(Department, code)


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
