"""层级: the tree of departments and service halls through `parent`, city → district → street.

A coordinator's or supervisor's key bound to a unit reads and acts on the cases of that unit's
subtree; the subtree is read when the key is (and kept with it for KEY_CACHE_SECONDS), a few
dozen codes for a district, so every check on a case is a set look-up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Department


async def subtree(session: AsyncSession, code: str) -> frozenset[str]:
    """`code` and every department and hall below it."""
    top = select(Department.code).where(Department.code == code).cte("tree", recursive=True)
    below = select(Department.code).join(top, Department.parent_code == top.c.code)
    tree = top.union(below)
    rows = await session.execute(select(tree.c.code))
    return frozenset(rows.scalars())
