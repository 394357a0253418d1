"""The worker's port answers `/healthz` from its job heartbeat (the liveness probe restarts a
worker whose jobs stopped starting) and `/metrics` as before."""

from __future__ import annotations

import asyncio
import socket

import httpx

from shared.settings import Settings
from sla_worker import metrics as worker_port
from sla_worker.worker import WorkerSettings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthz_follows_the_job_heartbeat() -> None:
    port = _free_port()
    settings = Settings(
        _env_file=None, worker_metrics_port=port, worker_stale_seconds=30, bind_host="127.0.0.1"
    )
    stop = worker_port.serve(settings)
    assert stop is not None
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(WorkerSettings.on_job_start({}))  # what arq calls as each job starts
        fresh = httpx.get(f"{base}/healthz", timeout=5)
        assert fresh.status_code == 200
        assert fresh.json()["status"] == "ok"
        worker_port.HEARTBEAT.at -= 31  # no job started for longer than WORKER_STALE_SECONDS
        stale = httpx.get(f"{base}/healthz", timeout=5)
        assert stale.status_code == 503
        assert stale.json()["last_job_started_seconds_ago"] >= 31
        assert "gaodedim_cards_issued_total" in httpx.get(f"{base}/metrics", timeout=5).text
    finally:
        worker_port.HEARTBEAT.beat()
        stop()
