"""A case held at the window: routing waits while the window tries to settle it on the spot.

Without a hold a window case is routed the moment it is stored, so the window could never
resolve it on the spot once a rule table is published (and the seeds' centres solve 95% there).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.models import Case, OutboxMessage
from sla_worker import handlers
from sla_worker.dispatch import dispatch_all
from tests.helpers.bodies import ESTATE
from tests.helpers.db import count
from tests.helpers.serving import LOCAL, routing_client_for

pytestmark = pytest.mark.usefixtures("sample_departments")
HELD = {**ESTATE, "hold": True}


async def _held(intake: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> dict[str, Any]:
    r = await intake.post("/api/v1/cases", json=HELD, headers=keys["window"])
    assert r.status_code == 201, r.text
    case: dict[str, Any] = r.json()
    assert (case["status"], case["lead_department"]) == ("registered", None)
    assert "hand_over" in case["allowed_actions"]
    assert "resolve_on_spot" in case["allowed_actions"]
    held = datetime.fromisoformat(case["held_until"])
    created = datetime.fromisoformat(case["created_at"])
    assert held - created == timedelta(hours=1)  # WINDOW_HOLD's default
    return case


async def _run_worker(routing_app: Any, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with routing_client_for(routing_app) as up, httpx.AsyncClient() as http:
        await dispatch_all(sessionmaker, handlers.build(up, http, None, None, allowed=LOCAL))


async def _pass_the_hold(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The hour goes by: the delayed hand-over becomes due."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE outbox SET available_at = now() WHERE delivered_at IS NULL")
        )


async def test_a_held_case_is_resolved_on_the_spot_and_never_routed(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    routing_app: Any,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    case = await _held(intake, keys)
    no = case["case_no"]
    await _run_worker(routing_app, sessionmaker)  # nothing is due yet
    assert (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()[
        "status"
    ] == "registered"
    r = await intake.post(
        f"/api/v1/cases/{no}/resolve-on-spot", json={"note": "当场出具证明"}, headers=keys["window"]
    )
    assert (r.json()["status"], r.json()["held_until"]) == ("resolved_on_spot", None)
    await _pass_the_hold(sessionmaker)
    await _run_worker(routing_app, sessionmaker)  # the hand-over comes due: routing declines
    got = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    assert (got["status"], got["lead_department"]) == ("resolved_on_spot", None)
    assert [e["action"] for e in got["history"]] == ["register", "resolve_on_spot"]
    async with sessionmaker() as session:
        pending = await session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.delivered_at.is_(None), OutboxMessage.topic == "case.registered"
            )
        )
    assert pending is None
    summary = (
        await routing.get("/api/v1/stats/summary", headers=await _dashboard(keys, routing))
    ).json()
    assert (summary["resolved_on_spot"], summary["followed_up"]) == (1, 0)


async def _dashboard(keys: dict[str, dict[str, str]], routing: httpx.AsyncClient) -> dict[str, str]:
    r = await routing.post(
        "/api/v1/keys", json={"role": "dashboard", "holder": "t"}, headers=keys["security_admin"]
    )
    return {"Authorization": f"Bearer {r.json()['key']}"}


async def test_a_held_case_can_be_referred_out_of_scope(
    intake: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    no = (await _held(intake, keys))["case_no"]
    r = await intake.post(
        f"/api/v1/cases/{no}/out-of-scope",
        json={"referred_to": "人民法院", "explanation": "民事纠纷,须诉讼解决"},
        headers=keys["window"],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["held_until"]) == ("out_of_scope", None)


async def test_hand_over_routes_at_once(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    no = (await _held(intake, keys))["case_no"]
    r = await intake.post(f"/api/v1/cases/{no}/hand-over", headers=keys["window"])
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["status"], case["lead_department"], case["held_until"]) == (
        "assigned",
        "GZ-BDC",
        None,
    )
    history = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()["history"]
    assert [e["action"] for e in history] == ["register", "hand_over", "route"]
    again = await intake.post(f"/api/v1/cases/{no}/hand-over", headers=keys["window"])
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    # A case that was never held has nothing to hand over.
    plain = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    r = await intake.post(f"/api/v1/cases/{plain['case_no']}/hand-over", headers=keys["window"])
    assert r.status_code == 409
    # Only the window side may hand over.
    held = (await _held(intake, keys))["case_no"]
    r = await intake.post(f"/api/v1/cases/{held}/hand-over", headers=keys["bdc"])
    assert r.status_code == 403
    async with sessionmaker() as session:
        row = (await session.execute(select(Case).where(Case.case_no == held))).scalar_one()
    assert row.held_until is not None


async def test_routing_takes_the_case_when_the_hold_runs_out(
    intake: httpx.AsyncClient,
    routing_app: Any,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    no = (await _held(intake, keys))["case_no"]
    await _pass_the_hold(sessionmaker)
    await _run_worker(routing_app, sessionmaker)
    got = (await intake.get(f"/api/v1/cases/{no}", headers=keys["window"])).json()
    assert (got["status"], got["lead_department"], got["held_until"]) == (
        "assigned",
        "GZ-BDC",
        None,
    )
    assert "hand_over" not in got["allowed_actions"]


async def test_only_a_window_case_can_be_held(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    for body in ({**HELD, "channel": "portal"}, {**HELD, "hold": "yes"}):
        r = await intake.post("/api/v1/cases", json=body, headers=keys["window"])
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "hold"
    assert await count(sessionmaker, "cases") == 0


async def test_a_coordinator_assigning_a_held_case_ends_the_hold(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
) -> None:
    no = (await _held(intake, keys))["case_no"]
    r = await routing.post(
        f"/api/v1/cases/{no}/assign",
        json={"department": "GZ-SWJ", "reason": "涉税事项"},
        headers=keys["coordinator"],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["lead_department"], r.json()["held_until"]) == (
        "assigned",
        "GZ-SWJ",
        None,
    )
    assert "hand_over" not in r.json()["allowed_actions"]
