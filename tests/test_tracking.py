from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.helpers.bodies import case_body
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")


async def _case(intake: httpx.AsyncClient, make_key: KeyFactory) -> dict[str, Any]:
    r = await intake.post("/api/v1/cases", json=case_body(), headers=await make_key("window"))
    body: dict[str, Any] = r.json()
    return body


async def test_tracking_shows_minimal_data_without_a_key(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    case = await _case(intake, make_key)
    r = await intake.get(f"/api/v1/track/{case['tracking_code']}", params={"phone_last4": "8001"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "registered"
    assert body["status_label"] == "已登记"
    assert body["handling_department"] == "广州市不动产登记中心"

    def told(card: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in card.items() if v is not None}  # an unset member may be absent

    assert told(body["tracking_card"]) == told(case["tracking_card"])
    assert [t["status"] for t in body["timeline"]] == ["registered"]
    flat = r.text
    for private in ("黄丽华", "13800138001", "applicant", "description", "reason"):
        assert private not in flat


async def test_tracking_forgives_case_and_spaces(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    case = await _case(intake, make_key)
    code = str(case["tracking_code"])
    messy = f" {code[:4].lower()}-{code[4:]}"
    r = await intake.get(f"/api/v1/track/{messy}", params={"phone_last4": "8001"})
    assert r.status_code == 200


async def test_wrong_digits_and_wrong_code_answer_the_same(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    case = await _case(intake, make_key)
    wrong_digits = await intake.get(
        f"/api/v1/track/{case['tracking_code']}", params={"phone_last4": "0000"}
    )
    wrong_code = await intake.get("/api/v1/track/ZZZZZZZZ", params={"phone_last4": "8001"})
    assert wrong_digits.status_code == wrong_code.status_code == 404
    assert wrong_digits.json() == wrong_code.json()


async def test_phone_digits_are_required_and_checked(intake: httpx.AsyncClient) -> None:
    assert (await intake.get("/api/v1/track/ABCDEFGH")).status_code == 422
    r = await intake.get("/api/v1/track/ABCDEFGH", params={"phone_last4": "12a4"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "phone_last4"


@contextmanager
def _settings(app: Any, **changes: Any) -> Iterator[None]:
    settings = app.state.settings
    old = {name: getattr(settings, name) for name in changes}
    for name, value in changes.items():
        setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(settings, name, value)


async def test_tracking_is_rate_limited(intake: httpx.AsyncClient, intake_app: object) -> None:
    """The window starts at the first look-up, so five quick ones never straddle two windows,
    whatever second of the minute the test runs in."""
    with _settings(intake_app, track_rate_limit_per_minute=3):
        responses = [
            await intake.get("/api/v1/track/ABCDEFGH", params={"phone_last4": "1234"})
            for _ in range(5)
        ]
    assert [r.status_code for r in responses] == [404, 404, 404, 429, 429]
    assert 1 <= int(responses[-1].headers["retry-after"]) <= 60
    assert responses[-1].headers["content-type"] == "application/problem+json"


async def test_every_spelling_of_a_code_shares_its_limit(
    intake: httpx.AsyncClient, intake_app: object
) -> None:
    spellings = ["ABCDEFGH", "abcd-efgh", " ABCD EFGH", "ＡＢＣＤＥＦＧＨ", "aBcDeFgH"]
    with _settings(intake_app, track_rate_limit_per_minute=3):
        statuses = []
        for i, spelling in enumerate(spellings):
            # A fresh address each time (as a botnet has): only the per-code limit can hold.
            r = await intake.get(
                f"/api/v1/track/{spelling}",
                params={"phone_last4": "1234"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
            statuses.append(r.status_code)
    assert statuses == [404, 404, 404, 429, 429]


async def test_a_forwarded_address_is_trusted_only_from_a_configured_proxy(
    intake: httpx.AsyncClient, settings: Any, routing_app: Any
) -> None:
    """In-process requests come from 127.0.0.1. Untrusted, X-Forwarded-For changes nothing (one
    address, one limit); with 127.0.0.1 configured as the proxy, each forwarded client has its
    own."""
    from intake_api.app import create_app

    async def statuses(client: httpx.AsyncClient) -> list[int]:
        return [
            (
                await client.get(
                    f"/api/v1/track/CODE{i:04d}",
                    params={"phone_last4": "1234"},
                    headers={"X-Forwarded-For": f"198.51.100.{i}"},
                )
            ).status_code
            for i in range(4)
        ]

    tight = {"track_rate_limit_per_minute": 2}
    untrusted = create_app(settings.model_copy(update=tight))
    behind_proxy = create_app(
        settings.model_copy(update={**tight, "forwarded_allow_ips": "127.0.0.1"})
    )
    results = []
    for app in (untrusted, behind_proxy):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                results.append(await statuses(client))
            await app.state.redis.flushdb()
    assert results == [[404, 404, 429, 429], [404, 404, 404, 404]]


def _from(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_wrong_digits_lock_the_code_for_the_address_that_tried(
    intake: httpx.AsyncClient, intake_app: Any, make_key: KeyFactory, redis: Any
) -> None:
    """10,000 possible digits is a small space: after TRACK_LOCKOUT_FAILURES wrong ones from
    one address the code answers 429 there, even with the right digits, and an unknown code
    locks the same way (the lock tells a guesser nothing). The citizen, asking from elsewhere,
    is not locked out (issue 26 #9: anyone holding the code could lock them out for an hour);
    many addresses guessing together lock the code for everyone, for minutes."""
    case = await _case(intake, make_key)
    code = case["tracking_code"]
    with _settings(intake_app, track_lockout_failures=4, track_code_lockout_failures=7):
        async with _from(intake_app, "203.0.113.7") as guesser:
            wrong = [
                (
                    await guesser.get(f"/api/v1/track/{code}", params={"phone_last4": f"{n:04d}"})
                ).status_code
                for n in range(4)
            ]
            right_there = await guesser.get(f"/api/v1/track/{code}", params={"phone_last4": "8001"})
            unknown = [
                (
                    await guesser.get("/api/v1/track/ZZZZZZZZ", params={"phone_last4": f"{n:04d}"})
                ).status_code
                for n in range(5)
            ]
        async with _from(intake_app, "198.51.100.20") as citizen:
            mine = await citizen.get(f"/api/v1/track/{code}", params={"phone_last4": "8001"})
        async with _from(intake_app, "192.0.2.55") as second:
            more = [
                (
                    await second.get(f"/api/v1/track/{code}", params={"phone_last4": f"{n:04d}"})
                ).status_code
                for n in range(10, 13)
            ]
        async with _from(intake_app, "198.51.100.20") as citizen:
            now_locked = await citizen.get(f"/api/v1/track/{code}", params={"phone_last4": "8001"})
    assert wrong == [404, 404, 404, 404]
    assert right_there.status_code == 429
    assert int(right_there.headers["retry-after"]) > 0
    assert unknown == [404, 404, 404, 404, 429]
    assert mine.status_code == 200, mine.text
    # Seven wrong tries from two addresses: the code rests for everyone, for minutes only.
    assert more == [404, 404, 404]
    assert now_locked.status_code == 429
    assert int(now_locked.headers["retry-after"]) <= 600
    # Redis holds no code, only keyed hashes of it.
    stored = [k.decode() async for k in redis.scan_iter("gaodedim:ratelimit:track:*")]
    assert stored
    assert not any(code in k or "ZZZZZZZZ" in k for k in stored), stored


async def test_the_limiter_answers_at_once_when_redis_is_gone_or_frozen() -> None:
    """Refused (nothing listening) and frozen (accepts, never answers): open lets the look-up
    through, closed answers 503; neither waits longer than the timeout."""
    from redis.asyncio import Redis

    from shared.errors import DomainError
    from web.ratelimit import Limiter

    async def frozen(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(frozen, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]  # closed again: nothing listens there
    try:
        for url in (f"redis://127.0.0.1:{dead_port}", f"redis://127.0.0.1:{port}"):
            redis = Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
            started = time.monotonic()
            await Limiter(redis, 0.3, fail_open=True).hit("t", limit=1)
            with pytest.raises(DomainError) as refused:
                await Limiter(redis, 0.3, fail_open=False).hit("t", limit=1)
            assert refused.value.status == 503
            assert time.monotonic() - started < 2
            await redis.aclose()
    finally:
        server.close()
