"""The hand-over client (httpx over aiohttp's pool) against a real routing server, a dead port
and a server that never answers: it routes, or gives up within its deadline."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from routing_api.app import create_app as create_routing
from shared.handover_groups import HandoverGroups
from shared.routing_client import RoutingUnavailable, make_client, request_routing
from shared.settings import Settings
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock
from tests.helpers.rules import routing_down
from tests.helpers.serving import serve

pytestmark = pytest.mark.usefixtures("sample_departments")


async def test_the_client_routes_over_real_http(
    settings: Settings,
    clock: ManualClock,
    intake_app: Any,
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
) -> None:
    async with routing_down(intake_app):
        case = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    assert case["status"] == "registered"
    with serve(create_routing(settings, clock)) as url:
        # What is tested is routing over real HTTP, not its deadline (the next test's): a
        # deadline as generous as a loaded CI machine needs for a just-started server.
        roomy = settings.model_copy(update={"routing_url": url, "routing_timeout_seconds": 15})
        async with make_client(roomy) as client:
            routed = await asyncio.gather(
                *(request_routing(client, case["case_no"]) for _ in range(8))
            )
    assert {(r["status"], r["lead_department"]) for r in routed} == {("assigned", "GZ-BDC")}


async def test_a_dead_port_or_a_silent_server_is_given_up_on_in_time(settings: Settings) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(30)  # reads the request, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for url in ("http://127.0.0.1:9", f"http://127.0.0.1:{port}"):
            quick = settings.model_copy(update={"routing_url": url, "routing_timeout_seconds": 0.5})
            async with make_client(quick) as client:
                started = time.monotonic()
                with pytest.raises(RoutingUnavailable):
                    await request_routing(client, "GZ-20261123-0001")
                assert await HandoverGroups(client).route("GZ-20261123-0001") is None
                assert time.monotonic() - started < 3
    finally:
        server.close()
        await server.wait_closed()
