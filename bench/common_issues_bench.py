"""共性问题 over a busy month: time per call, with keywords stored and computed on the fly.

Fills a fresh embedded PostgreSQL (or DATABASE_URL) with a month of complaints written from
topic templates plus noise (the shape of tests/test_common_issues.py, at scale), then times
`common_issues` over the month (it reads the newest 5,000) before and after the worker's
back-fill stores each case's keywords, and the back-fill's own rate.
Run: `.venv/bin/python bench/common_issues_bench.py [cases]`.
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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.stats import common_issues, service
from shared.database import make_engine, make_sessionmaker, transaction
from shared.settings import Settings

CASES = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
TEXTS = [
    "养老保险转移接续办不了,原单位缴费记录查不到",
    "异地养老保险关系转移,社保窗口说缺少参保凭证",
    "营业执照变更经营场所被拒",
    "用住宅地址申请营业执照不给受理",
    "公积金提取租房被拒,要求租赁备案",
    "离职后公积金账户封存无法提取",
    "不动产登记转移因违章注记办不了",
    "出入境证件预约不上,系统一直报错",
    "孩子入学资料审核不通过,不知道缺什么",
    "医保报销超时,材料交了三次",
    "残疾人补贴申请没有结果",
    "发票申领系统报错,税务窗口让回去等",
]
TAILS = ["", ",请尽快处理", ",已经跑了三次", ",影响很大", ",窗口工作人员态度不好"]
FILL = """
INSERT INTO cases (case_no, tracking_code, status, channel, title, description,
                   applicant_phone, applicant_type, created_at, updated_at)
SELECT 'C-' || g, 'C' || lpad(g::text, 8, '0'), 'registered', 'portal',
       left(t, 12), t, '13800138001', 'individual', at, at
FROM (SELECT g, texts[1 + abs(hashint8extended(g, 1)) % cardinality(texts)]
                || tails[1 + abs(hashint8extended(g, 2)) % cardinality(tails)] AS t,
             timestamptz '2026-06-01 08:00+08' + (g % 30) * interval '1 day'
             + (g % 600) * interval '1 minute' AS at
      FROM generate_series(1::bigint, :n) AS g,
           (SELECT CAST(:texts AS text[]) AS texts, CAST(:tails AS text[]) AS tails) AS words
     ) AS x
"""
JUNE = service.Period(date(2026, 6, 1), date(2026, 6, 30))


async def time_calls(sessionmaker: async_sessionmaker[AsyncSession], label: str) -> None:
    times = []
    for _ in range(5):
        async with sessionmaker() as session:
            t0 = time.perf_counter()
            topics = await common_issues.common_issues(session, JUNE)
            times.append((time.perf_counter() - t0) * 1000)
    print(
        f"common_issues, {label:26} median {statistics.median(times):6.0f} ms  "
        f"max {max(times):6.0f} ms  ({len(topics)} topics, largest {topics[0].cases} cases)"
    )


async def run(url: str) -> None:
    settings = Settings(_env_file=None, database_url=url, db_statement_timeout_ms=1_800_000)
    engine = make_engine(settings, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text(FILL), {"n": CASES, "texts": TEXTS, "tails": TAILS})
        await conn.execute(text("ANALYZE cases"))
    print(f"filled {CASES:,} cases in June 2026")
    sessionmaker = make_sessionmaker(engine)
    await time_calls(sessionmaker, "keywords computed")
    started, filled = time.perf_counter(), 0
    while True:
        async with transaction(sessionmaker) as session:
            batch = await common_issues.backfill_keywords(session)
        filled += batch
        if not batch:
            break
    took = time.perf_counter() - started
    print(f"back-fill: {filled:,} cases in {took:.1f} s ({filled / took:,.0f} cases/s)")
    await time_calls(sessionmaker, "keywords stored")
    await engine.dispose()


def main() -> None:
    with fresh_database("gaodedim_common_issues_bench") as url:
        asyncio.run(run(url))


if __name__ == "__main__":
    main()
