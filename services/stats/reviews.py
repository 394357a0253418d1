"""答复审核 in figures: replies submitted for review and how many were approved, sent back or
still wait, per department (sent-back replies count against the department that wrote them).
Counted from `reply_reviews` through its time index: replies under review are few. And 不满意甄别:
the period's cases by what became of their latest unsatisfied rating, per lead department."""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.department import repository as departments
from services.stats.responses import (
    DepartmentRatingReviews,
    DepartmentReviews,
    RatingReviewCounts,
    ReviewCounts,
    ReviewFigures,
)
from services.stats.service import Period
from shared.enums import RatingOutcome, ReviewOutcome
from shared.models import Case, ReplyReviewRecord


def _of(outcome: ReviewOutcome) -> ColumnElement[int]:
    return func.count(case((ReplyReviewRecord.outcome == outcome.value, 1)))


async def figures(session: AsyncSession, period: Period) -> ReviewFigures:
    stmt = (
        select(
            ReplyReviewRecord.department,
            func.count(),
            _of(ReviewOutcome.approved),
            _of(ReviewOutcome.sent_back),
            _of(ReviewOutcome.pending),
        )
        .join(Case, Case.id == ReplyReviewRecord.case_id)
        .group_by(ReplyReviewRecord.department)
        .order_by(ReplyReviewRecord.department)
    )
    stmt = stmt.where(*period.during(ReplyReviewRecord.submitted_at))
    if period.district:
        stmt = stmt.where(Case.district == period.district)
    if period.units is not None:
        stmt = stmt.where(ReplyReviewRecord.department.in_(sorted(period.units)))
    rows = list((await session.execute(stmt)).tuples())
    names = await departments.names(session, (r[0] for r in rows))
    listed = [
        DepartmentReviews(
            department=code,
            name=names.get(code),
            submitted=n,
            approved=approved,
            sent_back=back,
            pending=pending,
        )
        for code, n, approved, back, pending in rows
    ]
    ratings = await _ratings(session, period)
    return ReviewFigures(
        ratings=RatingReviewCounts(
            **{o.value: sum(getattr(d, o.value) for d in ratings) for o in _OUTCOMES}
        ),
        rating_departments=ratings,
        replies=ReviewCounts(
            submitted=sum(d.submitted for d in listed),
            approved=sum(d.approved for d in listed),
            sent_back=sum(d.sent_back for d in listed),
            pending=sum(d.pending for d in listed),
        ),
        departments=listed,
    )


_OUTCOMES = (
    RatingOutcome.pending,
    RatingOutcome.reopened,
    RatingOutcome.upheld,
    RatingOutcome.lapsed,
)


async def _ratings(session: AsyncSession, period: Period) -> list[DepartmentRatingReviews]:
    """From the cases (their `rating_outcome`), registered in the period, where they are led."""
    stmt = period.where(
        select(
            Case.lead_department,
            *(func.count().filter(Case.rating_outcome == o.value) for o in _OUTCOMES),
        )
        .where(Case.rating_outcome.is_not(None), Case.lead_department.is_not(None))
        .group_by(Case.lead_department)
        .order_by(Case.lead_department)
    )
    rows = list((await session.execute(stmt)).tuples())
    names = await departments.names(session, (str(r[0]) for r in rows))
    return [
        DepartmentRatingReviews(
            department=str(code),
            name=names.get(str(code)),
            **{o.value: int(n) for o, n in zip(_OUTCOMES, counts, strict=True)},
        )
        for code, *counts in rows
    ]
