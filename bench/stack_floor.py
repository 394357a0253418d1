"""The stack's floor: what FastAPI + pydantic + asyncpg + an httpx hand-over reach on this
machine doing one registration's database work with nothing of ours around it (no auth, no
ORM, no middleware, no idempotency or routing rules; `_floor_apps.py`), against a fresh
database of the project's own schema, at the clients `intake_load.py` uses.

    python bench/stack_floor.py [--connections 32] [--seconds 15]

Needs `wrk` (Debian: `apt-get install wrk`). Four runs, one intake and one routing process
each: intake's transaction alone (no hand-over), then with the hand-over through httpx's own
pool, then through httpx over aiohttp's pool, then grouped as the service hands over (issue
32: a case goes alone while fewer than two hand-overs are on their way, otherwise up to 50
share one request, which routing settles in one set-based transaction). It bounds what the
service can reach here: the service does this work and more.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
from _db import fresh_database
from _stack import drive, free_port, process_cpu
from intake_load import LUA

HERE = Path(__file__).resolve().parent


def _serve(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(HERE),
            f"_floor_apps:{app}",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
        ],
        env=env,
    )


def run(client: str, dsn: str, connections: int, seconds: int, script: Path) -> dict[str, float]:
    """One variant at `connections` wrk clients: what it reached, printed and returned."""
    intake_port, routing_port = free_port(), free_port()
    env = dict(
        os.environ,
        FLOOR_DSN=dsn,
        FLOOR_CLIENT=client,
        FLOOR_ROUTING=f"http://127.0.0.1:{routing_port}",
    )
    procs = [_serve("intake", intake_port, env), _serve("routing", routing_port, env)]
    try:
        url = f"http://127.0.0.1:{intake_port}"
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{routing_port}/docs", timeout=1)
                httpx.get(f"{url}/docs", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        before = [process_cpu(p.pid) for p in procs]
        # The same requests as intake_load.py; the floor reads no key.
        load = drive(url, script, "unused-key", "0", connections=connections, seconds=seconds)
        cpu = [process_cpu(p.pid) - b for p, b in zip(procs, before, strict=True)]
        ok = max(load.ok, 1)
        result = {
            "rate": load.rate,
            "p50_ms": load.p50_us / 1000,
            "p99_ms": load.p99_us / 1000,
            "errors": load.non2xx + load.socket_errors,
            "intake_cpu_ms": 1000 * cpu[0] / ok,
            "routing_cpu_ms": 1000 * cpu[1] / ok,
        }
        print(
            f"{client:>13}, {connections:3} clients: {result['rate']:4.0f} registrations/s, "
            f"p50 {result['p50_ms']:4.0f} ms, p99 {result['p99_ms']:5.0f} ms, "
            f"{result['errors']:.0f} errors; CPU per registration: intake "
            f"{result['intake_cpu_ms']:.1f} ms, routing {result['routing_cpu_ms']:.1f} ms"
        )
        return result
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def floor(
    variants: list[str], connections: list[int], seconds: int
) -> dict[str, dict[int, dict[str, float]]]:
    """Each variant at each number of clients, on one fresh database."""
    results: dict[str, dict[int, dict[str, float]]] = {}
    with fresh_database("gaodedim_floor") as url:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        asyncio.run(_department(dsn))
        script = Path(os.environ.get("TMPDIR", "/tmp")) / f"floor-{os.getpid()}.lua"
        script.write_text(LUA)
        try:
            for client in variants:
                for n in connections:
                    results.setdefault(client, {})[n] = run(client, dsn, n, seconds, script)
        finally:
            script.unlink()
    return results


async def _department(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    await conn.execute("INSERT INTO departments (code, name) VALUES ('GZ-SCJG', '市场监管局')")
    await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", default="32", help="comma-separated, e.g. 4,32,128")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument(
        "--variants",
        default="none,httpx,httpx-aiohttp,grouped",
        help="comma-separated, of none, httpx, httpx-aiohttp, grouped",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    print(f"{args.seconds} s each, one process per API:")
    floor(
        args.variants.split(","),
        [int(n) for n in args.connections.split(",")],
        args.seconds,
    )


if __name__ == "__main__":
    main()
