"""Logs an operator can follow (issue 31 #1): one request id from intake's registration through
routing's hand-over; each request line names its app, its case and the caller's key; a mounted
docs file is not `unmatched`; the console shows Shanghai time."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from shared.logging import configure
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock

pytestmark = pytest.mark.usefixtures("sample_departments")

FOLLOWED = [structlog.contextvars.merge_contextvars]


async def test_one_request_id_from_registration_through_the_hand_over(
    intake: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    with capture_logs(processors=FOLLOWED) as logs:
        r = await intake.post(
            "/api/v1/cases",
            json=ESTATE,
            headers={**keys["window"], "X-Request-ID": "desk-3-req-0042"},
        )
    assert r.status_code == 201, r.text
    no = r.json()["case_no"]
    lines = [line for line in logs if line["event"] == "request"]
    by_app = {line["app"]: line for line in lines}
    assert by_app["routing"]["route"] == "/api/v1/cases/{case_no}/route"
    assert by_app["routing"]["request_id"] == "desk-3-req-0042"  # the caller's id, carried on
    assert by_app["routing"]["case_no"] == no
    assert by_app["intake"]["request_id"] == "desk-3-req-0042"
    assert by_app["intake"]["key_id"] != by_app["routing"]["key_id"]  # the window's, the service's

    with capture_logs(processors=FOLLOWED) as logs:
        await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])
    (read,) = [line for line in logs if line["event"] == "request"]
    assert read["key_id"] == by_app["intake"]["key_id"]
    assert (read["app"], read["case_no"], read["route"]) == (
        "intake",
        no,
        "/api/v1/cases/{case_no}",
    )


async def test_a_docs_file_is_not_unmatched(intake: httpx.AsyncClient) -> None:
    page = (await intake.get("/docs")).text
    script = next(part.split('"')[0] for part in page.split('src="')[1:] if part.startswith("/"))
    with capture_logs(processors=FOLLOWED) as logs:
        assert (await intake.get(script)).status_code == 200
    (line,) = [line for line in logs if line["event"] == "request"]
    assert line["route"] != "unmatched"
    assert line["route"].endswith("/*")


def test_console_lines_show_shanghai_time_and_json_keeps_utc() -> None:
    try:
        console, machine = io.StringIO(), io.StringIO()
        configure("INFO", console, fmt="console")
        structlog.get_logger("t").info("tick")
        logging.getLogger("uvicorn.error").info("tock")
        configure("INFO", machine, fmt="json")
        structlog.get_logger("t").info("tick")
    finally:
        configure("INFO")
    assert console.getvalue().count("+08:00") == 2
    stamp = json.loads(machine.getvalue().splitlines()[0])["timestamp"]
    assert stamp.endswith("Z") or stamp.endswith("+00:00")


async def test_an_idle_worker_writes_nothing_however_often_its_jobs_run(
    sessionmaker: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """Idle, a worker runs about eighteen jobs a minute (the outbox, the sweep, keywords,
    rollups); each logs only what it did, and arq's own per-run lines are kept back, so an
    idle `make run` stays quiet after `ready:` (issue 31: fewer than ten lines a minute)."""
    from sla_worker.worker import WorkerSettings

    ctx: dict[str, Any] = {"sessionmaker": sessionmaker, "clock": clock, "handlers": {}}
    jobs = {job.coroutine for job in WorkerSettings.cron_jobs}
    assert len(jobs) >= 8
    for job in jobs:
        await job(ctx)  # the first run may have work left from the set-up (a partition)
    out = io.StringIO()
    configure("INFO", stream=out, fmt="json")
    try:
        for _ in range(6):  # a minute of the outbox's and the rollups' runs
            clock.advance(timedelta(seconds=10))
            for job in jobs:
                await job(ctx)
        logging.getLogger("arq.worker").info("  0.01s ← cron:sla_sweep ● 0")  # arq's idle line
        logging.getLogger("arq.jobs").info("cron:sla_sweep ● 0")
    finally:
        configure("INFO")
    assert out.getvalue() == ""
