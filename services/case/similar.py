"""Cases like this one, for a coordinator choosing what to merge (并单): open cases in the same
district and category whose keywords (共性问题's words) share at least two with this one's (one,
when it has only one), most shared first. Each is shown as the reader may see it: another hall's
applicant masked for a window (`presenter`), as in any list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import authz
from services import keywords as words_of
from services.authz import May
from services.case import access, repository
from services.case.lifecycle import OPEN
from services.privacy import applicant_of
from shared.enums import CaseStatus
from shared.models import Case
from shared.principal import Principal

CANDIDATES = 200
"""Open cases sharing a word, newest first, looked at: more than a coordinator reads."""


def _words(case: Case) -> list[str]:
    if case.keywords is not None:
        return list(case.keywords)
    return words_of.of_case(case.title, case.description, **applicant_of(case))


async def similar(
    session: AsyncSession, case_no: str, *, actor: Principal, limit: int
) -> list[Case]:
    authz.require(actor, May.find_similar)
    case = await repository.get_by_no(session, case_no)
    access.require_read(actor, case)
    words = _words(case)
    if not words:
        return []
    stmt = (
        select(Case)
        .where(
            Case.id != case.id,
            Case.status.in_([s.value for s in OPEN if s is not CaseStatus.merged]),
            Case.merged_into.is_(None),
            Case.keywords.overlap(words),
            Case.district.is_(None) if case.district is None else Case.district == case.district,
            Case.category.is_(None) if case.category is None else Case.category == case.category,
        )
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(CANDIDATES)
    )
    needed = min(2, len(words))
    mine = set(words)
    found = [
        (len(mine & set(c.keywords or [])), c)
        for c in (await session.scalars(stmt)).all()
        if access.can_read(actor, c)
    ]
    ranked = sorted((pair for pair in found if pair[0] >= needed), key=lambda p: (-p[0], -p[1].id))
    return [c for _, c in ranked[:limit]]
