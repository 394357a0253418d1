from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from cli.local.embedded import ensure_database
from routing_api.app import create_app as create_routing
from shared.database import make_engine
from shared.migrate import upgrade_async
from shared.settings import Settings
from tests.helpers.bodies import case_body
from tests.helpers.keys import KeyFactory
from tests.helpers.serving import Servers


async def test_healthz_and_readyz_on_both_apps(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient
) -> None:
    for client in (intake, routing):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "schema": "ok", "redis": "ok"}


async def test_readyz_waits_for_the_migration(servers: Servers, settings: Settings) -> None:
    """A process started on a database its release has not migrated stays out of service (the
    rolling upgrade's new pods wait for the migration Job), and stays in service on a database
    a later release has migrated past its own head (the old pods keep serving meanwhile)."""
    name = f"gaodedim_unmigrated_{uuid.uuid4().hex[:8]}"
    url = await ensure_database(servers.admin_url, name)
    app = create_routing(settings.model_copy(update={"database_url": url}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://routing") as client:
            empty = await client.get("/readyz")
            assert empty.status_code == 503
            assert empty.json()["checks"]["schema"] == "not migrated"
            await upgrade_async(url)
            assert (await client.get("/readyz")).status_code == 200
            engine = make_engine(settings.model_copy(update={"database_url": url}))
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE alembic_version SET version_num = '9999_later'"))
            await engine.dispose()
            later = await client.get("/readyz")
            assert later.status_code == 200
            assert later.json()["checks"]["schema"] == "ok"


async def test_metrics_count_requests_and_cases(
    intake: httpx.AsyncClient, make_key: KeyFactory, sample_departments: None
) -> None:
    headers = await make_key("window")
    assert (
        await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    ).status_code == 201
    text = (await intake.get("/metrics")).text
    assert 'gaodedim_cases{status="registered"} 1.0' in text
    assert "gaodedim_stats_dirty_days 1.0" in text  # today, until the worker folds it
    assert (
        'gaodedim_http_requests_total{app="intake",method="POST",route="/api/v1/cases",status="201"}'
        in text
    )
    # The hand-over and the applicant's notice of the registration.
    assert 'gaodedim_outbox_messages{state="pending"} 2.0' in text
    assert "gaodedim_http_request_duration_seconds_bucket" in text
    assert 'gaodedim_cards_this_month{colour="yellow"} 0.0' in text
    assert "gaodedim_sla_sweep_lag_seconds 0.0" in text  # nothing is due: the case was not routed


async def test_openapi_docs_list_every_intake_call(intake: httpx.AsyncClient) -> None:
    assert (await intake.get("/docs")).status_code == 200
    paths = (await intake.get("/openapi.json")).json()["paths"]
    for path in [
        "/api/v1/cases",
        "/api/v1/cases/{case_no}",
        "/api/v1/cases/{case_no}/resolve-on-spot",
        "/api/v1/cases/{case_no}/out-of-scope",
        "/api/v1/cases/{case_no}/feedback",
        "/api/v1/track/{tracking_code}",
    ]:
        assert path in paths


async def test_domain_gauges_are_cached_between_scrapes(
    intake: httpx.AsyncClient, intake_app: object, make_key: KeyFactory, sample_departments: None
) -> None:
    settings = intake_app.state.settings  # type: ignore[attr-defined]
    await intake.get("/metrics")
    settings.metrics_cache_seconds = 3600
    try:
        await intake.post("/api/v1/cases", json=case_body(), headers=await make_key("window"))
        cached = (await intake.get("/metrics")).text
    finally:
        settings.metrics_cache_seconds = 0
    assert 'gaodedim_cases{status="registered"} 0.0' in cached  # not re-counted within the TTL
    fresh = (await intake.get("/metrics")).text
    assert 'gaodedim_cases{status="registered"} 1.0' in fresh


async def test_the_grafana_dashboard_only_uses_metrics_we_export(intake: httpx.AsyncClient) -> None:
    import json
    import re
    from pathlib import Path

    dashboard = json.loads(
        (Path(__file__).parent.parent / "deploy/grafana/gaodedim.json").read_text()
    )
    used = {
        re.sub(r"_(bucket|total)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"gaodedim_[a-z_]+", target["expr"])
    }
    exported = (await intake.get("/metrics")).text
    missing = [name for name in sorted(used) if f"# TYPE {name}" not in exported]
    assert missing == []


async def test_metrics_say_until_when_the_calendar_is_known_and_whether_ready(
    intake: httpx.AsyncClient, intake_app: object
) -> None:
    """What the alert rules read: the calendar's first unknown 1 January (the November alert to
    load next year) and the last readiness check."""
    import re
    from datetime import datetime

    from services.clock import years
    from shared.timeutil import SHANGHAI

    assert (await intake.get("/readyz")).status_code == 200
    state = intake_app.state  # type: ignore[attr-defined]
    state.gauges_read_at = float("-inf")
    text = (await intake.get("/metrics")).text
    assert "gaodedim_ready 1.0" in text
    found = re.search(r"^gaodedim_calendar_known_until_timestamp_seconds (\S+)$", text, re.M)
    assert found
    async with state.sessionmaker() as session:
        calendar = await years.load(session)
    now = state.clock().astimezone(SHANGHAI)
    first_unknown = calendar.first_unknown_year(now.year)
    assert not calendar.knows(first_unknown)
    assert all(calendar.knows(y) for y in range(now.year, first_unknown))
    assert float(found.group(1)) == datetime(first_unknown, 1, 1, tzinfo=SHANGHAI).timestamp()
