"""Cases by month (migration 0002): where a case lands, how it is found, and the worker's job
that makes the months before they begin."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case import partitions
from shared import metrics
from shared.timeutil import SHANGHAI
from sla_worker.worker import make_partitions
from tests.helpers.bodies import case_body
from tests.helpers.clock import ManualClock
from tests.helpers.keys import KeyFactory
from web.app import refresh_gauges

pytestmark = pytest.mark.usefixtures("sample_departments")


def suffix(day: date) -> str:
    return f"p{day.year:04d}{day.month:02d}"


async def where(session: AsyncSession, case_no: str) -> tuple[str, list[str]]:
    """The partition holding the case, and those holding its history."""
    case = (
        await session.execute(
            text("SELECT tableoid::regclass::text, id FROM cases WHERE case_no = :n"),
            {"n": case_no},
        )
    ).one()
    events = await session.scalars(
        text("SELECT DISTINCT tableoid::regclass::text FROM case_events WHERE case_id = :i"),
        {"i": case[1]},
    )
    return case[0], list(events)


async def register(intake: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_case_and_its_history_land_in_the_month_it_was_registered(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The worker's job makes the clock's month and three more; a case registered then goes
    to its month, its history with it, and is found by number and by tracking code."""
    ctx = {"sessionmaker": sessionmaker, "clock": clock}
    await make_partitions(ctx)
    assert await make_partitions(ctx) == 0  # nothing left to make: the job is idempotent
    month = clock().astimezone(SHANGHAI).date()
    async with sessionmaker() as session:
        made = set(
            await session.scalars(
                text("SELECT relname FROM pg_class WHERE relname ~ '^cases_p[0-9]{6}$'")
            )
        )
    for ahead in range(partitions.MONTHS_AHEAD + 1):
        first = date(
            month.year + (month.month - 1 + ahead) // 12, (month.month - 1 + ahead) % 12 + 1, 1
        )
        assert f"cases_{suffix(first)}" in made

    headers = await make_key("window")
    case = await register(intake, headers)
    async with sessionmaker() as session:
        assert await where(session, case["case_no"]) == (
            f"cases_{suffix(month)}",
            [f"case_events_{suffix(month)}"],
        )
    read = await intake.get(f"/api/v1/cases/{case['case_no']}", headers=headers)
    assert read.status_code == 200, read.text
    tracked = await intake.get(
        f"/api/v1/track/{case['tracking_code']}", params={"phone_last4": "8001"}
    )
    assert tracked.status_code == 200, tracked.text
    assert tracked.json()["case_no"] == case["case_no"]


async def test_new_years_eve_in_shanghai_is_still_december(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """23:30 on 31 December in Shanghai is 15:30 UTC: the case number says 31 December, so the
    id must say December too (months are Shanghai's, like case numbers); an hour later, both
    say January."""
    year = clock().astimezone(SHANGHAI).year
    ctx = {"sessionmaker": sessionmaker, "clock": clock}
    headers = await make_key("window")
    placed = []
    for moment in (
        datetime(year, 12, 31, 23, 30, tzinfo=SHANGHAI),
        datetime(year + 1, 1, 1, 0, 30, tzinfo=SHANGHAI),
    ):
        clock.set(moment)
        await make_partitions(ctx)
        case = await register(intake, headers)
        async with sessionmaker() as session:
            placed.append(
                (case["case_no"].split("-")[1], (await where(session, case["case_no"]))[0])
            )
    assert placed == [
        (f"{year}1231", f"cases_p{year}12"),
        (f"{year + 1}0101", f"cases_p{year + 1}01"),
    ]


async def test_the_ids_month_rule_is_the_same_in_python_and_in_the_database(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """`partitions.first_id` (look-ups by number) and `case_month_first_id` (ids, partitions)
    must agree, or a case would be looked for in the wrong month first."""
    moments = [
        datetime(2026, 12, 31, 15, 59, tzinfo=UTC),  # 23:59 in Shanghai
        datetime(2026, 12, 31, 16, 0, tzinfo=UTC),  # 00:00 on 1 January in Shanghai
        datetime(2000, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2099, 12, 31, 15, 0, tzinfo=UTC),
    ]
    async with sessionmaker() as session:
        for moment in moments:
            in_sql = await session.scalar(
                text("SELECT case_month_first_id(case_id_month(:t))"), {"t": moment}
            )
            assert in_sql == partitions.first_id(moment.astimezone(SHANGHAI).date()), moment


async def test_a_month_without_its_partition_still_registers_and_is_counted(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """If the job did not run for months, the month's cases go to the DEFAULT partition: the
    registration succeeds, the case is found, the gauge (and its alert) counts it, and the job
    goes on making the months after it instead of failing on it for ever."""
    far = datetime(clock().year + 20, 3, 10, 10, 0, tzinfo=SHANGHAI)  # no partition exists
    clock.set(far)
    headers = await make_key("window")
    case = await register(intake, headers)
    async with sessionmaker() as session:
        assert await where(session, case["case_no"]) == ("cases_default", ["case_events_default"])
        assert await partitions.in_default(session) == 1
        await refresh_gauges(session, far)
    assert metrics.CASES_IN_DEFAULT_PARTITION._value.get() == 1
    read = await intake.get(f"/api/v1/cases/{case['case_no']}", headers=headers)
    assert read.status_code == 200, read.text

    made = await make_partitions({"sessionmaker": sessionmaker, "clock": clock})
    assert made == partitions.MONTHS_AHEAD  # March stays in DEFAULT; April to June are made
    async with sessionmaker() as session:
        assert await session.scalar(text(f"SELECT to_regclass('cases_p{far.year}03')")) is None
        assert await session.scalar(text(f"SELECT to_regclass('cases_p{far.year}04')")) is not None
        assert await where(session, case["case_no"]) == ("cases_default", ["case_events_default"])
    clock.advance(timedelta(days=31))
    later = await register(intake, headers)
    async with sessionmaker() as session:
        assert (await where(session, later["case_no"]))[0] == f"cases_p{far.year}04"


async def test_a_case_number_from_another_month_is_still_found(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The look-up tries the month in the number first; a case whose id does not carry that
    month (stored by hand, or before partitioning) is still found by the second look."""
    headers = await make_key("window")
    case = await register(intake, headers)
    moved = case["case_no"].replace(case["case_no"].split("-")[1], "20200101")
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE cases SET case_no = :m WHERE case_no = :n"),
            {"m": moved, "n": case["case_no"]},
        )
    read = await intake.get(f"/api/v1/cases/{moved}", headers=headers)
    assert read.status_code == 200, read.text
    assert read.json()["tracking_code"] == case["tracking_code"]


def archive_block(month: str) -> list[str]:
    """The archiving statements exactly as docs/OPERATIONS.md gives them, for `month`."""
    guide = (Path(__file__).resolve().parent.parent / "docs" / "OPERATIONS.md").read_text()
    after = guide.split("**Archiving a month**", 1)[1]
    block = after.split("```sql\n", 1)[1].split("```", 1)[0].replace("202501", month)
    return [s.strip() for s in block.split(";") if s.strip()]


async def test_a_month_archived_as_the_guide_says_leaves_whole(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The guide's statements take a month's cases, history, cards and tracking codes away and
    leave the next month's as they were."""
    first = datetime(clock().year + 30, 1, 12, 10, 0, tzinfo=SHANGHAI)
    clock.set(first)
    await make_partitions({"sessionmaker": sessionmaker, "clock": clock})
    headers = await make_key("window")
    leaving = await register(intake, headers)
    clock.set(first + timedelta(days=31))
    staying = await register(intake, headers)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO cards (case_id, department, colour, deadline, month, points) "
                "SELECT id, 'GZ-BDC', 'yellow', 'sign', :m, 1 FROM cases WHERE case_no = :n"
            ),
            {"m": f"{first.year}-01", "n": leaving["case_no"]},
        )

    async with sessionmaker() as session, session.begin():
        for statement in archive_block(f"{first.year}01"):
            if statement not in ("BEGIN", "COMMIT"):
                await session.execute(text(statement))

    async with sessionmaker() as session:
        left = await session.scalar(
            text("SELECT count(*) FROM cases WHERE case_no = :n"), {"n": leaving["case_no"]}
        )
        cards = await session.scalar(text("SELECT count(*) FROM cards"))
        codes = list(await session.scalars(text("SELECT code FROM tracking_codes")))
        gone = await session.scalar(text(f"SELECT to_regclass('cases_p{first.year}01')"))
    assert (left, cards, gone) == (0, 0, None)
    assert codes == [staying["tracking_code"]]
    read = await intake.get(f"/api/v1/cases/{staying['case_no']}", headers=headers)
    assert read.status_code == 200, read.text
    assert [e["action"] for e in read.json()["history"]][:1] == ["register"]
