"""Dashboard figures over 1,000,000 cases: time per call of the stats queries.

Fills a fresh embedded PostgreSQL (or DATABASE_URL) with a year of cases spread over districts,
statuses and departments, then times `summary` and `departments` for one month, one month in
one district, and all time. Run: `.venv/bin/python bench/stats_bench.py [cases]`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _db import fresh_database
from sqlalchemy import text

from services.stats import service
from shared.database import make_engine, make_sessionmaker
from shared.settings import Settings

CASES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
FILL = """
INSERT INTO cases (case_no, tracking_code, status, channel, description, applicant_phone,
                   applicant_type, district, category, lead_department, resolution_note,
                   handle_due_at, replied_at, satisfaction, created_at, updated_at)
SELECT 'S-' || g, 'S' || lpad(g::text, 8, '0'),
       (ARRAY['closed','replied','signed','assigned','resolved_on_spot'])[1 + g % 5],
       'portal', '统计压测', '13800138001', 'individual',
       (ARRAY['越秀区','海珠区','天河区','黄埔区','番禺区'])[1 + g % 5],
       (ARRAY['policy','system','materials','acceptance'])[1 + g % 4],
       CASE WHEN g % 5 = 4 THEN NULL ELSE 'D' || (g % 20) END,
       CASE WHEN g % 5 = 4 THEN '当场解决' END,
       t + interval '7 days', CASE WHEN g % 5 < 2 THEN t + interval '5 days' END,
       CASE WHEN g % 5 = 0 THEN 'satisfied' END, t, t
FROM (SELECT g, timestamptz '2026-01-01 00:00+08' + (g % 365) * interval '1 day' AS t
      FROM generate_series(1, :n) AS g) AS s
"""


async def run(url: str) -> None:
    settings = Settings(_env_file=None, database_url=url, db_statement_timeout_ms=1_800_000)
    engine = make_engine(settings, pool_size=2)
    async with engine.begin() as conn:
        for d in range(20):
            await conn.execute(
                text("INSERT INTO departments (code, name) VALUES (:c, :c)"), {"c": f"D{d}"}
            )
        started = time.perf_counter()
        await conn.execute(text(FILL), {"n": CASES})
        await conn.execute(text("ANALYZE cases"))
        print(f"filled {CASES:,} cases in {time.perf_counter() - started:.0f} s")
    sessionmaker = make_sessionmaker(engine)
    periods = {
        "one month": service.Period(date(2026, 6, 1), date(2026, 6, 30)),
        "one month, one district": service.Period(date(2026, 6, 1), date(2026, 6, 30), "天河区"),
        "all time": service.Period(),
    }
    for label, period in periods.items():
        for name, query in (("summary", service.summary), ("departments", service.departments)):
            times = []
            for _ in range(5):
                async with sessionmaker() as session:
                    t0 = time.perf_counter()
                    await query(session, period)
                    times.append((time.perf_counter() - t0) * 1000)
            median, worst = statistics.median(times), max(times)
            print(f"{name:12} {label:24} median {median:7.1f} ms  max {worst:7.1f} ms")
    await engine.dispose()


def main() -> None:
    with fresh_database("gaodedim_stats_bench") as url:
        asyncio.run(run(url))


if __name__ == "__main__":
    main()
