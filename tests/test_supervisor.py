"""`gaodedim run` (what `make run` execs) owns its servers: it starts them, keeps data across
restarts, refuses a second run on the same data, and leaves nothing behind when stopped,
even after being killed outright."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers.processes import import_samples, leftovers, shell_key, stop, wait_ready


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _port_free(port: str) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", int(port))) != 0


def test_run_lifecycle(run_env: dict[str, str]) -> None:
    var = Path(run_env["VAR_DIR"])
    intake = f"http://127.0.0.1:{run_env['INTAKE_PORT']}"

    first = _start(run_env)
    wait_ready(run_env, first)
    running = {p.name() for p in leftovers(var)}
    assert {"postgres", "redis-server"} <= running  # the detector sees servers while they run
    import_samples(run_env)
    window = shell_key(run_env, "window", "--unbound")
    case = httpx.post(
        f"{intake}/api/v1/cases",
        headers=window,
        json={
            "channel": "window",
            "description": "取不到号无法领取营业执照",
            "applicant": {"phone": "13700137003"},
        },
    ).json()
    # Intake handed the case to the routing process over HTTP before answering.
    assert case["status"] == "assigned"
    worker_metrics = f"http://127.0.0.1:{run_env['WORKER_METRICS_PORT']}/metrics"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the worker sweeps and folds at start-up
        try:
            scraped = httpx.get(worker_metrics, timeout=1).text
        except httpx.HTTPError:
            scraped = ""
        if re.search(r"^gaodedim_stats_days_folded_total [1-9]", scraped, re.M):
            break
        time.sleep(0.5)
    assert re.search(r"^gaodedim_sla_sweep_seconds_count [1-9]", scraped, re.M), scraped
    assert re.search(r"^gaodedim_stats_days_folded_total [1-9]", scraped, re.M), scraped
    assert "gaodedim_sla_sweep_lag_seconds" in scraped
    assert case["lead_department"] == "GZ-SCJG"
    assert case["routing"]["rule_id"] == "business-licence"

    second = subprocess.run(
        [sys.executable, "-m", "cli", "run"], env=run_env, capture_output=True, timeout=60
    )
    assert second.returncode == 3
    assert b"another gaodedim run holds" in second.stderr

    assert stop(first, signal.SIGTERM) == 0
    assert leftovers(var) == []
    assert _port_free(run_env["INTAKE_PORT"])
    assert _port_free(run_env["ROUTING_PORT"])
    assert _port_free(run_env["WORKER_METRICS_PORT"])
    assert not (var / "pg" / "postmaster.pid").exists()

    # A restart keeps every case; then a kill -9 of the supervisor leaves no orphans that block
    # the next run.
    again = _start(run_env)
    wait_ready(run_env, again)
    got = httpx.get(f"{intake}/api/v1/cases/{case['case_no']}", headers=window)
    assert got.status_code == 200
    assert got.json()["tracking_code"] == case["tracking_code"]
    again.kill()
    again.wait()
    if again.stdout:
        again.stdout.close()
    # The orphaned APIs end by themselves (PDEATHSIG) and give their ports back; until they
    # have, a readiness probe could be answered by them rather than by the next run.
    deadline = time.monotonic() + 30
    while not all(_port_free(run_env[p]) for p in ("INTAKE_PORT", "ROUTING_PORT")):
        assert time.monotonic() < deadline, "the killed run's APIs kept their ports"
        time.sleep(0.2)

    third = _start(run_env)
    wait_ready(run_env, third)
    assert httpx.get(f"{intake}/api/v1/cases/{case['case_no']}", headers=window).status_code == 200
    assert stop(third, signal.SIGINT) == 0
    assert leftovers(var) == []
