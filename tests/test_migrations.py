"""The migrations give exactly what the models declare, and round-trip."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from cli.local.embedded import ensure_database
from shared.migrate import downgrade, include_name, include_object, upgrade
from shared.models import PARTITION, Base
from tests.helpers.serving import Servers


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_name": include_name,
            "include_object": include_object,
        },
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    names = set(inspect(connection).get_table_names()) - {"alembic_version"}
    return {name for name in names if not PARTITION.match(name)}


async def _inspect(url: str, fn: Any) -> Any:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


async def test_upgrade_matches_models_and_round_trips(servers: Servers) -> None:
    url = await ensure_database(servers.admin_url, f"gaodedim_mig_{uuid.uuid4().hex[:8]}")
    await asyncio.to_thread(upgrade, url)
    assert await _inspect(url, _diff) == []
    assert await _inspect(url, _tables) == set(Base.metadata.tables)

    await asyncio.to_thread(downgrade, url, "base")
    assert await _inspect(url, _tables) == set()

    await asyncio.to_thread(upgrade, url)
    assert await _inspect(url, _diff) == []


async def _sql(url: str, *statements: str) -> list[Any]:
    """Run statements in one transaction; the rows of the last."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            result = None
            for statement in statements:
                result = await conn.execute(text(statement))
            return list(result.tuples()) if result is not None and result.returns_rows else []
    finally:
        await engine.dispose()


STORED_CASE = (
    "INSERT INTO cases (case_no, tracking_code, status, channel, description, created_at, "
    "updated_at) VALUES ('{no}', '{code}', 'registered', 'window', '旧件', now(), now())"
)


async def test_partitioning_keeps_the_cases_already_stored(servers: Servers) -> None:
    """0002 on a database with cases: they keep their ids (in the partition of cases from
    before), their history and cards still point at them, their tracking codes find them, a
    new case goes to its month; and the way back keeps both."""
    url = await ensure_database(servers.admin_url, f"gaodedim_mig_{uuid.uuid4().hex[:8]}")
    await asyncio.to_thread(upgrade, url, "0001_baseline")
    await _sql(
        url,
        "INSERT INTO departments (code, name) VALUES ('D1', '部门')",
        STORED_CASE.format(no="GZ-20261001-000001", code="OLDCODE2"),
        "INSERT INTO case_events (case_id, action, to_status, actor_role) "
        "VALUES (1, 'register', 'registered', 'window')",
        "INSERT INTO cards (case_id, department, colour, deadline, month, points) "
        "VALUES (1, 'D1', 'yellow', 'sign', '2026-10', 1)",
    )
    await asyncio.to_thread(upgrade, url)

    assert await _sql(
        url, "SELECT id, tableoid::regclass::text FROM cases WHERE case_no = 'GZ-20261001-000001'"
    ) == [(1, "cases_before")]
    assert await _sql(url, "SELECT case_id FROM tracking_codes WHERE code = 'OLDCODE2'") == [(1,)]
    assert await _sql(url, "SELECT tableoid::regclass::text FROM case_events") == [
        ("case_events_before",)
    ]
    new = await _sql(
        url,
        STORED_CASE.format(no="GZ-20261124-000001", code="NEWCODE3"),
        "SELECT c.tableoid::regclass::text, t.case_id = c.id FROM cases c "
        "JOIN tracking_codes t ON t.code = c.tracking_code WHERE c.case_no = 'GZ-20261124-000001'",
    )
    assert new[0][0].startswith("cases_p")
    assert new[0][1]
    duplicate = STORED_CASE.format(no="GZ-20261124-000002", code="OLDCODE2")
    # The clash a registration retries on, by its constraint's name.
    with pytest.raises(IntegrityError, match="pk_tracking_codes"):
        await _sql(url, duplicate)

    await asyncio.to_thread(downgrade, url, "0001_baseline")
    assert await _sql(url, "SELECT case_no, tracking_code FROM cases ORDER BY id") == [
        ("GZ-20261001-000001", "OLDCODE2"),
        ("GZ-20261124-000001", "NEWCODE3"),
    ]
    assert await _sql(url, "SELECT count(*) FROM case_events") == [(1,)]
    await asyncio.to_thread(upgrade, url)  # again: the later case goes back to its month
    assert await _sql(url, "SELECT count(*) FROM tracking_codes") == [(2,)]
    assert await _sql(url, "SELECT tableoid::regclass::text FROM cases ORDER BY id") == [
        ("cases_before",),
        (new[0][0],),
    ]
