"""The worker's own HTTP port: `/metrics` (what only the worker counts: cards and warnings
issued, sweep timings and lag, deliveries, folds) and `/healthz` (its jobs still run), which
Kubernetes' liveness probe and compose's healthcheck ask.

A port already in use (a second worker on one host) costs the endpoint, never the worker: cards
must still be issued, so the failure is logged and the worker runs on.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import structlog
from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from shared.settings import Settings

log = structlog.get_logger("gaodedim.worker")


class Heartbeat:
    """When a job last started. The cron jobs start every few seconds whatever there is to do,
    so a stale beat means the worker's loop is stuck or cannot reach Redis to schedule them:
    either way, restarting it is the cure."""

    def __init__(self) -> None:
        self.at = time.monotonic()  # the start counts: the first jobs need a moment

    def beat(self) -> None:
        self.at = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self.at


HEARTBEAT = Heartbeat()


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would flood the log; requests are not the worker's news."""


def app(stale_after: float, heartbeat: Heartbeat = HEARTBEAT) -> Callable[..., Iterable[bytes]]:
    metrics = make_wsgi_app()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/healthz":
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        age = heartbeat.age()
        alive = age <= stale_after
        body = json.dumps(
            {"status": "ok" if alive else "stale", "last_job_started_seconds_ago": round(age, 1)}
        ).encode()
        status = "200 OK" if alive else "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json")])
        return [body]

    return serve


def serve(settings: Settings) -> Callable[[], None] | None:
    """Start the endpoint; returns how to stop it, or None when there is none."""
    port = settings.worker_metrics_port
    if not port:
        return None
    try:
        server = make_server(
            settings.bind_host,
            port,
            app(settings.worker_stale_seconds),
            ThreadingWSGIServer,
            handler_class=_Quiet,
        )
    except OSError as exc:
        log.warning("worker_metrics_unavailable", port=port, error=exc.strerror)
        return None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log.info("worker_metrics", port=port)

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop
