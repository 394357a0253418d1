"""SLA sweep at scale: 1,000,000 open cases, 100,000 of them past their sign deadline, and 1 in
100 of those reopened twice (so the sweep also raises 1,000 cases a level, 提级, each with its
督办单).

Measures (1) the cost of a sweep when nothing is due, (2) the time from the breach until every
yellow card is issued (and every escalation raised) by one worker process, and again (on a fresh
fill) by two worker processes sweeping at once. Starts its own embedded PostgreSQL in a
temporary directory (or uses DATABASE_URL).
Run: `.venv/bin/python bench/sla_bench.py [open] [breaching]`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _db import fresh_database
from sqlalchemy import text

from services.sla.runner import run_sweep
from shared.database import make_engine, make_sessionmaker
from shared.settings import Settings
from shared.timeutil import utcnow

SWEEPER = sys.argv[1:2] == ["--sweep"]
OPEN = int(sys.argv[1]) if len(sys.argv) > 1 and not SWEEPER else 1_000_000
BREACHING = int(sys.argv[2]) if len(sys.argv) > 2 and not SWEEPER else 100_000
DEPARTMENTS = 20
ESCALATING = f"CASE WHEN g <= {BREACHING} AND g % 100 = 0 THEN 2 ELSE 0 END"
"""Reopened twice: past the rule table's default `reopened: 2`, so raised once."""
DUE = (
    f"CASE WHEN g <= {BREACHING} THEN now() - interval '1 minute' "
    "ELSE now() + interval '3 days' END"
)


async def fill(url: str) -> None:
    engine = make_engine(
        Settings(_env_file=None, database_url=url, db_statement_timeout_ms=1_800_000), pool_size=1
    )
    async with engine.begin() as conn:
        for d in range(DEPARTMENTS):
            await conn.execute(
                text("INSERT INTO departments (code, name) VALUES (:c, :n)"),
                {"c": f"D{d}", "n": f"部门{d}"},
            )
        started = time.perf_counter()
        await conn.execute(
            text(f"""
            INSERT INTO cases (case_no, tracking_code, status, channel, description,
                               applicant_phone, applicant_type, lead_department,
                               first_responsible_department, reopen_count,
                               assigned_at, sign_due_at, handle_due_at, sla_next_check_at, routing,
                               created_at, updated_at)
            SELECT 'B-' || g, 'B' || lpad(g::text, 8, '0'), 'assigned', 'window', '压测',
                   '13800138001', 'individual',
                   'D' || (g % {DEPARTMENTS}), 'D' || (g % {DEPARTMENTS}), {ESCALATING},
                   now() - interval '3 hours',
                   {DUE}, now() + interval '7 days', {DUE},
                   '{{}}'::jsonb, now(), now()
            FROM generate_series(1, {OPEN}) AS g
        """)
        )
        await conn.execute(text("ANALYZE cases"))
        print(
            f"filled {OPEN:,} open cases ({BREACHING:,} breaching) "
            f"in {time.perf_counter() - started:.0f} s"
        )
    await engine.dispose()


async def measure(url: str) -> None:
    engine = make_engine(Settings(_env_file=None, database_url=url), pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    before = utcnow() - timedelta(minutes=10)  # nothing is due yet at this moment
    idle = []
    for _ in range(200):
        t0 = time.perf_counter()
        result = await run_sweep(sessionmaker, now=before)
        idle.append((time.perf_counter() - t0) * 1000)
        assert result.cases == 0
    async with engine.connect() as conn:
        plan = (
            (
                await conn.execute(
                    text(
                        "EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM cases "
                        "WHERE sla_next_check_at IS NOT NULL "
                        "AND sla_next_check_at <= now() - interval '10 minutes' "
                        "ORDER BY sla_next_check_at LIMIT 500"
                    )
                )
            )
            .scalars()
            .all()
        )
    print(
        f"idle sweep (nothing due, {OPEN:,} open cases): median {statistics.median(idle):.2f} ms, "
        f"p99 {sorted(idle)[int(len(idle) * 0.99)]:.2f} ms"
    )
    print(
        "  plan: "
        + " | ".join(
            line.strip()
            for line in plan
            if "Index" in line or "Buffers" in line or "Execution" in line
        )
    )

    await engine.dispose()
    await breach_to_cards(url, workers=1)


async def breach_to_cards(url: str, *, workers: int) -> None:
    """Every worker process sweeps until nothing is due; the time is until the last one ends."""
    started = time.perf_counter()
    procs = [
        await asyncio.create_subprocess_exec(sys.executable, __file__, "--sweep", url)
        for _ in range(workers)
    ]
    assert [await p.wait() for p in procs] == [0] * workers
    elapsed = time.perf_counter() - started
    engine = make_engine(Settings(_env_file=None, database_url=url), pool_size=1)
    async with engine.connect() as conn:
        cards, twice = (
            await conn.execute(
                text(
                    "SELECT count(*), count(*) - count(DISTINCT case_id) FROM cards "
                    "WHERE deadline = 'sign'"
                )
            )
        ).one()
        raised, raised_twice, orders = (
            await conn.execute(
                text(
                    "SELECT count(*), count(*) - count(DISTINCT case_id), "
                    "count(supervision_id) FROM escalations"
                )
            )
        ).one()
    await engine.dispose()
    print(
        f"breach → all cards: {BREACHING:,} cases swept in {elapsed:.1f} s "
        f"({BREACHING / elapsed:,.0f} cases/s, {workers} worker process(es)); {cards:,} yellow "
        f"cards, {twice} cases carded twice; {raised:,} escalations with {orders:,} orders, "
        f"{raised_twice} raised twice"
    )
    assert cards == BREACHING
    assert twice == 0
    assert raised == orders == BREACHING // 100
    assert raised_twice == 0


async def sweep(url: str) -> None:
    engine = make_engine(Settings(_env_file=None, database_url=url), pool_size=2)
    await run_sweep(make_sessionmaker(engine), now=datetime.now(UTC), batch=500)
    await engine.dispose()


async def refill(url: str) -> None:
    engine = make_engine(
        Settings(_env_file=None, database_url=url, db_statement_timeout_ms=1_800_000), pool_size=1
    )
    async with engine.begin() as conn:
        for table in (
            "cards",
            "escalations",
            "supervisions",
            "supervision_counters",
            "warnings",
            "case_events",
            "outbox",
            "stats_dirty_days",
            "cases",
            "departments",
        ):
            await conn.execute(text(f"TRUNCATE {table} CASCADE"))
    await engine.dispose()
    await fill(url)


def main() -> None:
    if sys.argv[1:2] == ["--sweep"]:
        asyncio.run(sweep(sys.argv[2]))
        return
    with fresh_database("gaodedim_bench") as url:
        asyncio.run(fill(url))
        asyncio.run(measure(url))
        asyncio.run(refill(url))
        asyncio.run(breach_to_cards(url, workers=2))


if __name__ == "__main__":
    main()
