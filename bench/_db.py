"""A fresh, migrated database for one benchmark run: DATABASE_URL's server if set, otherwise an
embedded PostgreSQL in a temporary directory that is removed afterwards."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cli.local.embedded import EmbeddedPostgres, ensure_database
from shared.migrate import upgrade
from shared.settings import Settings


@contextmanager
def fresh_database(name: str, revision: str = "head") -> Iterator[str]:
    tmp = Path(tempfile.mkdtemp(prefix="gdd-bench-"))
    pg = None if os.environ.get("DATABASE_URL") else EmbeddedPostgres(tmp / "pg")
    try:
        admin = pg.start() if pg else str(Settings().database_url)
        url = asyncio.run(ensure_database(admin, name))
        upgrade(url, revision)
        yield url
    finally:
        if pg:
            pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
