"""A rectification's recurrence: the cases registered after it was done that match its topic.

A case matches when its keywords (the same words 共性问题 forms topics from) hold the topic's
first word, the one that formed the topic, and, when the topic has more, at least one of the
others: one shared word alone is too loose (`登记` is everywhere), all of them too strict (a
topic's four words are what most of its cases say, not what each says). Both tests are array
operators the keywords' GIN index answers. A case the worker has not yet given keywords (its
first half-minute) is not counted until it has them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Case
from shared.timeutil import to_shanghai

MONTH = func.to_char(func.timezone("Asia/Shanghai", Case.created_at), "YYYY-MM")


def matching(topic: Sequence[str]) -> ColumnElement[bool]:
    first, others = topic[0], list(topic[1:])
    holds = Case.keywords.contains([first])
    return and_(holds, Case.keywords.overlap(others)) if others else holds


async def by_month(
    session: AsyncSession, topic: Sequence[str], since: datetime | None
) -> list[tuple[str, int]]:
    """(month, cases) registered after `since`, oldest month first; none before `since` is set
    (not done yet) or without a topic."""
    if since is None or not topic:
        return []
    stmt = (
        select(MONTH, func.count())
        .where(Case.created_at > since, matching(topic))
        .group_by(MONTH)
        .order_by(MONTH)
    )
    return [(str(m), int(n)) for m, n in (await session.execute(stmt)).tuples()]


async def in_month(
    session: AsyncSession, topic: Sequence[str], since: datetime | None, month: str
) -> int:
    """The recurrence registered in one Shanghai month (the monthly report)."""
    return dict(await by_month(session, topic, since)).get(month, 0)


def month_of(moment: datetime) -> str:
    return f"{to_shanghai(moment):%Y-%m}"
