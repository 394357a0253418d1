"""Real PostgreSQL and Redis for the whole suite: the configured servers when DATABASE_URL and
REDIS_URL are set, otherwise embedded ones started here in a temporary directory. Each test
starts from empty tables; nothing is mocked."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cli.local.embedded import EmbeddedPostgres, EmbeddedRedis, ensure_database
from intake_api.app import create_app as create_intake
from routing_api.app import create_app as create_routing
from services.apikey import service as apikeys
from services.clock.calendar import WorkCalendar, YearSchedule, library_years
from services.department import service as departments
from services.department.schemas import DepartmentIn
from shared.database import make_engine, make_sessionmaker, transaction
from shared.enums import Role
from shared.migrate import upgrade
from shared.models import Base
from shared.principal import SYSTEM
from shared.settings import Settings
from shared.urlguard import Allowed
from tests.conformance import Conformance

SERVICE_KEY = "test-service-key-0123456789abcdef"
LOCAL = Allowed.parse("127.0.0.1")
"""Callback targets the tests run on this machine; the service refuses loopback otherwise."""
HOTLINE_SECRET = "test-hotline-secret"
SMS_SECRET = "test-sms-push-secret"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TABLES = sorted(set(Base.metadata.tables) - {"audit_log"})
"""Every table the models define, emptied before each test (TRUNCATE … CASCADE: order free);
but the audit trail, which refuses TRUNCATE: its tests read the rows of their own keys."""


@dataclass
class Servers:
    admin_url: str
    redis_url: str
    tmp: Path


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    tmp = Path(tempfile.mkdtemp(prefix="gdd-test-"))
    pg = None if os.environ.get("DATABASE_URL") else EmbeddedPostgres(tmp / "pg")
    redis = None if os.environ.get("REDIS_URL") else EmbeddedRedis(tmp / "redis")
    try:
        admin_url = pg.start() if pg else Settings().database_url
        redis_url = redis.start() if redis else Settings().redis_url
        assert admin_url
        assert redis_url
        yield Servers(admin_url, redis_url, tmp)
    finally:
        if redis:
            redis.stop()
        if pg:
            pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(servers: Servers) -> str:
    name = f"gaodedim_test_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(ensure_database(servers.admin_url, name))
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, servers: Servers) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        redis_url=servers.redis_url,
        track_rate_limit_per_minute=1000,
        service_key=SERVICE_KEY,
        hotline_webhook_secret=HOTLINE_SECRET,
        sms_webhook_secret=SMS_SECRET,
        callback_allowed_hosts="127.0.0.1",
        # Most tests register the same complaint many times on purpose; tests/test_repeats.py
        # turns repeat linking on where it is the subject.
        repeat_similarity=1.01,
        metrics_cache_seconds=0,
        # Keys are revoked and departments deactivated mid-test; tests/test_auth.py checks the
        # cache itself.
        key_cache_seconds=0,
        config_cache_seconds=0,
        var_dir=servers.tmp / "var",
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(settings, pool_size=5)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture(scope="session")
async def redis(servers: Servers) -> AsyncIterator[Redis]:
    client = Redis.from_url(servers.redis_url)
    yield client
    await client.aclose()


TEST_NOW = datetime.fromisoformat(os.environ.get("GAODEDIM_TEST_NOW", "2026-11-18T10:00:00+08:00"))
"""The instant every test starts at, whatever the wall clock says: a Wednesday morning inside
working hours. Run the suite at another instant (a make-up Saturday, New Year's Eve, a Sunday
night) with GAODEDIM_TEST_NOW=2026-09-27T10:00:00+08:00 and the like; no test may assume which."""
if TEST_NOW.tzinfo is None:
    raise ValueError("GAODEDIM_TEST_NOW needs an offset, e.g. 2026-11-18T10:00:00+08:00")


class ManualClock:
    """The services' clock in tests: it stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        self.now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock(TEST_NOW)


TEST_YEARS = {
    year: YearSchedule(holidays=frozenset({date(year, 1, 1)}))
    for year in range(TEST_NOW.year, TEST_NOW.year + 3)
    if year not in library_years()
}
"""Stand-ins for the test clock's year and the two after it where chinese-calendar does not know
them (New Year's Day only), loaded as an operator would: a deadline counted from the clock may
reach January, and a sweep may look months ahead."""


def stand_in_calendar() -> WorkCalendar:
    return WorkCalendar(schedules=dict(TEST_YEARS))


@pytest.fixture(autouse=True)
def clean(request: pytest.FixtureRequest, clock: ManualClock) -> None:
    """Every test starts at TEST_NOW; one that uses the servers (any fixture that needs them)
    also from empty tables and an empty Redis (`emptied`). A pure test (the layers, signing,
    the clock's arithmetic) starts no server: `pytest tests/test_layers.py` runs without
    PostgreSQL or Redis."""
    clock.set(TEST_NOW)
    if "servers" in request.fixturenames:
        request.getfixturevalue("emptied")


@pytest.fixture
async def emptied(engine: AsyncEngine, redis: Redis, intake_app: Any) -> None:
    """Empty tables (but the stand-in years), an empty Redis, and case numbers counted from 1
    (the shared app forgets its block of numbers, or a test's numbers would depend on how many
    cases the tests before it registered)."""
    intake_app.state.case_numbers.forget()
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        for year, schedule in TEST_YEARS.items():
            await conn.execute(
                text("INSERT INTO calendar_years (year, holidays) VALUES (:y, :h)"),
                {"y": year, "h": sorted(schedule.holidays)},
            )
    await redis.flushdb()


def conformance_of(app: Any) -> Conformance:
    """One checker per app (it compiles the document once); see tests/conformance.py."""
    if not hasattr(app.state, "conformance"):
        app.state.conformance = Conformance(app)
    checker: Conformance = app.state.conformance
    return checker


@pytest.fixture(scope="session")
async def routing_app(settings: Settings, clock: ManualClock) -> AsyncIterator[Any]:
    app = create_routing(settings, clock)
    async with app.router.lifespan_context(app):
        yield app


def routing_client_for(routing_app: Any) -> httpx.AsyncClient:
    """What intake and the worker use to reach routing, wired to the in-process app."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=routing_app),
        base_url="http://routing",
        headers={"Authorization": f"Bearer {SERVICE_KEY}"},
        event_hooks={"response": [conformance_of(routing_app).hook]},
    )


@pytest.fixture(scope="session")
async def intake_app(
    settings: Settings, routing_app: Any, clock: ManualClock
) -> AsyncIterator[Any]:
    app = create_intake(settings, clock)
    async with app.router.lifespan_context(app):
        await app.state.routing_client.aclose()
        app.state.routing_client = routing_client_for(routing_app)
        yield app


@pytest.fixture
async def intake(intake_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=intake_app, raise_app_exceptions=False)
    hooks = {"response": [conformance_of(intake_app).hook]}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://intake", event_hooks=hooks
    ) as client:
        yield client


@pytest.fixture
async def routing(routing_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=routing_app, raise_app_exceptions=False)
    hooks = {"response": [conformance_of(routing_app).hook]}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://routing", event_hooks=hooks
    ) as client:
        yield client


def load_departments() -> list[DepartmentIn]:
    import json

    return [
        DepartmentIn.model_validate(d)
        for d in json.loads((EXAMPLES / "departments.sample.json").read_text())
    ]


@pytest.fixture
async def sample_departments(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessionmaker) as session:
        await departments.import_all(session, load_departments())


@dataclass(frozen=True)
class Key:
    """A real key as the servers' shell issues it: its id (to find its rows on the audit
    trail), its holder, and the Authorization header that uses it."""

    id: uuid.UUID
    holder: str
    headers: dict[str, str]


IssueFactory = Callable[..., Awaitable[Key]]
KeyFactory = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def issue(sessionmaker: async_sessionmaker[AsyncSession]) -> IssueFactory:
    """Issue a real key of `role` (any role: the shell's), each with a holder of its own."""

    async def factory(role: str, department: str | None = None) -> Key:
        holder = f"{role}-{uuid.uuid4().hex[:6]}"
        async with transaction(sessionmaker) as session:
            issued = await apikeys.issue(
                session, holder=holder, issuer=SYSTEM, role=Role(role), department=department
            )
        return Key(issued.id, holder, {"Authorization": f"Bearer {issued.key}"})

    return factory


@pytest.fixture
def make_key(issue: IssueFactory) -> KeyFactory:
    """Issue a real key and return the Authorization header for it."""

    async def factory(role: str, department: str | None = None) -> dict[str, str]:
        return (await issue(role, department)).headers

    return factory


def case_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "window",
        "intake_department": "GZ-BDC",
        "district": "越秀区",
        "title": "房屋转移登记因违章注记无法办理",
        "description": (
            "香港居民黄女士继承父亲的房屋后拟转让,因历史原因房屋存在违章注记,转移登记无法办理。"
        ),
        "applicant": {"name": "黄丽华", "phone": "13800138001", "type": "individual"},
    }
    body.update(overrides)
    return body


def body_for(role: str, **overrides: Any) -> dict[str, Any]:
    """`case_body` as a key of `role` may send it: a channel's key registers its own channel's
    cases, and only the window side names the intake (first-responsible) department."""
    channel = {"portal": "portal", "hotline": "hotline"}.get(role)
    if channel is None:
        return case_body(**overrides)
    return case_body(**{"channel": channel, "intake_department": None, **overrides})


async def count(sessionmaker: async_sessionmaker[AsyncSession], table: str) -> int:
    async with sessionmaker() as session:
        return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


ESTATE = case_body(
    title="抵押登记注销拖延", description="抵押登记注销一直没办好", intake_department=None
)
"""A complaint the sample rule table routes to GZ-BDC (rule `estate`)."""


@pytest.fixture
async def keys(make_key: KeyFactory, routing: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """The sample table published, and a key for each party the workflow tests need."""
    from tests.test_routing_api import publish

    admin = await make_key("admin")
    await publish(routing, admin)
    return {
        "admin": admin,
        "security_admin": await make_key("security_admin"),
        "window": await make_key("window"),
        "coordinator": await make_key("coordinator"),
        "bdc": await make_key("department", "GZ-BDC"),
        "ghzy": await make_key("department", "GZ-GHZY"),
        "swj": await make_key("department", "GZ-SWJ"),
    }


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve `app` with a real uvicorn on a free 127.0.0.1 port (in a thread with its own event
    loop, lifespan included) for clients that speak real HTTP; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("uvicorn did not start in 20 s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
