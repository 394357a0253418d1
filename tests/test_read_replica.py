"""With STATS_DATABASE_URL set, the figures and the monthly report read that server (a
streaming replica in production) and nothing else does: here a second database stands in for
the replica, so what each route read is visible in its answer."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cli.local.embedded import ensure_database
from routing_api.app import create_app as create_routing
from services.apikey import service as apikeys
from shared.database import transaction
from shared.enums import Role
from shared.migrate import upgrade_async
from shared.principal import SYSTEM
from shared.settings import Settings
from tests.helpers.bodies import case_body
from tests.helpers.keys import KeyFactory
from tests.helpers.serving import Servers


async def test_figures_and_report_read_the_replica_and_cases_the_primary(
    servers: Servers,
    settings: Settings,
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    sample_departments: None,
) -> None:
    replica = await ensure_database(servers.admin_url, f"gaodedim_replica_{uuid.uuid4().hex[:8]}")
    await upgrade_async(replica)
    window = await make_key("window")
    created = await intake.post("/api/v1/cases", json=case_body(), headers=window)
    assert created.status_code == 201
    async with transaction(sessionmaker) as session:
        issued = await apikeys.issue(
            session, holder="test", issuer=SYSTEM, role=Role.supervisor, department=None
        )
    boss = {"Authorization": f"Bearer {issued.key}"}

    app = create_routing(settings.model_copy(update={"stats_database_url": replica}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://routing"
        ) as replica_side:
            ready = await replica_side.get("/readyz")
            assert ready.json()["checks"]["stats_database"] == "ok"
            # The key lives on the primary: authenticating it works (a 200, not a 401)…
            summary = await replica_side.get("/api/v1/stats/summary", headers=boss)
            assert summary.status_code == 200
            # …while the figures come from the replica, which has no case yet.
            assert summary.json()["received"] == 0
            report = await replica_side.get("/api/v1/reports/monthly?month=2026-11", headers=boss)
            assert report.json()["summary"]["received"] == 0
    # Without a replica the same figures read the primary, which has the case.
    on_primary = await routing.get("/api/v1/stats/summary", headers=boss)
    assert on_primary.json()["received"] == 1
