"""The audit trail (issue 16): each response that shows personal data in clear, each unmasking
and each export writes exactly one row; nobody changes or removes a row younger than six
months; the auditor reads the trail and nothing else.

The trail is not emptied between tests (it refuses TRUNCATE), so each test reads the rows of
the keys it issued."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.audit import trail
from shared.database import transaction
from shared.settings import Settings
from sla_worker import worker as worker_module
from tests.helpers.bodies import ESTATE
from tests.helpers.keys import IssueFactory, Key

pytestmark = pytest.mark.usefixtures("sample_departments")


async def rows_of(routing: httpx.AsyncClient, auditor: Key, key: Key, **filters: str) -> Any:
    r = await routing.get(
        "/api/v1/audit", params={"key_id": str(key.id), **filters}, headers=auditor.headers
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_each_clear_read_writes_one_row_and_a_masked_one_none(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, keys: dict[str, Any], issue: IssueFactory
) -> None:
    window, supervisor, auditor = (
        await issue("window"),
        await issue("supervisor"),
        await issue("auditor"),
    )
    body = {**ESTATE, "applicant": {**ESTATE["applicant"], "id_number": "11010519491231002X"}}
    created = await intake.post("/api/v1/cases", json=body, headers=window.headers)
    assert created.status_code == 201, created.text
    no = created.json()["case_no"]
    assert created.json()["status"] == "assigned"  # shown as stored, then as routed: one answer
    registered = await rows_of(routing, auditor, window)
    assert len(registered) == 1  # the registration's answer showed the applicant in clear
    r = await intake.get(f"/api/v1/cases/{no}", headers=window.headers)
    assert r.json()["applicant"]["phone"] == "13800138001"
    (read, _) = await rows_of(routing, auditor, window)
    assert read["role"] == "window"
    assert read["operation"] == "GET /api/v1/cases/{case_no}"
    assert read["case_nos"] == [no]
    assert read["fields"] == ["id_number", "name", "phone", "tracking_code"]
    assert read["key_id"] == str(window.id)
    assert read["address"]
    listed = await intake.get("/api/v1/cases", headers=window.headers)
    assert [c["case_no"] for c in listed.json()["items"]] == [no]
    rows = await rows_of(routing, auditor, window)
    assert len(rows) == 3
    assert (rows[0]["operation"], rows[0]["case_nos"]) == ("GET /api/v1/cases", [no])

    masked = await intake.get(f"/api/v1/cases/{no}", headers=supervisor.headers)
    assert masked.json()["applicant"]["phone"] == "138****8001"
    assert await rows_of(routing, auditor, supervisor) == []
    lead = await intake.get(f"/api/v1/cases/{no}", headers=keys["bdc"])
    assert lead.status_code == 200
    by_case = (
        await routing.get(
            "/api/v1/audit", params={"case_no": no, "role": "department"}, headers=auditor.headers
        )
    ).json()["items"]
    assert by_case
    assert {r["role"] for r in by_case} == {"department"}


async def test_a_supervisor_unmasks_one_case_saying_why(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, issue: IssueFactory
) -> None:
    window, supervisor, auditor = (
        await issue("window"),
        await issue("supervisor"),
        await issue("auditor"),
    )
    no = (await intake.post("/api/v1/cases", json=ESTATE, headers=window.headers)).json()["case_no"]
    why = {"reason": "申诉复核需核实申请人身份(督查2026-118号)"}
    r = await intake.post(f"/api/v1/cases/{no}/unmask", json=why, headers=supervisor.headers)
    assert r.status_code == 200, r.text
    assert r.json()["applicant"]["phone"] == "13800138001"
    assert r.json()["history"]
    (row,) = await rows_of(routing, auditor, supervisor)
    assert (row["operation"], row["reason"], row["fields"]) == (
        "POST /api/v1/cases/{case_no}/unmask",
        why["reason"],
        ["name", "phone", "tracking_code"],
    )
    short = await intake.post(
        f"/api/v1/cases/{no}/unmask", json={"reason": "看看"}, headers=supervisor.headers
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "reason"
    for role in ("window", "admin", "dashboard", "auditor"):
        other = await issue(role)
        r = await intake.post(f"/api/v1/cases/{no}/unmask", json=why, headers=other.headers)
        assert r.status_code == 403, role
    rows = await rows_of(routing, auditor, supervisor)
    assert len(rows) == 1, [(r["operation"], r["fields"], r["subject"]) for r in rows]


async def test_an_export_writes_one_row(routing: httpx.AsyncClient, issue: IssueFactory) -> None:
    dashboard, auditor = await issue("dashboard"), await issue("auditor")
    for format in ("json", "xlsx"):
        r = await routing.get(
            "/api/v1/reports/monthly",
            params={"month": "2026-11", "format": format},
            headers=dashboard.headers,
        )
        assert r.status_code == 200
    rows = await rows_of(routing, auditor, dashboard)
    assert [r["operation"] for r in rows] == [
        "GET /api/v1/reports/monthly (monthly report 2026-11 xlsx)",
        "GET /api/v1/reports/monthly (monthly report 2026-11 json)",
    ]


async def test_the_auditor_reads_the_trail_and_nothing_else(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, issue: IssueFactory
) -> None:
    auditor, admin, window = await issue("auditor"), await issue("admin"), await issue("window")
    for path in ("/api/v1/cases", "/api/v1/sms-replies"):
        assert (await intake.get(path, headers=auditor.headers)).status_code == 403
    for path in ("/api/v1/stats/summary", "/api/v1/cards", "/api/v1/keys", "/api/v1/outbox"):
        assert (await routing.get(path, headers=auditor.headers)).status_code == 403
    for other in (admin, window):
        assert (await routing.get("/api/v1/audit", headers=other.headers)).status_code == 403
    await intake.post("/api/v1/cases", json=ESTATE, headers=window.headers)
    today = datetime.now(UTC).date()
    assert await rows_of(routing, auditor, window, role="window")
    assert await rows_of(routing, auditor, window, role="supervisor") == []
    before = {"from": "2000-01-01", "to": (today - timedelta(days=2)).isoformat()}
    assert await rows_of(routing, auditor, window, **before) == []
    r = await routing.get("/api/v1/audit", params={"limit": 1}, headers=auditor.headers)
    assert len(r.json()["items"]) == 1
    assert r.json()["next_cursor"]


async def test_nobody_changes_or_removes_a_row_and_the_worker_prunes_only_old_ones(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    marker = f"test-{uuid.uuid4()}"
    async with transaction(sessionmaker) as session:
        for age in (timedelta(days=400), timedelta(days=10)):
            await session.execute(
                text(
                    "INSERT INTO audit_log (at, role, operation, case_nos, fields) "
                    "VALUES (now() - CAST(:age AS interval), 'window', :op, '{}', '{}')"
                ),
                {"age": age, "op": marker},
            )
    for sql in (
        "UPDATE audit_log SET reason = 'x' WHERE operation = :op",
        "DELETE FROM audit_log WHERE operation = :op AND at > now() - interval '30 days'",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with transaction(sessionmaker) as session:
                await session.execute(text(sql), {"op": marker})
    async with transaction(sessionmaker) as session:
        # A setting shorter than six months is raised to six months, not obeyed.
        pruned = await trail.prune(session, older_than=timedelta(days=1))
        assert pruned >= 1
        left = await session.scalar(
            text("SELECT count(*) FROM audit_log WHERE operation = :op"), {"op": marker}
        )
    assert left == 1  # the ten-day-old row stays


def test_the_trail_is_kept_six_months_at_least() -> None:
    with pytest.raises(ValidationError, match="183 days"):
        Settings(_env_file=None, audit_retention="30 days")
    assert Settings(_env_file=None, audit_retention="183 days").audit_retention == "183 days"


async def test_the_worker_job_prunes_past_the_retention(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessionmaker) as session:
        await session.execute(
            text(
                "INSERT INTO audit_log (at, role, operation, case_nos, fields) "
                "VALUES (now() - interval '3 years', 'window', 'old', '{}', '{}')"
            )
        )
    assert await worker_module.prune_audit({"sessionmaker": sessionmaker}) >= 1
    async with sessionmaker() as session:
        assert (
            await session.scalar(text("SELECT count(*) FROM audit_log WHERE operation = 'old'"))
            == 0
        )


async def test_an_open311_keyed_read_writes_one_row_and_the_public_feed_none(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, issue: IssueFactory
) -> None:
    portal, auditor = await issue("portal"), await issue("auditor")
    secret = portal.headers["Authorization"].removeprefix("Bearer ")
    assert (await intake.get("/open311/v2/requests.json")).status_code == 200
    r = await intake.get("/open311/v2/requests.json", params={"api_key": secret})
    assert r.status_code == 200
    (row,) = await rows_of(routing, auditor, portal)
    assert row["operation"] == "GET /open311/v2/requests.{fmt} (open311 keyed read)"
    assert row["role"] == "portal"


async def test_a_replayed_answer_in_clear_writes_its_own_row(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, issue: IssueFactory
) -> None:
    """Sent again under its Idempotency-Key, the stored answer discloses the applicant again."""
    window, auditor = await issue("window", "GZ-BDC"), await issue("auditor")
    held = {**ESTATE, "hold": True}  # settled at once: a replay sends the stored answer
    headers = {**window.headers, "Idempotency-Key": "audit-replay-1"}
    first = await intake.post("/api/v1/cases", json=held, headers=headers)
    again = await intake.post("/api/v1/cases", json=held, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["applicant"]["phone"] == "13800138001"
    no = first.json()["case_no"]
    rows = await rows_of(routing, auditor, window)
    assert [(r["operation"], r["case_nos"]) for r in rows] == [("POST /api/v1/cases", [no])] * 2
