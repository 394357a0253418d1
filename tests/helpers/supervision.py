"""A street's case, and what the outbox and the history hold of it: for the 督办 and 提级
tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.models import CaseEvent, OutboxMessage
from tests.helpers.bodies import case_body
from tests.helpers.cases import stored_case
from tests.helpers.keys import KeyFactory
from tests.helpers.rules import publish


async def street_case(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    table: dict[str, Any] | None = None,
    *,
    published: bool = False,
) -> str:
    """A case registered at Beijing Street's hall (routed by `table`, else the sample's) and
    assigned to the street itself: a street's case, under the Yuexiu district."""
    if not published:
        await publish(routing, await make_key("admin"), table)
    r = await intake.post(
        "/api/v1/cases", json=case_body(), headers=await make_key("window", "YX-BJJD")
    )
    assert r.status_code == 201, r.text
    case_no = str(r.json()["case_no"])
    assign = {"department": "YX-BJJD", "reason": "街道事项"}
    r = await routing.post(
        f"/api/v1/cases/{case_no}/assign", json=assign, headers=await make_key("coordinator")
    )
    assert r.status_code == 200, r.text
    return case_no


async def messages(
    sessionmaker: async_sessionmaker[AsyncSession], topic: str
) -> list[dict[str, Any]]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.topic == topic)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def actions(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> list[Any]:
    case = await stored_case(sessionmaker, case_no)
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
        return list(rows)
