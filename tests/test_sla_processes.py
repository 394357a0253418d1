"""Two sweeping processes, one killed mid-sweep: still exactly one yellow card per case; two
killed and two restarted: still exactly one card per overdue 督办单, per 协办 opinion owed past
its time, one escalation (with its one order) per threshold crossed, and one reopening per
不满意甄别 left undecided, and one card per 整改 left undone past its time."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.runner import run_sweep
from shared.models import Card, Escalation
from tests.helpers.processes import (
    CASES,
    breaching_cases,
    crossing_cases,
    lapsing_reviews,
    late_rectifications,
    overdue_orders,
    owed_assists,
)

pytestmark = pytest.mark.usefixtures("sample_departments")


async def test_two_workers_one_killed(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await breaching_cases(sessionmaker)
    now = datetime.now(UTC).isoformat()
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "-m", "cli", "sla", "sweep", "--now", now, "--batch", "10"]
    pipe = asyncio.subprocess.PIPE
    survivor = await asyncio.create_subprocess_exec(*command, env=env, stdout=pipe, stderr=pipe)
    victim = await asyncio.create_subprocess_exec(*command, env=env, stdout=pipe, stderr=pipe)
    # Kill the victim once cards are being issued, in the middle of its batches.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        async with sessionmaker() as session:
            issued = await session.scalar(select(func.count()).select_from(Card))
        if issued:
            break
        await asyncio.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    await victim.wait()
    _, err = await asyncio.wait_for(survivor.communicate(), 120)
    assert survivor.returncode == 0, err
    await run_sweep(sessionmaker, now=datetime.fromisoformat(now))  # what the killed one left

    async with sessionmaker() as session:
        total = await session.scalar(
            select(func.count()).select_from(Card).where(Card.deadline == "sign")
        )
        distinct = await session.scalar(
            select(func.count(func.distinct(Card.case_id))).where(Card.deadline == "sign")
        )
        pending = await session.scalar(
            text(
                "SELECT count(*) FROM cases WHERE sla_next_check_at <= now() - interval '1 minute'"
            )
        )
    assert victim.returncode == -signal.SIGKILL
    assert total == distinct == CASES
    assert pending == 0


async def two_killed_and_restarted(
    database_url: str, progress: Callable[[], Awaitable[int]]
) -> None:
    """Two sweeps started, both SIGKILLed once `progress` shows work done but not all of it,
    then two more run to the end."""
    now = datetime.now(UTC).isoformat()
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "-m", "cli", "sla", "sweep", "--now", now, "--batch", "10"]
    pipe = asyncio.subprocess.PIPE

    async def two() -> list[asyncio.subprocess.Process]:
        return [
            await asyncio.create_subprocess_exec(*command, env=env, stdout=pipe, stderr=pipe)
            for _ in range(2)
        ]

    first = await two()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if await progress():
            break
        await asyncio.sleep(0.05)
    for victim in first:
        victim.send_signal(signal.SIGKILL)
    assert [await victim.wait() for victim in first] == [-signal.SIGKILL, -signal.SIGKILL]
    assert 0 < await progress() < CASES  # killed in the middle, not before or after
    for restarted in await two():
        _, err = await asyncio.wait_for(restarted.communicate(), 120)
        assert restarted.returncode == 0, err


async def test_overdue_orders_two_workers_killed_and_restarted(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await overdue_orders(sessionmaker)

    async def carded() -> int:
        async with sessionmaker() as session:
            found = await session.scalar(
                select(func.count()).select_from(Card).where(Card.deadline == "supervision")
            )
        return found or 0

    await two_killed_and_restarted(database_url, carded)
    async with sessionmaker() as session:
        total, distinct = (
            await session.execute(
                select(func.count(), func.count(func.distinct(Card.supervision_id))).where(
                    Card.deadline == "supervision"
                )
            )
        ).one()
        grouped = await session.execute(
            text("SELECT status, count(*) FROM supervisions GROUP BY status")
        )
        statuses = {status: n for status, n in grouped.tuples()}
        noted = await session.scalar(
            text("SELECT count(*) FROM case_events WHERE action = 'supervision_overdue'")
        )
    assert total == distinct == CASES
    assert statuses == {"overdue": CASES}
    assert noted == CASES


async def test_escalations_two_workers_killed_and_restarted(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Cases reopened twice: each raised once, with one order and one history row, whatever
    the killed sweeps had half done."""
    await crossing_cases(sessionmaker)

    async def raised() -> int:
        async with sessionmaker() as session:
            return await session.scalar(select(func.count()).select_from(Escalation)) or 0

    await two_killed_and_restarted(database_url, raised)
    async with sessionmaker() as session:
        total, distinct = (
            await session.execute(
                select(func.count(), func.count(func.distinct(Escalation.case_id)))
            )
        ).one()
        orders = await session.scalar(
            text("SELECT count(DISTINCT case_id) FROM supervisions WHERE source = 'escalation'")
        )
        all_orders = await session.scalar(text("SELECT count(*) FROM supervisions"))
        noted = await session.scalar(
            text("SELECT count(*) FROM case_events WHERE action = 'escalated'")
        )
        levels = await session.scalar(
            text("SELECT count(*) FROM cases WHERE escalation_level = 'city'")
        )
    assert total == distinct == orders == all_orders == noted == levels == CASES


async def test_owed_assists_two_workers_killed_and_restarted(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """协办 opinions owed past their time: one card each for the co-department."""
    await owed_assists(sessionmaker)

    async def carded() -> int:
        async with sessionmaker() as session:
            found = await session.scalar(
                select(func.count()).select_from(Card).where(Card.deadline == "assist")
            )
        return found or 0

    await two_killed_and_restarted(database_url, carded)
    async with sessionmaker() as session:
        total, distinct = (
            await session.execute(
                select(func.count(), func.count(func.distinct(Card.assist_id))).where(
                    Card.deadline == "assist", Card.department == "GZ-GHZY"
                )
            )
        ).one()
        marked = await session.scalar(
            text("SELECT count(*) FROM assists WHERE overdue_at IS NOT NULL AND status = 'open'")
        )
        noted = await session.scalar(
            text(
                "SELECT count(*) FROM case_events WHERE action = 'yellow_card' "
                "AND data->>'deadline' = 'assist'"
            )
        )
    assert total == distinct == marked == noted == CASES


async def test_lapsed_rating_reviews_two_workers_killed_and_restarted(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """不满意甄别 nobody decided in time: each case reopened once, with one history row and one
    notice to its applicant, whatever was killed when."""
    await lapsing_reviews(sessionmaker)

    async def reopened() -> int:
        async with sessionmaker() as session:
            found = await session.scalar(
                text("SELECT count(*) FROM cases WHERE status = 'reopened'")
            )
        return found or 0

    await two_killed_and_restarted(database_url, reopened)
    async with sessionmaker() as session:
        cases, once, lapsed = (
            await session.execute(
                text(
                    "SELECT count(*), count(*) FILTER (WHERE reopen_count = 1), "
                    "count(*) FILTER (WHERE rating_outcome = 'lapsed' "
                    "AND rating_review_due_at IS NULL) FROM cases WHERE case_no LIKE 'L-%'"
                )
            )
        ).one()
        noted, distinct = (
            await session.execute(
                text(
                    "SELECT count(*), count(DISTINCT case_id) FROM case_events "
                    "WHERE action = 'reopen' AND data->>'outcome' = 'lapsed'"
                )
            )
        ).one()
        told = await session.scalar(
            text(
                "SELECT count(*) FROM outbox WHERE topic = 'applicant.notice' "
                "AND payload->>'event' = 'reopened'"
            )
        )
    assert cases == once == lapsed == noted == distinct == told == CASES


async def test_late_rectifications_two_workers_killed_and_restarted(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """整改 left undone past its time: one card and one history row each."""
    await late_rectifications(sessionmaker)

    async def carded() -> int:
        async with sessionmaker() as session:
            found = await session.scalar(
                select(func.count()).select_from(Card).where(Card.deadline == "rectification")
            )
        return found or 0

    await two_killed_and_restarted(database_url, carded)
    async with sessionmaker() as session:
        total, distinct = (
            await session.execute(
                select(func.count(), func.count(func.distinct(Card.rectification_id))).where(
                    Card.deadline == "rectification", Card.department == "GZ-GHZY"
                )
            )
        ).one()
        marked = await session.scalar(
            text("SELECT count(*) FROM rectifications WHERE overdue_at IS NOT NULL")
        )
        noted = await session.scalar(
            text("SELECT count(*) FROM rectification_events WHERE action = 'overdue'")
        )
    assert total == distinct == marked == noted == CASES
