"""重复件: the same person with the same matter while it is still open is one case, not two.

Candidates are the caller's open cases within the window (an index on phone and time); the
texts are compared after the routing engine's normalisation with difflib's ratio.
"""

from __future__ import annotations

import difflib
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.case.lifecycle import FINISHED
from services.rules.engine import normalise
from shared.models import Case

_CANDIDATES = (
    select(Case)
    .where(
        Case.applicant_phone == bindparam("phone"),
        Case.created_at >= bindparam("since"),
        Case.status.not_in([s.value for s in FINISHED]),
    )
    .order_by(Case.created_at.desc())
    .limit(50)
    .with_for_update()
)
"""Built once: this runs on every registration (issue 32)."""


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalise(a), normalise(b)).ratio()


async def find_open_repeat(
    session: AsyncSession,
    *,
    phone: str,
    text: str,
    now: datetime,
    window: timedelta,
    threshold: float,
) -> Case | None:
    """The caller's most alike open case within the window, locked, if alike enough."""
    found = await session.execute(_CANDIDATES, {"phone": phone, "since": now - window})
    candidates = found.scalars().all()
    scored = [(similarity(text, f"{c.title or ''}{c.description}"), c) for c in candidates]
    best = max(scored, key=lambda pair: pair[0], default=None)
    return best[1] if best is not None and best[0] >= threshold else None
