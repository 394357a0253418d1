"""`gaodedim run` (what `make run` execs) owns its servers: it starts them, keeps data across
restarts, refuses a second run on the same data, and leaves nothing behind when stopped,
even after being killed outright."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import EXAMPLES

ADMIN = "supervisor-test-admin-key-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def run_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    var = Path(tmp_path_factory.mktemp("run")) / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        VAR_DIR=str(var),
        INTAKE_PORT=str(_free_port()),
        ROUTING_PORT=str(_free_port()),
        WORKER_METRICS_PORT=str(_free_port()),
        BOOTSTRAP_ADMIN_KEY=ADMIN,
        LOG_LEVEL="WARNING",
    )
    yield env
    for proc in _leftovers(var, ours=True):  # never let a failed test leak into the next one
        proc.kill()


def _leftovers(var: Path, *, ours: bool = False) -> list[psutil.Process]:
    """The servers of the run on `var` (by their command line); with `ours`, also every process
    started with VAR_DIR=`var` (supervisor, APIs, their workers, the worker), to clean up after
    a test that failed half-way."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(var) in cmdline or (str(var.parent) in cmdline and "redis" in cmdline):
            found.append(proc)
            continue
        if ours and proc.pid != os.getpid():
            try:
                if proc.environ().get("VAR_DIR") == str(var):
                    found.append(proc)
            except psutil.Error:
                continue
    return found


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_ready(env: dict[str, str], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        try:
            if (
                httpx.get(f"http://127.0.0.1:{env['ROUTING_PORT']}/readyz", timeout=1).status_code
                == 200
                and httpx.get(
                    f"http://127.0.0.1:{env['INTAKE_PORT']}/readyz", timeout=1
                ).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("gaodedim run did not become ready in 90 s")


def _stop(proc: subprocess.Popen[bytes], sig: int) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(60)
    finally:
        if proc.stdout:
            proc.stdout.close()


def _port_free(port: str) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", int(port))) != 0


def shell_key(env: dict[str, str], role: str) -> dict[str, str]:
    """A key issued at the servers' shell (`gaodedim keys create`), as an operator does."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", "keys", "create", "--role", role, "--holder", "test"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return {"Authorization": f"Bearer {json.loads(done.stdout)['key']}"}


def import_samples(env: dict[str, str]) -> None:
    """The sample departments and the published rule table, through the CLI, which finds the
    running servers through var/urls.env."""
    for args in (
        ["departments", "import", str(EXAMPLES / "departments.sample.json")],
        ["rules", "import", str(EXAMPLES / "rules.sample.json"), "--publish"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "cli", *args], env=env, capture_output=True, timeout=60
        )
        assert done.returncode == 0, done.stderr


def test_run_lifecycle(run_env: dict[str, str]) -> None:
    var = Path(run_env["VAR_DIR"])
    intake = f"http://127.0.0.1:{run_env['INTAKE_PORT']}"

    first = _start(run_env)
    _wait_ready(run_env, first)
    running = {p.name() for p in _leftovers(var)}
    assert {"postgres", "redis-server"} <= running  # the detector sees servers while they run
    import_samples(run_env)
    window = shell_key(run_env, "window")
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

    assert _stop(first, signal.SIGTERM) == 0
    assert _leftovers(var) == []
    assert _port_free(run_env["INTAKE_PORT"])
    assert _port_free(run_env["ROUTING_PORT"])
    assert _port_free(run_env["WORKER_METRICS_PORT"])
    assert not (var / "pg" / "postmaster.pid").exists()

    # A restart keeps every case; then a kill -9 of the supervisor leaves no orphans that block
    # the next run.
    again = _start(run_env)
    _wait_ready(run_env, again)
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
    _wait_ready(run_env, third)
    assert httpx.get(f"{intake}/api/v1/cases/{case['case_no']}", headers=window).status_code == 200
    assert _stop(third, signal.SIGINT) == 0
    assert _leftovers(var) == []
