from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.helpers.bodies import body_for, case_body
from tests.helpers.db import count
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")


async def test_same_key_same_body_returns_the_first_answer(
    intake: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {**await make_key("portal"), "Idempotency-Key": "order-1"}
    first = await intake.post("/api/v1/cases", json=body_for("portal"), headers=headers)
    again = await intake.post("/api/v1/cases", json=body_for("portal"), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await count(sessionmaker, "cases") == 1
    assert await count(sessionmaker, "outbox") == 2  # the hand-over and the applicant's notice


async def test_same_key_other_body_is_409(
    intake: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {**await make_key("portal"), "Idempotency-Key": "order-2"}
    await intake.post("/api/v1/cases", json=body_for("portal"), headers=headers)
    r = await intake.post(
        "/api/v1/cases", json=body_for("portal", title="另一件事"), headers=headers
    )
    assert r.status_code == 409
    assert r.json()["idempotency_key"] == "order-2"
    assert await count(sessionmaker, "cases") == 1


async def test_keys_belong_to_their_caller(
    intake: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    a = {**await make_key("portal"), "Idempotency-Key": "same"}
    b = {**await make_key("portal"), "Idempotency-Key": "same"}
    ra = await intake.post("/api/v1/cases", json=body_for("portal"), headers=a)
    rb = await intake.post("/api/v1/cases", json=body_for("portal"), headers=b)
    assert ra.json()["case_no"] != rb.json()["case_no"]
    assert await count(sessionmaker, "cases") == 2


async def test_concurrent_requests_with_one_key_create_one_case(
    intake: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {**await make_key("hotline"), "Idempotency-Key": "burst"}
    results = await asyncio.gather(
        *[intake.post("/api/v1/cases", json=body_for("hotline"), headers=headers) for _ in range(5)]
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["case_no"] for r in results}) == 1
    assert await count(sessionmaker, "cases") == 1


async def test_a_failed_request_leaves_the_key_free(
    intake: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {**await make_key("window"), "Idempotency-Key": "retry-me"}
    bad = await intake.post(
        "/api/v1/cases", json=case_body(intake_department="NOPE"), headers=headers
    )
    assert bad.status_code == 422
    good = await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    assert good.status_code == 201
    assert await count(sessionmaker, "idempotency_records") == 1


async def test_overlong_key_is_refused(intake: httpx.AsyncClient, make_key: KeyFactory) -> None:
    headers = {**await make_key("window"), "Idempotency-Key": "k" * 201}
    r = await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_fifty_replays_answer_exactly_what_the_original_answered(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """With a rule table published the original answers the routed case (`assigned`, its
    department and deadlines); replays that arrive while it is still being routed wait for that
    answer instead of replaying the snapshot taken at the commit (`registered`)."""
    from tests.helpers.rules import publish

    await publish(routing, await make_key("admin"))
    headers = {**await make_key("window"), "Idempotency-Key": "fifty"}
    results = await asyncio.gather(
        *[intake.post("/api/v1/cases", json=case_body(), headers=headers) for _ in range(50)]
    )
    assert {r.status_code for r in results} == {201}
    bodies = {json.dumps(r.json(), sort_keys=True) for r in results}
    assert len(bodies) == 1, [r.json()["status"] for r in results]
    assert results[0].json()["status"] == "assigned"
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in results) == 49
    assert await count(sessionmaker, "cases") == 1
