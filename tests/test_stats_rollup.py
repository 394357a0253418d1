"""The daily rollups give the same figures as counting the cases, whatever changed and folded when.

The reference below recounts in Python from the case rows with the definitions written out
again, so a wrong measure, a column the trigger misses or a lost fold makes the two disagree.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.stats import rollup, service
from shared.database import transaction
from shared.models import Case, StatsByDay, StatsDirtyDay
from shared.timeutil import SHANGHAI
from sla_worker.worker import stats_refresh
from tests.helpers.cli import run_cli

pytestmark = pytest.mark.usefixtures("sample_departments")

DISTRICTS = ["越秀区", "海珠区", "天河区", None]
DEPARTMENTS = ["GZ-BDC", "GZ-SWJ", "GZ-RSJ", None]
CATEGORIES = ["policy", "system", "materials", None]
STATUSES = ["resolved_on_spot", "out_of_scope", "assigned", "signed", "replied", "closed"]
START = datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)
SATISFACTIONS = [
    "very_satisfied",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
    "very_unsatisfied",
]
OUTCOMES = ["pending", "reopened", "upheld", "lapsed"]


def random_case(rng: random.Random, n: int) -> Case:
    created = START + timedelta(days=rng.randrange(8), hours=rng.choice([0, 14, 15]))
    status = rng.choice(STATUSES)
    replied = status in ("replied", "closed") and rng.random() < 0.8
    due = created + timedelta(days=5) if rng.random() < 0.8 else None
    return Case(
        case_no=f"R-{n}",
        tracking_code=f"R{n:07d}",
        status=status,
        channel="window",
        description="随机",
        applicant_phone="13800138001",
        district=rng.choice(DISTRICTS),
        category=rng.choice(CATEGORIES),
        lead_department=rng.choice(DEPARTMENTS),
        resolution_note="当场" if status == "resolved_on_spot" else None,
        referred_to="法院" if status == "out_of_scope" else None,
        handle_due_at=due,
        replied_at=created + timedelta(days=rng.choice([2, 9])) if replied else None,
        satisfaction=rng.choice([None, *SATISFACTIONS]),
        resolved=rng.choice([None, True, False]),
        responded=rng.choice([None, True, False]),
        rating_outcome=rng.choice([None, *OUTCOMES]),
        merged_into=rng.choice([None, None, 1]),
        repeat_count=rng.choice([0, 0, 1, 3]),
        created_at=created,
        updated_at=created,
    )


async def seed(
    sessionmaker: async_sessionmaker[AsyncSession], seed: int, n: int
) -> tuple[random.Random, int]:
    """n random cases R-0 … R-(n-1); the generator goes on to pick the changes."""
    rng = random.Random(seed)
    async with transaction(sessionmaker) as session:
        session.add_all([random_case(rng, i) for i in range(n)])
    return rng, n


async def random_change(session: AsyncSession, rng: random.Random, n: int) -> None:
    """One workflow-like change to one case: any counted column, or only bookkeeping."""
    no = f"R-{rng.randrange(n)}"
    choice = rng.randrange(8)
    values: dict[str, Any]
    if choice == 0:
        values = {"status": rng.choice(STATUSES)}
    elif choice == 1:
        at = START + timedelta(days=rng.randrange(12))
        values = {"status": "replied", "replied_at": at}
    elif choice == 2:
        values = {"satisfaction": rng.choice(SATISFACTIONS)}
    elif choice == 3:
        values = {"lead_department": rng.choice(DEPARTMENTS), "category": rng.choice(CATEGORIES)}
    elif choice == 4:
        values = {"district": rng.choice(DISTRICTS), "repeat_count": rng.randrange(4)}
    elif choice == 6:
        values = {
            "resolved": rng.choice([None, True, False]),
            "responded": rng.choice([None, True, False]),
            "rating_outcome": rng.choice([None, *OUTCOMES]),
            "satisfaction": rng.choice(SATISFACTIONS),
            "merged_into": rng.choice([None, 1]),
        }
    elif choice == 5:
        values = {"created_at": START + timedelta(days=rng.randrange(8), hours=20)}
    else:
        values = {"sla_next_check_at": START, "updated_at": func.now()}
    await session.execute(update(Case).where(Case.case_no == no).values(**values))


def _day(c: Case) -> date:
    return c.created_at.astimezone(SHANGHAI).date()


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


async def reference(
    session: AsyncSession, period: service.Period
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[Any]]:
    """Summary, departments, categories and trend recounted from the rows, by hand."""
    rows = [
        c
        for c in (await session.execute(select(Case))).scalars()
        if (period.date_from is None or _day(c) >= period.date_from)
        and (period.date_to is None or _day(c) <= period.date_to)
        and (period.district is None or c.district == period.district)
        and (period.units is None or c.lead_department in period.units)
    ]

    def on_time(cases: list[Case]) -> int:
        return sum(
            1 for c in cases if c.replied_at and c.handle_due_at and c.replied_at <= c.handle_due_at
        )

    open_ = {"registered", "assigned", "signed", "suspended", "returned", "reopened"}
    timed = [c for c in rows if c.replied_at and c.handle_due_at]
    rated = [c for c in rows if c.satisfaction]
    good = ("very_satisfied", "satisfied", "basically_satisfied")

    def upheld(cases: list[Case]) -> int:
        return sum(
            1
            for c in cases
            if c.satisfaction in ("unsatisfied", "very_unsatisfied")
            and c.rating_outcome == "upheld"
        )

    def three_rates(cases: list[Case]) -> tuple[Any, ...]:
        """响应率, 解决率, 满意率 raw and with upheld answers set aside."""
        due = [c for c in cases if c.responded is not None]
        said = [c for c in cases if c.resolved is not None]
        rated_ = [c for c in cases if c.satisfaction]
        happy = sum(1 for c in rated_ if c.satisfaction in good)
        return (
            _rate(sum(1 for c in due if c.responded), len(due)),
            _rate(sum(1 for c in said if c.resolved), len(said)),
            _rate(happy, len(rated_)),
            _rate(happy, len(rated_) - upheld(rated_)),
        )

    asked = [c for c in rows if c.replied_at or c.resolution_note or c.referred_to]
    followed = [c for c in rows if c.lead_department]
    on_spot = sum(1 for c in rows if c.resolution_note)
    summary = {
        "received": len(rows),
        "matters": len(rows) - sum(1 for c in rows if c.merged_into is not None),
        "merged": sum(1 for c in rows if c.merged_into is not None),
        "resolved_on_spot": on_spot,
        "resolved_on_spot_rate": _rate(on_spot, len(rows)),
        "out_of_scope": sum(1 for c in rows if c.referred_to),
        "in_progress": sum(1 for c in rows if c.status in open_),
        "closed": sum(1 for c in rows if c.status == "closed"),
        "closed_on_time": on_time(timed),
        "closed_on_time_rate": _rate(on_time(timed), len(timed)),
        "satisfaction_rate": three_rates(rows)[2],
        "satisfaction_rate_upheld_aside": three_rates(rows)[3],
        "upheld": upheld(rows),
        "response_rate": three_rates(rows)[0],
        "responded": sum(1 for c in rows if c.responded is True),
        "response_due": sum(1 for c in rows if c.responded is not None),
        "resolution_rate": three_rates(rows)[1],
        "solved": sum(1 for c in rows if c.resolved is True),
        "solve_asked": sum(1 for c in rows if c.resolved is not None),
        "rated": len(rated),
        "asked_to_rate": len(asked),
        "rating_response_rate": _rate(len(rated), len(asked)),
        "followed_up": len(followed),
        "followed_up_resolved": sum(1 for c in followed if c.replied_at),
        "repeats": sum(c.repeat_count for c in rows),
    }
    departments: dict[str, Any] = {}
    for code in sorted({c.lead_department for c in followed if c.lead_department}):
        mine = [c for c in followed if c.lead_department == code]
        mine_timed = [c for c in mine if c.replied_at and c.handle_due_at]
        departments[code] = (
            len(mine),
            sum(1 for c in mine if c.status in open_),
            _rate(on_time(mine_timed), len(mine_timed)),
            *three_rates(mine),
        )
    categories: dict[Any, Any] = defaultdict(lambda: [0, 0, 0])
    for c in rows:
        categories[c.category][0] += 1
        categories[c.category][1] += c.status in open_
        categories[c.category][2] += bool(c.resolution_note)
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for c in rows:
        days[_day(c).isoformat()][0] += 1
        days[_day(c).isoformat()][1] += bool(c.resolution_note)
        days[_day(c).isoformat()][2] += c.replied_at is not None
    trend = [[d, *v] for d, v in sorted(days.items())]
    return summary, departments, {k: tuple(v) for k, v in categories.items()}, trend


async def figures(
    session: AsyncSession, period: service.Period
) -> tuple[dict[str, Any], dict[Any, Any], dict[Any, Any], list[Any]]:
    departments = {
        d.department: (
            d.cases,
            d.in_progress,
            d.on_time_rate,
            d.response_rate,
            d.resolution_rate,
            d.satisfaction_rate,
            d.satisfaction_rate_upheld_aside,
        )
        for d in await service.departments(session, period)
    }
    categories = {
        c.category: (c.cases, c.in_progress, c.resolved_on_spot)
        for c in await service.categories(session, period)
    }
    trend = [
        [d.date, d.received, d.resolved_on_spot, d.replied]
        for d in await service.trend(session, period)
    ]
    summary = (await service.summary(session, period)).model_dump()
    return summary, departments, categories, trend


PERIODS = [
    service.Period(),
    service.Period(date(2026, 11, 4), date(2026, 11, 6)),
    service.Period(date(2026, 11, 3), None, "天河区"),
    # 层级: a unit's figures, from the rollups by lead department (and category).
    service.Period(units=frozenset({"GZ-BDC", "GZ-SWJ"})),
    service.Period(date(2026, 11, 4), None, "天河区", frozenset({"GZ-BDC"})),
]


async def check(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        for period in PERIODS:
            assert await figures(session, period) == await reference(session, period), period
        statuses = Counter((await session.execute(select(Case.status))).scalars())
        assert await service.cases_by_status(session) == dict(statuses)


async def dirty_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(StatsDirtyDay)) or 0)


async def fold(sessionmaker: async_sessionmaker[AsyncSession]) -> list[date]:
    async with transaction(sessionmaker) as session:
        return await rollup.refresh(session)


async def test_the_trigger_watches_exactly_the_counted_columns(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        definition = await session.scalar(
            text(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'cases_stats_update'"
            )
        )
    watched = set(re.findall(r"old\.(\w+)", str(definition)))
    assert watched == set(re.findall(r"new\.(\w+)", str(definition)))
    assert watched == rollup.counted_columns()
    assert {"status", "replied_at", "handle_due_at", "satisfaction"} <= watched


async def test_only_counted_changes_mark_a_day(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessionmaker) as session:
        session.add(random_case(random.Random(1), 0))
    assert await dirty_rows(sessionmaker) == 1
    assert len(await fold(sessionmaker)) == 1
    assert await dirty_rows(sessionmaker) == 0
    async with transaction(sessionmaker) as session:
        await session.execute(
            update(Case).values(sla_next_check_at=START, updated_at=func.now(), reply="答复")
        )
    assert await dirty_rows(sessionmaker) == 0
    async with transaction(sessionmaker) as session:
        await session.execute(update(Case).values(repeat_count=Case.repeat_count + 1))
    assert await dirty_rows(sessionmaker) == 1


async def test_random_changes_and_folds_match_a_recount(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    rng, n = await seed(sessionmaker, 20261122, 160)
    await check(sessionmaker)  # every day dirty: counted live
    await fold(sessionmaker)
    assert await dirty_rows(sessionmaker) == 0
    await check(sessionmaker)  # every day from the rollups
    for _ in range(6):
        async with transaction(sessionmaker) as session:
            for _ in range(15):
                await random_change(session, rng, n)
        await check(sessionmaker)  # some days rolled up, some dirty
        if rng.random() < 0.7:
            await fold(sessionmaker)
            await check(sessionmaker)


async def test_writers_and_two_folders_at_once_lose_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, n = await seed(sessionmaker, 7, 120)
    stop = asyncio.Event()
    folded: list[int] = []

    async def writer(seed: int) -> None:
        mine = random.Random(seed)
        for _ in range(25):
            async with transaction(sessionmaker) as session:
                await random_change(session, mine, n)
                await random_change(session, mine, n)
            await asyncio.sleep(0)

    async def folder() -> None:
        while not stop.is_set():
            folded.append(len(await fold(sessionmaker)))
            await asyncio.sleep(0.005)

    folders = [asyncio.create_task(folder()) for _ in range(2)]
    await asyncio.gather(*(writer(s) for s in range(4)))
    await check(sessionmaker)  # mid-stream: whatever is folded or dirty, the figures are exact
    stop.set()
    await asyncio.gather(*folders)
    assert sum(folded) > 0
    await fold(sessionmaker)
    assert await dirty_rows(sessionmaker) == 0
    await check(sessionmaker)
    async with sessionmaker() as session:
        stored = {tuple(r) for r in (await session.execute(select(*_rollup_row(StatsByDay))))}
        recount = {tuple(r) for r in await session.execute(_recount_by_day())}
    assert stored == recount


def _rollup_row(model: type[StatsByDay]) -> list[Any]:
    return [model.day, model.district, *(getattr(model, m) for m in rollup.MEASURES)]


def _recount_by_day() -> Any:
    return rollup.counted(rollup.BY_DAY.overall)


async def test_the_worker_job_and_the_cli_fold(
    sessionmaker: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    await seed(sessionmaker, 3, 20)
    days = len({(START + timedelta(days=d)).date() for d in range(8)})
    assert await stats_refresh({"sessionmaker": sessionmaker}) <= days
    assert await dirty_rows(sessionmaker) == 0
    async with transaction(sessionmaker) as session:
        await session.execute(update(Case).where(Case.case_no == "R-0").values(status="closed"))
    r = run_cli(database_url, "stats", "refresh")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"days_refreshed": 1}
    assert await dirty_rows(sessionmaker) == 0
    await check(sessionmaker)


async def test_the_overdue_gauge_index_covers_every_open_status(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    from services.case.lifecycle import OPEN

    async with sessionmaker() as session:
        definition = await session.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_cases_open_handle_due_at'")
        )
    named = set(re.findall(r"'(\w+)'", str(definition)))
    assert named == {s.value for s in OPEN}


async def test_a_long_backlog_folds_a_month_a_transaction_newest_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    rng = random.Random(11)
    async with transaction(sessionmaker) as session:
        for i in range(45):
            case = random_case(rng, i)
            case.created_at = START - timedelta(days=i)
            session.add(case)
    first = await fold(sessionmaker)
    assert len(first) == rollup.FOLD_DAYS == 31
    newest = START.date()
    assert first == [newest - timedelta(days=i) for i in range(30, -1, -1)]
    await check(sessionmaker)  # half folded, half dirty: still exact
    assert await rollup.refresh_all(sessionmaker) == 14
    assert await dirty_rows(sessionmaker) == 0
    await check(sessionmaker)
