"""Dashboard figures over 1,000,000 cases: time per call of the stats queries, and the worker's
fold that keeps them cheap.

Fills a fresh embedded PostgreSQL (or DATABASE_URL) with two years of cases spread independently
over 11 districts, 40 departments, 8 categories and the statuses, then:
- times the first fold of all those days into the rollups (what migration 0007 leaves the worker
  on an existing database);
- times `summary`, `departments`, `categories` and `trend` for one month, one month in one
  district and all time, with every day folded (the steady state) and with today dirty after a
  day's worth of changes (the usual state between two folds);
- times a fold of one busy day, the domain gauges behind /metrics, and what the dirty-day
  trigger adds to inserting cases.
Run: `.venv/bin/python bench/stats_bench.py [cases]`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _db import fresh_database
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.stats import rollup, service
from shared.database import make_engine, make_sessionmaker
from shared.settings import Settings
from web.app import refresh_gauges

CASES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
DEPARTMENTS = 40
# Independent spreads (a seeded hash of g per attribute), two years of registrations.
FILL = """
INSERT INTO cases (case_no, tracking_code, status, channel, description, applicant_phone,
                   applicant_type, district, category, lead_department, resolution_note,
                   handle_due_at, replied_at, satisfaction, created_at, updated_at)
SELECT 'S-' || g, 'S' || lpad(g::text, 8, '0'),
       (ARRAY['closed','replied','signed','assigned','resolved_on_spot'])[1 + s % 5],
       'portal', '统计压测', '13800138001', 'individual',
       (ARRAY['越秀区','海珠区','荔湾区','天河区','白云区','黄埔区','番禺区','花都区',
              '南沙区','从化区','增城区'])[1 + abs(hashint8extended(g, 1)) % 11],
       (ARRAY['policy','system','materials','attitude','acceptance','consultation',
              'approval','multi_department'])[1 + abs(hashint8extended(g, 2)) % 8],
       CASE WHEN s % 5 = 4 THEN NULL ELSE 'D' || (abs(hashint8extended(g, 3)) % :depts) END,
       CASE WHEN s % 5 = 4 THEN '当场解决' END,
       t + interval '7 days',
       CASE WHEN s % 5 < 2 THEN t + ((g % 10) || ' days')::interval END,
       CASE WHEN s % 5 = 0 THEN (ARRAY['satisfied','basically_satisfied','unsatisfied'])[1 + g % 3]
       END, t, t
FROM (SELECT g, abs(hashint8extended(g, 4)) AS s,
             timestamptz '2025-01-01 08:00+08'
             + (abs(hashint8extended(g, 5)) % 730) * interval '1 day'
             + (g % 600) * interval '1 minute' AS t
      FROM generate_series(1::bigint, :n) AS g) AS x
"""
QUERIES = (service.summary, service.departments, service.categories, service.trend)
PERIODS = {
    "one month": service.Period(date(2026, 6, 1), date(2026, 6, 30)),
    "one month, one district": service.Period(date(2026, 6, 1), date(2026, 6, 30), "天河区"),
    "all time": service.Period(),
}


async def fold(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, float]:
    started = time.perf_counter()
    days = await rollup.refresh_all(sessionmaker)
    return days, time.perf_counter() - started


async def time_queries(sessionmaker: async_sessionmaker[AsyncSession], state: str) -> None:
    print(f"-- {state}")
    for label, period in PERIODS.items():
        for query in QUERIES:
            times = []
            for _ in range(7):
                async with sessionmaker() as session:
                    t0 = time.perf_counter()
                    await query(session, period)
                    times.append((time.perf_counter() - t0) * 1000)
            median, worst = statistics.median(times), max(times)
            print(f"{query.__name__:12} {label:24} median {median:7.1f} ms  max {worst:7.1f} ms")


async def run(url: str) -> None:
    settings = Settings(_env_file=None, database_url=url, db_statement_timeout_ms=1_800_000)
    engine = make_engine(settings, pool_size=2)
    async with engine.begin() as conn:
        for d in range(DEPARTMENTS):
            await conn.execute(
                text("INSERT INTO departments (code, name) VALUES (:c, :c)"), {"c": f"D{d}"}
            )
        started = time.perf_counter()
        await conn.execute(text(FILL), {"n": CASES, "depts": DEPARTMENTS})
        print(f"filled {CASES:,} cases in {time.perf_counter() - started:.0f} s")
    sessionmaker = make_sessionmaker(engine)
    days, seconds = await fold(sessionmaker)
    print(
        f"first fold: {days} days into the rollups in {seconds:.1f} s "
        f"({rollup.FOLD_DAYS} days a transaction)"
    )
    async with engine.connect() as conn:  # what autovacuum does after a bulk load
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))
    async with engine.begin() as conn:
        sizes = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM stats_by_day), "
                    "(SELECT count(*) FROM stats_by_department), "
                    "(SELECT count(*) FROM stats_by_category)"
                )
            )
        ).one()
    print(f"rollup rows: by day {sizes[0]:,}, by department {sizes[1]:,}, by category {sizes[2]:,}")
    await time_queries(sessionmaker, "every day folded")
    times = []
    for _ in range(5):
        async with sessionmaker() as session:
            t0 = time.perf_counter()
            await refresh_gauges(session, datetime.now(UTC))
            times.append((time.perf_counter() - t0) * 1000)
    print(
        f"/metrics domain gauges (once per METRICS_CACHE_SECONDS): "
        f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms"
    )

    # A busy day's changes on one day's cases (replies, ratings), not yet folded.
    async with engine.begin() as conn:
        changed = await conn.execute(
            text(
                "UPDATE cases SET satisfaction = 'satisfied', replied_at = created_at "
                "WHERE CAST(timezone('Asia/Shanghai', created_at) AS DATE) = DATE '2026-06-15'"
            )
        )
    print(f"changed {changed.rowcount:,} cases of 2026-06-15, not yet folded")
    await time_queries(sessionmaker, "one day dirty")
    days, seconds = await fold(sessionmaker)
    print(f"fold of {days} busy day: {seconds * 1000:.0f} ms")
    await trigger_cost(engine)
    await engine.dispose()


async def trigger_cost(engine: AsyncEngine) -> None:
    """What the dirty-day trigger adds to writing cases: 50,000 more, with and without it."""
    extra = 50_000
    for enabled in (True, False):
        async with engine.begin() as conn:
            if not enabled:
                await conn.execute(text("ALTER TABLE cases DISABLE TRIGGER cases_stats_insert"))
            offset = CASES + (0 if enabled else extra)
            started = time.perf_counter()
            await conn.execute(
                text(
                    FILL.replace(
                        "generate_series(1::bigint, :n)",
                        f"generate_series({offset + 1}::bigint, {offset} + :n)",
                    )
                ),
                {"n": extra, "depts": DEPARTMENTS},
            )
            took = time.perf_counter() - started
            if not enabled:
                await conn.execute(text("ALTER TABLE cases ENABLE TRIGGER cases_stats_insert"))
        label = "with" if enabled else "without"
        print(f"insert {extra:,} cases {label} the trigger: {took:.2f} s")


def main() -> None:
    with fresh_database("gaodedim_stats_bench") as url:
        asyncio.run(run(url))


if __name__ == "__main__":
    main()
