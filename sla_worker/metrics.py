"""The worker's own /metrics: what only the worker counts (cards and warnings issued, sweep
timings and lag, deliveries, folds) lives in its process, so it needs its own endpoint.

A port already in use (a second worker on one host) costs the metrics, never the worker: cards
must still be issued, so the failure is logged and the worker runs on.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from prometheus_client import start_http_server

from shared.settings import Settings

log = structlog.get_logger("gaodedim.worker")


def serve(settings: Settings) -> Callable[[], None] | None:
    """Start the metrics server; returns how to stop it, or None when there is none."""
    port = settings.worker_metrics_port
    if not port:
        return None
    try:
        server, _thread = start_http_server(port, addr=settings.bind_host)
    except OSError as exc:
        log.warning("worker_metrics_unavailable", port=port, error=exc.strerror)
        return None
    log.info("worker_metrics", port=port)
    return server.shutdown
