"""Alembic driven from code, so `gaodedim migrate`, `make run` and the tests share one path."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import ForeignKeyConstraint, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import PARTITION

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's comparison leaves out the partitions, which the database's own function makes
    and no model declares."""
    return not (type_ == "table" and name is not None and bool(PARTITION.match(name)))


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """PostgreSQL keeps, under each foreign key into a partitioned table, one internal key into
    every partition; SQLAlchemy reflects those too. They come and go with the partitions."""
    if type_ != "foreign_key_constraint" or not isinstance(obj, ForeignKeyConstraint):
        return True
    return not PARTITION.match(obj.referred_table.name)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Percent signs in URLs would be read as interpolation by ConfigParser.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    async def read() -> str | None:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                if not await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL")):
                    return None
                found = await conn.scalar(text("SELECT version_num FROM alembic_version"))
                return str(found) if found else None
        finally:
            await engine.dispose()

    return asyncio.run(read())


def pending(at: str | None) -> list[str]:
    """The revisions an upgrade from `at` applies, oldest first."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    head, known = known_revisions()
    if at is not None and at not in known:
        return []  # a later release's: nothing of ours to apply
    return [s.revision for s in reversed(list(scripts.iterate_revisions(head, at)))]


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """Alembic's env runs its own event loop, so call it from a thread inside async code."""
    await asyncio.to_thread(upgrade, database_url, revision)


@functools.cache
def known_revisions() -> tuple[str, frozenset[str]]:
    """This release's head and every revision it knows, from its migrations directory."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    head = scripts.get_current_head()
    assert head is not None, "the migrations directory has no head"
    return head, frozenset(s.revision for s in scripts.walk_revisions())


async def schema_state(session: AsyncSession) -> str:
    """`ok` when the database is at this release's head, or past it (a later release migrated
    it during a rolling upgrade: this process still works on it); otherwise what is wrong, so
    /readyz keeps a new process out of service until its migration has run."""
    head, known = known_revisions()
    exists = await session.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return "not migrated"
    current = await session.scalar(text("SELECT version_num FROM alembic_version"))
    if current is None:
        return "not migrated"
    if current == head or current not in known:
        return "ok"
    return f"behind: at {current}, this release needs {head}"
