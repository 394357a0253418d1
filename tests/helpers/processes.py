"""The supervised servers (`python -m cli run`) started, waited for and stopped; many
breaching cases for the worker processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.database import transaction
from tests.helpers.bodies import EXAMPLES

CASES = 1000


def _cases(
    prefix: str,
    status: str,
    *,
    sign_due: str,
    next_check: str,
    more: dict[str, str] | None = None,
) -> str:
    """CASES cases `prefix`-1 … of GZ-BDC, assigned three days ago and due in five, with the
    given status, sign deadline, next check and further columns (SQL expressions)."""
    extra = more or {}
    columns = "".join(f", {c}" for c in extra)
    values = "".join(f", {v}" for v in extra.values())
    return f"""
        INSERT INTO cases (case_no, tracking_code, status, channel, description,
                           applicant_phone, applicant_type, lead_department,
                           first_responsible_department, assigned_at, sign_due_at,
                           handle_due_at, sla_next_check_at, routing, created_at,
                           updated_at{columns})
        SELECT '{prefix}-' || g, '{prefix}' || lpad(g::text, 7, '0'), '{status}', 'window',
               '测试', '13800138001', 'individual', 'GZ-BDC', 'GZ-BDC',
               now() - interval '3 days', {sign_due}, now() + interval '5 days', {next_check},
               '{{}}'::jsonb, now(), now(){values}
        FROM generate_series(1, {CASES}) AS g
    """


HOUR_AGO = "now() - interval '1 hour'"
IN_FIVE_DAYS = "now() + interval '5 days'"
SIGNED = "now() - interval '2 days'"


async def _insert(sessionmaker: async_sessionmaker[AsyncSession], *statements: str) -> None:
    async with transaction(sessionmaker) as session:
        for statement in statements:
            await session.execute(text(statement))


async def breaching_cases(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """CASES assigned cases whose sign deadline passed an hour ago."""
    await _insert(sessionmaker, _cases("T", "assigned", sign_due=HOUR_AGO, next_check=HOUR_AGO))


async def overdue_orders(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """CASES cases inside their deadlines, each with one 督办单 due an hour ago."""
    await _insert(
        sessionmaker,
        _cases("S", "signed", sign_due=SIGNED, next_check=IN_FIVE_DAYS),
        """
        INSERT INTO supervisions (order_no, case_id, department, level, source, reason,
                                  respond_within, due_at, status, issued_at)
        SELECT 'DB-20261118-' || lpad(substr(case_no, 3), 4, '0'), id, 'GZ-BDC', 'city',
               'order', '测试督办', '2 working_days', now() - interval '1 hour', 'open',
               now() - interval '3 days'
        FROM cases WHERE case_no LIKE 'S-%'
        """,
    )


async def owed_assists(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """CASES cases inside their deadlines, each waiting for 规划's opinion since an hour ago."""
    owed = "'{GZ-GHZY}'"
    await _insert(
        sessionmaker,
        _cases(
            "A",
            "signed",
            sign_due=SIGNED,
            next_check=IN_FIVE_DAYS,
            more={"co_departments": owed, "assists_owed": owed},
        ),
        """
        INSERT INTO assists (case_id, department, status, requested_at, due_at)
        SELECT id, 'GZ-GHZY', 'open', now() - interval '3 days', now() - interval '1 hour'
        FROM cases WHERE case_no LIKE 'A-%'
        """,
    )


async def crossing_cases(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """CASES signed cases of a city department, reopened twice and due for a look: each
    crosses the default `reopened: 2` threshold."""
    await _insert(
        sessionmaker,
        _cases("E", "signed", sign_due=SIGNED, next_check=HOUR_AGO, more={"reopen_count": "2"}),
    )


async def lapsing_reviews(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """CASES answers rated unsatisfied whose 不满意甄别 nobody decided: due an hour ago."""
    await _insert(
        sessionmaker,
        _cases(
            "L",
            "rating_review",
            sign_due=SIGNED,
            next_check=HOUR_AGO,
            more={
                "replied_at": "now() - interval '2 days'",
                "satisfaction": "'unsatisfied'",
                "rating_outcome": "'pending'",
                "rating_review_due_at": HOUR_AGO,
            },
        ),
    )


def leftovers(var: Path, *, ours: bool = False) -> list[psutil.Process]:
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


def wait_ready(env: dict[str, str], proc: subprocess.Popen[bytes]) -> None:
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


def stop(proc: subprocess.Popen[bytes], sig: int) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(60)
    finally:
        if proc.stdout:
            proc.stdout.close()


def shell_key(env: dict[str, str], role: str, *more: str) -> dict[str, str]:
    """A key issued at the servers' shell (`gaodedim keys create`), as an operator does."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", "keys", "create", "--role", role, "--holder", "test", *more],
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


ADMIN = "supervisor-test-admin-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def late_rectifications(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """CASES rectifications of 规划, undone and due an hour ago."""
    await _insert(
        sessionmaker,
        f"""
        INSERT INTO rectifications (title, problem, department, topic, status, due_days, due_at,
                                    created_at, updated_at)
        SELECT '整改' || g, '测试', 'GZ-GHZY', '{{违章,注记}}', 'open', 1,
               now() - interval '1 hour', now() - interval '2 days', now()
        FROM generate_series(1, {CASES}) AS g
        """,
    )
