"""A create's first answer (which holds the applicant's personal data) is kept for its retries
for IDEMPOTENCY_RETENTION, then pruned by the worker; a retry after that is a new request."""

from __future__ import annotations

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.database import transaction
from shared.models import IdempotencyRecord
from sla_worker import worker as worker_module
from tests.helpers.bodies import case_body
from tests.helpers.keys import KeyFactory


async def test_first_answers_are_pruned_after_the_retention(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    sample_departments: None,
) -> None:
    window = await make_key("window")
    for key, phone in (("old-desk-1", "13800138101"), ("new-desk-1", "13800138102")):
        headers = {**window, "Idempotency-Key": key}
        body = case_body(applicant={"name": "黄丽华", "phone": phone})
        assert (await intake.post("/api/v1/cases", json=body, headers=headers)).status_code == 201
    async with transaction(sessionmaker) as session:
        await session.execute(
            text(
                "UPDATE idempotency_records SET created_at = now() - interval '8 days' "
                "WHERE key = 'old-desk-1'"
            )
        )
    assert await worker_module.prune_idempotency({"sessionmaker": sessionmaker}) == 1
    async with sessionmaker() as session:
        kept = set((await session.scalars(select(IdempotencyRecord.key))).all())
    assert "old-desk-1" not in kept
    assert "new-desk-1" in kept
    assert await worker_module.prune_idempotency({"sessionmaker": sessionmaker}) == 0
