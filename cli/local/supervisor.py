"""`gaodedim run`: one process that owns everything `make run` starts.

It starts the embedded PostgreSQL and Redis (unless URLs are configured), migrates, then runs
both APIs and the worker as child processes. A part that dies (an API, the worker, the embedded
Redis) is logged and started again with back-off; the others carry on, so intake keeps taking
cases while routing, the worker or Redis are down (the outbox hands them over later). Ctrl-C or
SIGTERM stops the children first, then the servers, then releases var/'s lock. If the supervisor
itself is killed outright, the kernel ends the children (PR_SET_PDEATHSIG) and the next run ends
or adopts the servers it left.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import structlog

from cli.local.embedded import EmbeddedPostgres, EmbeddedRedis, VarLock, ensure_database
from cli.local.localdb import DATABASE_NAME, urls_file
from shared.logging import configure as configure_logging
from shared.migrate import upgrade
from shared.process import SUPERVISED, die_with_parent
from shared.settings import Settings

log = structlog.get_logger("gaodedim.supervisor")


def _say(message: str) -> None:
    """The supervisor's own lines, in the format its children write (shared.logging)."""
    log.info(message)


def _warn(message: str) -> None:
    log.warning(message)


@contextmanager
def _servers(
    settings: Settings, var_dir: Path
) -> Iterator[tuple[dict[str, str], EmbeddedRedis | None, EmbeddedPostgres | None]]:
    pg = None if settings.database_url else EmbeddedPostgres(var_dir / "pg")
    redis = None if settings.redis_url else EmbeddedRedis(var_dir / "redis")
    try:
        if pg is not None:
            _say(f"starting embedded PostgreSQL in {var_dir / 'pg'}")
            database_url = asyncio.run(ensure_database(pg.start(), DATABASE_NAME))
        else:
            database_url = str(settings.database_url)
        if redis is not None:
            _say(f"starting embedded Redis in {var_dir / 'redis'}")
            redis_url = redis.start()
        else:
            redis_url = str(settings.redis_url)
        yield {"DATABASE_URL": database_url, "REDIS_URL": redis_url}, redis, pg
    finally:
        if redis is not None:
            _say("stopping Redis")
            redis.stop()
        if pg is not None:
            _say("stopping PostgreSQL")
            pg.stop()


def _local_service_key(var_dir: Path) -> str:
    """The key the local processes use with each other, made once and kept with the data."""
    path = var_dir / "service.key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
        [sys.executable, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )


STABLE_AFTER = 60.0
"""A part that ran this long before it died starts its back-off afresh."""
MAX_BACKOFF = 30.0


def backoff(failures: int) -> float:
    """Seconds before restart number `failures` in a row: 0.5, 1, 2, 4 … at most 30."""
    return float(min(MAX_BACKOFF, 0.5 * 2 ** max(0, failures - 1)))


@dataclass
class Restarts:
    """When a part that died may start again: at once the first time, then backing off, so a
    part that cannot start (a bad setting, a busy port) does not spin the machine."""

    name: str
    failures: int = 0
    started_at: float = 0.0
    due_at: float | None = None

    def died(self, now: float, detail: str) -> None:
        ran = now - self.started_at
        self.failures = 1 if ran >= STABLE_AFTER else self.failures + 1
        delay = backoff(self.failures)
        self.due_at = now + delay
        _warn(f"{self.name} {detail} after {ran:.1f} s; restarting in {delay:g} s")

    def due(self, now: float) -> bool:
        return self.due_at is not None and now >= self.due_at

    def started(self, now: float) -> None:
        self.started_at, self.due_at = now, None


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: Restarts = field(init=False)

    def __post_init__(self) -> None:
        self.restarts = Restarts(self.name)

    def start(self) -> None:
        self.proc = _spawn(self.args, self.env)
        self.restarts.started(time.monotonic())

    def watch(self, now: float) -> None:
        """Notice a death, and start the part again when its back-off has passed."""
        if self.proc is not None and self.restarts.due_at is None:
            code = self.proc.poll()
            if code is not None:
                self.restarts.died(now, f"exited with {code}")
        if self.restarts.due(now):
            self.start()
            _say(f"{self.name} restarted (pid {self.proc.pid if self.proc else '?'})")


def _stop_children(children: list[Child]) -> None:
    running = [c for c in children if c.proc is not None and c.proc.poll() is None]
    for child in running:
        assert child.proc is not None
        child.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in running:
        assert child.proc is not None
        try:
            child.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _warn(f"{child.name} did not stop in time; killing it")
            child.proc.kill()
            child.proc.wait()


def _watch_server(
    name: str,
    alive: Callable[[], bool],
    start: Callable[[], object],
    restarts: Restarts,
    now: float,
) -> None:
    """An embedded server is restarted like the children, on its own data directory (same
    socket, so the same URL): Redis, while the APIs keep taking cases and the worker carries on
    from the database; PostgreSQL (issue 26 #16: a killed postmaster left every request 503 for
    good, and nothing said why), while the APIs answer 503 with Retry-After and their pools
    reconnect when it is back."""
    if restarts.due_at is None and not alive():
        restarts.died(now, "exited")
    if restarts.due(now):
        try:
            start()
            restarts.started(now)
            _say(f"{name} restarted")
        except Exception as exc:  # what the server's start said (pg_ctl, redis-server); later
            restarts.died(now, f"did not start ({type(exc).__name__}: {exc})")


def _wait_ports_free(settings: Settings, stop: threading.Event, seconds: float = 20) -> list[int]:
    """The APIs of a run that was killed outright end by themselves (PDEATHSIG) but may still
    be shutting down: wait for their ports rather than fail to bind. Returns those still busy."""
    ports = [settings.intake_port, settings.routing_port]
    deadline = time.monotonic() + seconds
    while True:
        busy = []
        for port in ports:
            with socket.socket() as probe:
                if probe.connect_ex((settings.bind_host, port)) == 0:
                    busy.append(port)
        if not busy or time.monotonic() > deadline or stop.is_set():
            return busy
        time.sleep(0.2)


def _wait_ready(settings: Settings, stop: threading.Event) -> bool:
    urls = [
        f"http://{settings.bind_host}:{p}/healthz"
        for p in (settings.intake_port, settings.routing_port)
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not stop.is_set():
        try:
            if all(httpx.get(u, timeout=1).status_code == 200 for u in urls):
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def run(settings: Settings, *, with_worker: bool = True) -> int:
    configure_logging(settings.log_level, fmt=settings.log_format)
    var_dir = settings.var_dir.resolve()
    lock = VarLock(var_dir)
    lock.acquire()
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    children: list[Child] = []
    code = 0
    try:
        with _servers(settings, var_dir) as (urls, redis, pg):
            env = {
                **os.environ,
                **urls,
                "VAR_DIR": str(var_dir),
                SUPERVISED: "1",
                "SERVICE_KEY": settings.service_key or _local_service_key(var_dir),
                "ROUTING_URL": f"http://{settings.bind_host}:{settings.routing_port}",
            }
            urls_file(var_dir).write_text("".join(f"{k}={v}\n" for k, v in urls.items()))
            _say("migrating the database")
            upgrade(urls["DATABASE_URL"])
            host = settings.bind_host
            busy = _wait_ports_free(settings, stop)
            if busy:
                _warn(f"port {', '.join(map(str, busy))} is in use by another program; stopping")
                return 1
            uvicorn = [
                *("-m", "uvicorn", "--factory", "--host", host, "--no-access-log"),
                *("--no-proxy-headers", "--workers", str(settings.web_concurrency), "--port"),
            ]
            children = [
                Child(
                    "intake_api",
                    [*uvicorn, str(settings.intake_port), "intake_api.app:create_app"],
                    env,
                ),
                Child(
                    "routing_api",
                    [*uvicorn, str(settings.routing_port), "routing_api.app:create_app"],
                    env,
                ),
            ]
            if with_worker:
                children.append(Child("sla_worker", ["-m", "sla_worker"], env))
            for child in children:
                child.start()
            if _wait_ready(settings, stop):
                worker = (
                    f"  worker metrics http://{host}:{settings.worker_metrics_port}/metrics"
                    if with_worker and settings.worker_metrics_port
                    else ""
                )
                _say(
                    f"ready: intake http://{host}:{settings.intake_port}  "
                    f"routing http://{host}:{settings.routing_port}{worker}  "
                    "(Ctrl-C stops everything)"
                )
            redis_restarts, pg_restarts = Restarts("redis"), Restarts("postgresql")
            redis_restarts.started(time.monotonic())
            pg_restarts.started(time.monotonic())
            while not stop.is_set():
                now = time.monotonic()
                if pg is not None:
                    _watch_server("postgresql", pg.alive, pg.restart, pg_restarts, now)
                if redis is not None:
                    _watch_server("redis", redis.alive, redis.start, redis_restarts, now)
                for child in children:
                    child.watch(now)
                stop.wait(0.5)
            _say("stopping")
            _stop_children(children)
            urls_file(var_dir).unlink(missing_ok=True)
    finally:
        _stop_children(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        lock.release()
    _say("stopped")
    return code
