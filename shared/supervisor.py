"""`gaodedim run`: one process that owns everything `make run` starts.

It starts the embedded PostgreSQL and Redis (unless URLs are configured), migrates, then runs
both APIs and the worker as child processes. Ctrl-C or SIGTERM stops the children first, then
the servers, then releases var/'s lock. If the supervisor itself is killed outright, the kernel
ends the children (PR_SET_PDEATHSIG) and the next run ends or adopts the servers it left.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from shared.embedded import EmbeddedPostgres, EmbeddedRedis, VarLock, ensure_database
from shared.localdb import DATABASE_NAME, urls_file
from shared.migrate import upgrade
from shared.settings import Settings

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it if the supervisor dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _say(message: str) -> None:
    print(f"gaodedim: {message}", file=sys.stderr, flush=True)


@contextmanager
def _servers(settings: Settings, var_dir: Path) -> Iterator[dict[str, str]]:
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
        yield {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
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
        preexec_fn=_die_with_parent,
    )


def _stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for name, proc in children.items():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"{name} did not stop in time; killing it")
            proc.kill()
            proc.wait()


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
    var_dir = settings.var_dir.resolve()
    lock = VarLock(var_dir)
    lock.acquire()
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    children: dict[str, subprocess.Popen[bytes]] = {}
    code = 0
    try:
        with _servers(settings, var_dir) as urls:
            env = {
                **os.environ,
                **urls,
                "VAR_DIR": str(var_dir),
                "SERVICE_KEY": settings.service_key or _local_service_key(var_dir),
                "ROUTING_URL": f"http://{settings.bind_host}:{settings.routing_port}",
            }
            urls_file(var_dir).write_text("".join(f"{k}={v}\n" for k, v in urls.items()))
            _say("migrating the database")
            upgrade(urls["DATABASE_URL"])
            host = settings.bind_host
            busy = _wait_ports_free(settings, stop)
            if busy:
                _say(f"port {', '.join(map(str, busy))} is in use by another program; stopping")
                return 1
            uvicorn = [
                *("-m", "uvicorn", "--factory", "--host", host, "--no-access-log"),
                *("--no-proxy-headers", "--port"),
            ]
            children["intake_api"] = _spawn(
                [*uvicorn, str(settings.intake_port), "intake_api.app:create_app"], env
            )
            children["routing_api"] = _spawn(
                [*uvicorn, str(settings.routing_port), "routing_api.app:create_app"], env
            )
            if with_worker:
                children["sla_worker"] = _spawn(["-m", "sla_worker"], env)
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
            while not stop.is_set():
                dead = [n for n, p in children.items() if p.poll() is not None]
                if dead:
                    _say(f"{', '.join(dead)} exited; stopping everything")
                    code = 1
                    break
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
