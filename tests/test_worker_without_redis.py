"""Issue 26 #15: the worker keeps delivering the outbox and sweeping deadlines while Redis is
down, from the database, and goes back to arq when Redis returns; it never exits for it.

A real `python -m sla_worker` process, pointed at a Redis socket where nothing listens yet."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cli.local.embedded import EmbeddedRedis
from services.outbox import service as outbox
from shared.database import transaction
from shared.models import Card, OutboxMessage
from tests.helpers.processes import CASES, breaching_cases
from tests.helpers.serving import serve

pytestmark = pytest.mark.usefixtures("sample_departments")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _until(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.25)
    return False


async def test_the_worker_delivers_and_sweeps_while_redis_is_down(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    received: list[dict[str, Any]] = []
    department = FastAPI()

    @department.post("/hook")
    async def hook(request: Request) -> dict[str, str]:
        received.append(await request.json())
        return {"ok": "yes"}

    await breaching_cases(sessionmaker)
    redis = EmbeddedRedis(tmp_path / "redis")
    log = (tmp_path / "worker.log").open("wb")
    with serve(department) as url:
        async with transaction(sessionmaker) as session:
            outbox.enqueue(
                session,
                "department.notify",
                {"department": "GZ-BDC", "url": f"{url}/hook", "case_no": "GZ-1", "event": "x"},
            )
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": f"unix://{redis.socket}",  # nothing listens there yet
            "WORKER_METRICS_PORT": str(free_port()),
            "CALLBACK_ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "INFO",
        }
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sla_worker", env=env, stdout=log, stderr=log
        )
        try:

            async def swept_and_delivered() -> bool:
                async with sessionmaker() as session:
                    cards = await session.scalar(
                        select(func.count()).select_from(Card).where(Card.deadline == "sign")
                    )
                return cards == CASES and len(received) == 1

            if not await _until(swept_and_delivered, 30):
                async with sessionmaker() as session:
                    rows = (await session.execute(select(OutboxMessage))).scalars().all()
                    raise AssertionError(
                        [(r.topic, r.attempts, r.last_error, r.delivered_at) for r in rows]
                    )
            assert worker.returncode is None  # still running: it did not exit for Redis
            assert received[0]["case_no"] == "GZ-1"

            # Redis comes back: the worker returns to arq, and arq's kick is served again.
            redis.start()
            assert await _until(
                lambda: _logged(tmp_path / "worker.log", "redis_back_working_from_arq"), 30
            )
            async with transaction(sessionmaker) as session:
                outbox.enqueue(
                    session,
                    "department.notify",
                    {"department": "GZ-BDC", "url": f"{url}/hook", "case_no": "GZ-2", "event": "y"},
                )

            async def both() -> bool:
                # Received, and marked delivered (a SIGTERM between the two leaves the message
                # to be delivered again, as at-least-once delivery allows).
                return len(received) == 2 and await _undelivered(sessionmaker) == 0

            assert await _until(both, 30)
            worker.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(worker.wait(), 30) == 0
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
            redis.stop()
            log.close()
    assert await _undelivered(sessionmaker) == 0


async def _undelivered(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.topic == "department.notify",
                    OutboxMessage.delivered_at.is_(None),
                )
            )
            or 0
        )


async def _logged(path: Path, event: str) -> bool:
    text = await asyncio.to_thread(path.read_text, errors="replace")
    return event in text
