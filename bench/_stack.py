"""The service as `make run` starts it, on a fresh var dir (embedded PostgreSQL and Redis), with
the sample departments and rule table loaded: what the load benchmarks drive with wrk."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ADMIN = "bench-admin-key-0123456789abcdefgh"


@dataclass
class Stack:
    intake: str
    routing: str
    database_url: str
    tmp: Path
    env: dict[str, str]
    pid: int

    @property
    def psql_url(self) -> str:
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://")

    def key(self, role: str, department: str | None = None) -> str:
        """A key issued at the servers' shell, as an operator does (any role, 三员分立)."""
        where = ["--department", department] if department else []
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "cli.main",
                "keys",
                "create",
                "--role",
                role,
                *where,
                "--holder",
                "bench",
            ],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return str(json.loads(out.stdout)["key"])

    def cpu(self) -> dict[int, tuple[str, float]]:
        """CPU seconds used so far by each process under `gaodedim run` (and the embedded
        servers it started), with what it is: where a registration's time goes under load."""
        seen: dict[int, tuple[int, str, float]] = {}  # pid: parent, command line, CPU
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent, cpu = _stat(stat)
                cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            seen[int(stat.parent.name)] = (parent, cmd, cpu)
        # The embedded servers are started apart, in the run's own directory.
        ours = {self.pid} | {pid for pid, (_, cmd, _) in seen.items() if str(self.tmp) in cmd}
        grew = True
        while grew:
            more = {pid for pid, (parent, _, _) in seen.items() if parent in ours} - ours
            ours |= more
            grew = bool(more)
        return {
            pid: (next((name for marker, name in _PARTS if marker in cmd), "other"), cpu)
            for pid, (_, cmd, cpu) in seen.items()
            if pid in ours
        }

    @staticmethod
    def cpu_between(
        before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
    ) -> dict[str, float]:
        """CPU seconds each part spent between two `cpu()` readings (a process that ended in
        between is left out: the replay's sessions, the service's none)."""
        spent: dict[str, float] = {}
        for pid, (part, seconds) in after.items():
            spent[part] = spent.get(part, 0.0) + seconds - before.get(pid, (part, 0.0))[1]
        return spent

    def count(self, sql: str) -> int:
        out = subprocess.run(
            ["psql", self.psql_url, "-Atc", sql], capture_output=True, text=True, check=True
        )
        return int(out.stdout.strip())


_PARTS = (
    ("intake_api", "intake"),
    ("routing_api", "routing"),
    ("sla_worker", "worker"),
    ("postgres", "postgres"),
    ("redis", "redis"),
)


def _stat(path: Path) -> tuple[int, float]:
    """A process's parent and the CPU seconds it has used, from its `/proc/<pid>/stat`."""
    fields = path.read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """The CPU seconds process `pid` has used so far."""
    return _stat(Path(f"/proc/{pid}/stat"))[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "cli", *args], env=env, check=True, timeout=120)


def _wait_ready(intake: str, routing: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gaodedim run exited")
        try:
            if all(
                httpx.get(f"{u}/readyz", timeout=1).status_code == 200 for u in (intake, routing)
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("gaodedim run did not become ready")


def require(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install wrk postgresql-client")


@contextmanager
def running(processes: int) -> Iterator[Stack]:
    """`gaodedim run` with WEB_CONCURRENCY=processes, ready, stopped and removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="gdd-load-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        VAR_DIR=str(tmp / "var"),
        INTAKE_PORT=str(free_port()),
        ROUTING_PORT=str(free_port()),
        WORKER_METRICS_PORT=str(free_port()),
        BOOTSTRAP_ADMIN_KEY=ADMIN,
        LOG_LEVEL="WARNING",
        WEB_CONCURRENCY=str(processes),
    )
    intake = f"http://127.0.0.1:{env['INTAKE_PORT']}"
    routing = f"http://127.0.0.1:{env['ROUTING_PORT']}"
    log = (tmp / "run.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "run"], env=env, stdout=log, stderr=log, cwd=ROOT
    )
    try:
        _wait_ready(intake, routing, proc)
        _cli(env, "departments", "import", str(EXAMPLES / "departments.sample.json"))
        _cli(env, "rules", "import", str(EXAMPLES / "rules.sample.json"), "--publish")
        urls = dict(
            line.split("=", 1) for line in (tmp / "var" / "urls.env").read_text().splitlines()
        )
        yield Stack(intake, routing, urls["DATABASE_URL"], tmp, env, proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


WRK_DONE = r"""
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(99), latency.max))
end
"""
"""The end of every load script: one line `wrk` prints and `drive` reads."""


@dataclass
class Load:
    """What one wrk run measured; times in microseconds, as wrk gives them."""

    requests: int
    duration_us: int
    socket_errors: int
    non2xx: int
    p50_us: int
    p99_us: int
    max_us: int

    @property
    def ok(self) -> int:
        return self.requests - self.non2xx

    @property
    def rate(self) -> float:
        return self.ok / (self.duration_us / 1e6)


def drive(url: str, script: Path, *args: str, connections: int, seconds: int) -> Load:
    """`wrk` with 2 threads against `url`, the script (ending in WRK_DONE) given `args`."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
            "--",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if match is None:
        raise SystemExit(f"wrk printed no result: {out[-2000:]}")
    return Load(*map(int, match.groups()))


def replay(stack: Stack, script: str, *, connections: int, seconds: int) -> tuple[float, str]:
    """The database doing the same work: pgbench runs `script` (its statements) as fast as it
    can, with the clients wrk had. Returns transactions a second and the average latency."""
    path = stack.tmp / f"replay-{abs(hash(script))}.sql"
    path.write_text(script)
    done = subprocess.run(
        [
            "pgbench",
            "-n",
            "-f",
            str(path),
            f"-c{connections}",
            "-j2",
            f"-T{seconds}",
            stack.psql_url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    tps = re.search(r"tps = ([\d.]+)", done.stdout)
    if done.returncode or tps is None:
        raise SystemExit(f"pgbench failed: {done.stderr[-2000:]}")
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    return float(tps.group(1)), latency.group(1) if latency else "?"
