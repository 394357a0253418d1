"""Callbacks and webhooks reach public addresses only, unless an operator allowed a private one:
no 12345 order or department webhook makes the worker call the metadata service, our own APIs or
the intranet."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from typing import Any

import httpx
import pytest

from shared.urlguard import Allowed, RefusedTarget, ensure_deliverable, literal_problem
from tests.helpers.hotline import order, post
from tests.helpers.keys import KeyFactory

NOTHING = Allowed.parse("")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001/api/v1/keys",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/",
        "http://[::1]:8002/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0:8001/",
        "http://localhost:8002/",
        "http://api.localhost/",
        "ftp://8.8.8.8/",
    ],
)
def test_inward_targets_are_refused_as_written(url: str) -> None:
    assert literal_problem(url, NOTHING) is not None


def test_public_targets_and_allowed_private_ones_pass() -> None:
    assert literal_problem("https://12345.gz.gov.cn/api/orders/callback", NOTHING) is None
    assert literal_problem("http://8.8.8.8/hook", NOTHING) is None
    allowed = Allowed.parse("10.20.0.0/16, hotline.intranet")
    assert literal_problem("http://10.20.3.4/cb", allowed) is None
    assert literal_problem("http://hotline.intranet/cb", allowed) is None
    assert literal_problem("http://10.21.3.4/cb", allowed) is not None


def test_only_the_listed_ports_pass_when_ports_are_listed() -> None:
    egress = Allowed.parse("", "443, 80")
    assert literal_problem("https://hooks.example.gov.cn/a", egress) is None
    assert literal_problem("http://hooks.example.gov.cn/a", egress) is None
    problem = literal_problem("https://hooks.example.gov.cn:8443/a", egress)
    assert problem is not None
    assert "8443" in problem
    assert "CALLBACK_PORTS" in problem
    assert literal_problem("https://hooks.example.gov.cn:99999/a", NOTHING) is not None
    assert literal_problem("https://hooks.example.gov.cn:8443/a", NOTHING) is None  # any


@pytest.mark.parametrize("raw", ["0", "65536", "443,https", "４４３", "-1", "1e3"])
def test_a_port_list_that_is_not_ports_stops_the_service_at_start(raw: str) -> None:
    from pydantic import ValidationError

    from shared.settings import Settings

    with pytest.raises(ValidationError, match="callback_ports"):
        Settings(callback_ports=raw)


@pytest.mark.usefixtures("sample_departments")
async def test_a_webhook_on_a_port_the_worker_cannot_leave_by_is_refused_when_set(
    routing: httpx.AsyncClient, routing_app: Any, make_key: KeyFactory
) -> None:
    settings = routing_app.state.settings
    # Starlette's State keeps attributes in its own dict, so monkeypatch would delete it on
    # undo instead of restoring it: set and restore by hand.
    routing_app.state.settings = settings.model_copy(update={"callback_ports": "443,80"})
    try:
        admin = await make_key("admin")
        body = {"name": "广州市不动产登记中心", "webhook": "https://bdc.example.gov.cn:8443/hook"}
        r = await routing.put("/api/v1/departments/GZ-BDC", json=body, headers=admin)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "webhook"
        assert "8443" in r.json()["errors"][0]["message"]
        body["webhook"] = "https://bdc.example.gov.cn/hook"
        r = await routing.put("/api/v1/departments/GZ-BDC", json=body, headers=admin)
        assert r.status_code == 200, r.text
    finally:
        routing_app.state.settings = settings


async def test_a_name_that_resolves_inward_is_refused_at_delivery() -> None:
    name = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, 80)}
    if all(ipaddress.ip_address(str(a).split("%")[0]).is_global for a in addresses):
        pytest.skip(f"this machine's name resolves to public addresses only ({addresses})")
    with pytest.raises(RefusedTarget):
        await ensure_deliverable(f"http://{name}:8001/", NOTHING)
    await ensure_deliverable(f"http://{name}:8001/", Allowed.parse(name))  # unless allowed


async def test_a_hotline_order_with_an_inward_callback_is_refused(
    intake: httpx.AsyncClient,
) -> None:
    r = await post(intake, order(callback_url="http://169.254.169.254/latest/meta-data/"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "callback_url"


@pytest.mark.usefixtures("sample_departments")
async def test_a_department_webhook_inward_is_refused(
    routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    admin = await make_key("admin")
    r = await routing.put(
        "/api/v1/departments/GZ-BDC",
        json={"name": "广州市不动产登记中心", "webhook": "http://10.0.0.5/internal"},
        headers=admin,
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "webhook"


async def test_the_worker_sends_nothing_to_a_refused_target() -> None:
    """A message whose URL slipped in before the check (or whose name now points inward) is
    refused by the handler before any request: the local server sees nothing."""
    from sla_worker import handlers
    from sla_worker.dispatch import Handler

    received: list[bytes] = []

    async def listener(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(1000))
        writer.close()

    server = await asyncio.start_server(listener, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            jobs: dict[str, Handler] = handlers.build(http, http, "s", "s", allowed=NOTHING)
            payload: dict[str, Any] = {"url": f"http://127.0.0.1:{port}/", "event_id": 1}
            for topic in ("department.notify", "channel.callback"):
                with pytest.raises(RefusedTarget):
                    await jobs[topic](json.loads(json.dumps(payload)))
    finally:
        server.close()
    assert received == []
