"""The migrations give exactly what the models declare, and round-trip."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.local.embedded import ensure_database
from shared.migrate import downgrade, upgrade
from shared.models import Base
from tests.conftest import Servers


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


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
