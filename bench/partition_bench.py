"""Cases by month against one table: the same cases, the same run, the service's own code.

1. Fills a fresh embedded PostgreSQL (or DATABASE_URL) with N cases over two years
   (stats_bench's spread) into the monthly partitions, with ids that carry their month as
   registrations draw them; 40% are open with a deadline check ahead, and `BREACHING` of them,
   spread over every month, are past their sign deadline.
2. Detaches the (empty) partition that migration 0002 made of the old table: one table with
   every index of the layout before partitioning, the unique case number and tracking code
   included. Copies the same cases, with the same ids, into it.
3. Times the same calls on each layout in turn (the tables swap names, the code does not
   change): the SLA sweep with nothing due and its 100,000 breaches to cards; a case by number;
   tracking by code; the first page of three lists; the /metrics gauges; folding one day of
   figures (the part of the statistics that reads cases: the dashboards read the rollups).

With `--migration`, instead fills the release before partitioning (with five history rows a
case) and times migration 0002 on it: what the upgrade of a city's database costs.

`--measure` measures a database a run filled on DATABASE_URL's server but stopped before measuring.

Run: `.venv/bin/python bench/partition_bench.py [--migration | --measure] [cases] [breaching]`.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _db import fresh_database
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.case import repository
from services.case.repository import CaseFilter
from services.sla.runner import run_sweep
from services.stats import rollup
from shared.database import make_engine, make_sessionmaker
from shared.enums import CaseStatus
from shared.migrate import upgrade
from shared.settings import Settings
from web.app import refresh_gauges

MIGRATION = "--migration" in sys.argv
MEASURE_ONLY = "--measure" in sys.argv
"""Measure a database an earlier run filled (DATABASE_URL's server keeps it): no refill."""
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
CASES = int(ARGS[0]) if ARGS else 1_000_000
BREACHING = int(ARGS[1]) if len(ARGS) > 1 else CASES // 100
DEPARTMENTS = 40
EVERY = max(CASES // BREACHING, 1)
FILL = f"""
INSERT INTO cases (ID case_no, tracking_code, status, channel, description, applicant_phone,
                   applicant_type, district, category, lead_department,
                   first_responsible_department, resolution_note, assigned_at, sign_due_at,
                   handle_due_at, sla_next_check_at, replied_at, satisfaction, routing,
                   created_at, updated_at)
SELECT IDS 'P-' || to_char(timezone('Asia/Shanghai', t), 'YYYYMMDD') || '-' || g,
       'P' || lpad(g::text, 9, '0'),
       CASE WHEN breach THEN 'assigned'
            ELSE (ARRAY['closed','replied','signed','assigned','resolved_on_spot'])[1 + s % 5] END,
       'portal', '分区压测', '13800138001', 'individual',
       (ARRAY['越秀区','海珠区','荔湾区','天河区','白云区','黄埔区','番禺区','花都区',
              '南沙区','从化区','增城区'])[1 + abs(hashint8extended(g, 1)) % 11],
       (ARRAY['policy','system','materials','attitude','acceptance','consultation',
              'approval','multi_department'])[1 + abs(hashint8extended(g, 2)) % 8],
       CASE WHEN s % 5 = 4 AND NOT breach THEN NULL
            ELSE 'D' || (abs(hashint8extended(g, 3)) % {DEPARTMENTS}) END,
       CASE WHEN s % 5 = 4 AND NOT breach THEN NULL
            ELSE 'D' || (abs(hashint8extended(g, 3)) % {DEPARTMENTS}) END,
       CASE WHEN s % 5 = 4 AND NOT breach THEN '当场解决' END,
       CASE WHEN breach THEN now() - interval '3 hours' END,
       CASE WHEN breach THEN now() - interval '1 minute' END,
       CASE WHEN breach THEN now() + interval '7 days' ELSE t + interval '7 days' END,
       CASE WHEN breach THEN now() - interval '1 minute'
            WHEN s % 5 IN (2, 3) THEN now() + interval '3 days' END,
       CASE WHEN s % 5 < 2 AND NOT breach THEN t + ((g % 10) || ' days')::interval END,
       CASE WHEN s % 5 = 0 AND NOT breach
            THEN (ARRAY['satisfied','basically_satisfied','unsatisfied'])[1 + g % 3] END,
       '{{}}'::jsonb, t, t
FROM (SELECT g, abs(hashint8extended(g, 4)) AS s, g % {EVERY} = 0 AS breach,
             timestamptz '2025-01-01 08:00+08'
             + (abs(hashint8extended(g, 5)) % 730) * interval '1 day'
             + (g % 600) * interval '1 minute' AS t
      FROM generate_series(1::bigint, {CASES}) AS g) AS x
ORDER BY t
"""
COLUMNS = """case_no, tracking_code, status, channel, description, applicant_phone, applicant_type,
district, category, lead_department, first_responsible_department, resolution_note,
assigned_at, sign_due_at, handle_due_at, sla_next_check_at, replied_at, satisfaction, routing,
created_at, updated_at"""
LONG = 3_600_000
"""Statement timeout for the fill and the copy (ms)."""


def engine_for(url: str, pool: int = 2) -> AsyncEngine:
    return make_engine(
        Settings(_env_file=None, database_url=url, db_statement_timeout_ms=LONG), pool_size=pool
    )


async def sql(url: str, *statements: str, autocommit: bool = False) -> float:
    engine = engine_for(url, 1)
    started = time.perf_counter()
    async with engine.connect() as conn:
        if autocommit:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for statement in statements:
            await conn.execute(text(statement))
        await conn.commit()
    await engine.dispose()
    return time.perf_counter() - started


async def fill(url: str, *, months: bool) -> None:
    departments = ", ".join(f"('D{d}', '部门{d}')" for d in range(DEPARTMENTS))
    statements = [f"INSERT INTO departments (code, name) VALUES {departments}"]
    if months:
        # A bulk load: the per-row triggers' work is done once, set-based, after it.
        statements += [
            "SELECT ensure_case_partitions(timestamptz '2025-01-01 00:00+08', 24)",
            "ALTER TABLE cases DISABLE TRIGGER USER",
            FILL.replace("ID ", "id, ").replace("IDS ", "cases_next_id(t), "),
            "ALTER TABLE cases ENABLE TRIGGER USER",
            "INSERT INTO tracking_codes (code, case_id) SELECT tracking_code, id FROM cases",
        ]
    else:
        statements.append(FILL.replace("ID ", "").replace("IDS ", ""))
        # Five history rows a case, as storage_bench's walk writes: the migration re-keys them.
        statements.append(
            "INSERT INTO case_events (case_id, at, action, to_status, actor_role) "
            "SELECT id, created_at + n * interval '1 hour', 'note', status, 'window' "
            "FROM cases, generate_series(1, 5) AS n"
        )
    # The figures are not what is compared (the dashboards read the rollups); what reads
    # cases is the fold of a day, timed below, and the gauges must not fold two years first.
    statements.append("TRUNCATE stats_dirty_days")
    took = await sql(url, *statements)
    where = "monthly partitions" if months else "one table, before partitioning"
    print(f"filled {CASES:,} cases ({where}) in {took:.0f} s")
    await sql(url, "VACUUM ANALYZE", autocommit=True)


async def one_table(url: str) -> None:
    """0002's partition of the old table, alone again, holds the same cases under the same ids."""
    took = await sql(
        url,
        "ALTER TABLE cases DETACH PARTITION cases_before",
        "ALTER TABLE cases_before ADD CONSTRAINT uq_cases_before_tracking_code "
        "UNIQUE (tracking_code)",
        "INSERT INTO cases_before SELECT * FROM cases",
    )
    print(f"copied {CASES:,} cases into one table in {took:.0f} s")
    await sql(url, "VACUUM ANALYZE cases_before", autocommit=True)
    sizes = await rows(
        url,
        "SELECT c.relname, c.reltuples::bigint FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'cases'::regclass "
        "ORDER BY c.reltuples DESC LIMIT 3",
    )
    print("largest partitions: " + ", ".join(f"{n} {r:,}" for n, r in sizes))


async def rows(url: str, query: str) -> list[Any]:
    engine = engine_for(url, 1)
    async with engine.connect() as conn:
        found = list((await conn.execute(text(query))).tuples())
    await engine.dispose()
    return found


async def swap(url: str, layout: str) -> None:
    """Name the layout to measure `cases`; the other waits under its own name."""
    if layout == "one table":
        await sql(
            url,
            "ALTER TABLE cases RENAME TO cases_months",
            "ALTER TABLE cases_before RENAME TO cases",
        )
    else:
        await sql(
            url,
            "ALTER TABLE cases RENAME TO cases_before",
            "ALTER TABLE cases_months RENAME TO cases",
        )


async def timed(
    label: str,
    calls: int,
    call: Callable[[AsyncSession], Awaitable[object]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    times = []
    async with sessionmaker() as session:
        for _ in range(calls):
            t0 = time.perf_counter()
            await call(session)
            times.append((time.perf_counter() - t0) * 1000)
            await session.rollback()
    times.sort()
    print(
        f"  {label:44} median {statistics.median(times):8.2f} ms"
        f"  p99 {times[int(len(times) * 0.99)]:8.2f} ms"
    )


async def measure(url: str, layout: str, samples: list[tuple[str, str]]) -> None:
    print(f"-- {layout}")
    engine = engine_for(url)
    sessionmaker = make_sessionmaker(engine)
    now = datetime.now(UTC)
    first_due = (await rows(url, "SELECT min(sla_next_check_at) FROM cases"))[0][0]
    before = first_due - timedelta(minutes=1)  # nothing is due yet at this moment
    numbers = iter(samples * 10)

    async def idle(session: AsyncSession) -> None:
        result = await run_sweep(sessionmaker, now=before)
        assert result.cases == 0

    async def by_number(session: AsyncSession) -> None:
        await repository.get_by_no(session, next(numbers)[0])

    async def by_code(session: AsyncSession) -> None:
        assert await repository.get_by_tracking_code(session, next(numbers)[1]) is not None

    def listing(filters: CaseFilter) -> Callable[[AsyncSession], Awaitable[object]]:
        async def first_page(session: AsyncSession) -> None:
            await repository.page(session, filters, limit=20, cursor=None, now=now)

        return first_page

    async def gauges(session: AsyncSession) -> None:
        await refresh_gauges(session, now)

    await timed("SLA sweep, nothing due", 200, idle, sessionmaker)
    await timed("a case by number", 500, by_number, sessionmaker)
    await timed("a case by tracking code", 500, by_code, sessionmaker)
    await timed("list, newest first", 100, listing(CaseFilter()), sessionmaker)
    await timed(
        "list, open ones",
        100,
        listing(CaseFilter(statuses=[CaseStatus.assigned, CaseStatus.signed])),
        sessionmaker,
    )
    await timed("list, one department", 100, listing(CaseFilter(department="D7")), sessionmaker)
    await timed("/metrics domain gauges", 5, gauges, sessionmaker)

    await sql(
        url,
        "TRUNCATE stats_dirty_days",
        "INSERT INTO stats_dirty_days (day) VALUES (DATE '2026-06-15')",
    )
    started = time.perf_counter()
    assert await rollup.refresh_all(sessionmaker) == 1
    print(f"  {'fold one day of figures':44} {(time.perf_counter() - started) * 1000:8.0f} ms")

    started = time.perf_counter()
    result = await run_sweep(sessionmaker, now=now, batch=500)
    elapsed = time.perf_counter() - started
    print(
        f"  {'breach → cards, one worker':44} {elapsed:8.1f} s for {result.cases:,} cases "
        f"({result.cases / elapsed:,.0f}/s)"
    )
    assert result.cases == BREACHING, result
    await engine.dispose()


async def migration(url: str) -> None:
    await fill(url, months=False)
    started = time.perf_counter()
    await asyncio.to_thread(upgrade, url)
    print(
        f"migration 0002 (partition by month) on {CASES:,} cases: "
        f"{time.perf_counter() - started:.1f} s"
    )


async def run(url: str) -> None:
    if not MEASURE_ONLY:
        await fill(url, months=True)
        await one_table(url)
    picked = await rows(
        url, f"SELECT case_no, tracking_code FROM cases TABLESAMPLE SYSTEM (1) LIMIT {500}"
    )
    random.Random(7).shuffle(picked)
    samples = [(str(n), str(c)) for n, c in picked]
    await measure(url, "monthly partitions", samples)
    # The second layout starts as the first did: no cards, history or messages from the sweep.
    await sql(url, "TRUNCATE cards, warnings, case_events, outbox")
    await swap(url, "one table")
    await measure(url, "one table", samples)
    await swap(url, "monthly partitions")


def main() -> None:
    print(f"{date.today()}: {CASES:,} cases, {BREACHING:,} breaching")
    revision = "0001_baseline" if MIGRATION else "head"
    with fresh_database("gaodedim_partition_bench", revision=revision) as url:
        asyncio.run(migration(url) if MIGRATION else run(url))


if __name__ == "__main__":
    main()
