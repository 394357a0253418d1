"""The carrier's word on whether a sent notice reached the phone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import metrics
from shared.models import Notice


async def record(
    session: AsyncSession,
    provider_ref: str,
    *,
    delivered: bool,
    code: str | None,
    at: datetime,
) -> bool:
    """Marks the notice the provider's reference names; False when no notice has it (a receipt
    for a message some other system sent through the same account). A later receipt for the
    same message wins: carriers report a retry's outcome after the first failure's."""
    stmt = (
        update(Notice)
        .where(Notice.provider_ref == provider_ref)
        .values(delivered=delivered, delivery_code=(code or None), reported_at=at)
        .returning(Notice.channel)
    )
    channels = list((await session.execute(stmt)).scalars())
    for channel in channels:
        metrics.NOTICE_RECEIPTS.labels(channel, str(delivered).lower()).inc()
    return bool(channels)
