"""Two sweeping processes, one killed mid-sweep: still exactly one yellow card per case."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.runner import run_sweep
from shared.database import transaction
from shared.models import Card

pytestmark = pytest.mark.usefixtures("sample_departments")
CASES = 1000


async def _breaching_cases(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessionmaker) as session:
        await session.execute(
            text(f"""
            INSERT INTO cases (case_no, tracking_code, status, channel, description,
                               applicant_phone, applicant_type, lead_department,
                               first_responsible_department,
                               assigned_at, sign_due_at, handle_due_at, sla_next_check_at, routing,
                               created_at, updated_at)
            SELECT 'T-' || g, 'T' || lpad(g::text, 7, '0'), 'assigned', 'window', '测试',
                   '13800138001', 'individual', 'GZ-BDC', 'GZ-BDC', now() - interval '3 hours',
                   now() - interval '1 hour', now() + interval '5 days', now() - interval '1 hour',
                   '{{}}'::jsonb, now(), now()
            FROM generate_series(1, {CASES}) AS g
        """)
        )


async def test_two_workers_one_killed(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _breaching_cases(sessionmaker)
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
