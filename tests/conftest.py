"""Real PostgreSQL and Redis for the whole suite: the configured servers when DATABASE_URL and
REDIS_URL are set, otherwise embedded ones started here in a temporary directory. Each test
starts from empty tables; nothing is mocked."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cli.local.embedded import EmbeddedPostgres, EmbeddedRedis, ensure_database
from intake_api.app import create_app as create_intake
from routing_api.app import create_app as create_routing
from services.apikey import service as apikeys
from services.department import service as departments
from shared.database import make_engine, make_sessionmaker, transaction
from shared.enums import Role
from shared.migrate import upgrade
from shared.models import Base
from shared.principal import SYSTEM
from shared.settings import Settings
from tests.helpers.bodies import load_departments
from tests.helpers.clock import TEST_NOW, TEST_YEARS, ManualClock
from tests.helpers.keys import IssueFactory, Key, KeyFactory
from tests.helpers.processes import ADMIN, free_port, leftovers
from tests.helpers.serving import (
    HOTLINE_SECRET,
    SERVICE_KEY,
    SMS_SECRET,
    Servers,
    checked_client,
    routing_client_for,
)

TABLES = sorted(set(Base.metadata.tables) - {"audit_log"})
"""Every table the models define, emptied before each test (TRUNCATE … CASCADE: order free);
but the audit trail, which refuses TRUNCATE: its tests read the rows of their own keys."""


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


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock(TEST_NOW)


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


@pytest.fixture(scope="session")
async def routing_app(settings: Settings, clock: ManualClock) -> AsyncIterator[Any]:
    app = create_routing(settings, clock)
    async with app.router.lifespan_context(app):
        yield app


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
    async with checked_client(intake_app, "http://intake") as client:
        yield client


@pytest.fixture
async def routing(routing_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with checked_client(routing_app, "http://routing") as client:
        yield client


@pytest.fixture
async def sample_departments(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessionmaker) as session:
        await departments.import_all(session, load_departments())


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


@pytest.fixture
async def keys(make_key: KeyFactory, routing: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """The sample table published, and a key for each party the workflow tests need."""
    from tests.helpers.rules import publish

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


@pytest.fixture
def run_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a `python -m cli run` of its own (tests/test_supervisor.py,
    tests/test_faults.py): its own folder and ports, and none of its processes left behind."""
    var = Path(tmp_path_factory.mktemp("run")) / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        VAR_DIR=str(var),
        INTAKE_PORT=str(free_port()),
        ROUTING_PORT=str(free_port()),
        WORKER_METRICS_PORT=str(free_port()),
        BOOTSTRAP_ADMIN_KEY=ADMIN,
        LOG_LEVEL="WARNING",
    )
    yield env
    for proc in leftovers(var, ours=True):  # never let a failed test leak into the next one
        proc.kill()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """`make examples`: write the answers this run recorded as the documents' examples."""
    from tests import examples_recorder

    if examples_recorder.RECORDING:
        for path in examples_recorder.write():
            print(f"\nwrote {path.relative_to(examples_recorder.ROOT)}")
