"""Where the CLI finds the database when no DATABASE_URL is set: the running `make run`'s
embedded servers (their URLs are in var/urls.env while it runs), or embedded ones it starts
for the length of one command."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cli.local import AlreadyRunning
from cli.local.embedded import (
    EmbeddedPostgres,
    EmbeddedRedis,
    VarLock,
    ensure_database,
)
from shared.settings import Settings

DATABASE_NAME = "gaodedim"


def urls_file(var_dir: Path) -> Path:
    return var_dir / "urls.env"


def read_urls(var_dir: Path) -> dict[str, str]:
    path = urls_file(var_dir)
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


@contextmanager
def embedded_urls(var_dir: Path, *, want_redis: bool) -> Iterator[dict[str, str]]:
    """Start the embedded servers under var_dir, yield their URLs, stop them afterwards."""
    lock = VarLock(var_dir)
    lock.acquire()
    pg = EmbeddedPostgres(var_dir / "pg")
    redis = EmbeddedRedis(var_dir / "redis") if want_redis else None
    try:
        admin_url = pg.start()
        urls = {"DATABASE_URL": asyncio.run(ensure_database(admin_url, DATABASE_NAME))}
        if redis is not None:
            urls["REDIS_URL"] = redis.start()
        yield urls
    finally:
        if redis is not None:
            redis.stop()
        pg.stop()
        lock.release()


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    if settings.database_url:
        yield settings.database_url
        return
    var_dir = settings.var_dir.resolve()
    try:
        with embedded_urls(var_dir, want_redis=False) as urls:
            yield urls["DATABASE_URL"]
    except AlreadyRunning:
        running = read_urls(var_dir).get("DATABASE_URL")
        if not running:
            raise
        yield running
