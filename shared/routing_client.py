"""Calling the routing service over HTTP (httpx), as intake and the worker both do.

The hand-over is `POST /api/v1/cases/{case_no}/route` with the service key. Routing is safe to
call twice for one case, so callers simply retry until it answers.

The client is httpx over aiohttp's connection pool (`httpx-aiohttp`): httpcore's own pool
checks every pooled connection on every request (httpcore 1.0, encode/httpcore#1035), which at
32 concurrent registrations cost intake more CPU than its database work. aiohttp's timeouts
bound each connect and each read, not the call, so the call has its own deadline as well.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import httpx
import structlog
from httpx_aiohttp import AiohttpTransport

from shared.settings import Settings

log = structlog.get_logger("gaodedim.handover")


class RoutingUnavailable(Exception):
    pass


def make_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=AiohttpTransport(limits=httpx.Limits(max_connections=100)),
        base_url=settings.routing_url,
        timeout=settings.routing_timeout_seconds,
        headers={"Authorization": f"Bearer {settings.service_key}"} if settings.service_key else {},
    )


def _followed(request_id: str | None) -> dict[str, str] | None:
    """The caller's request id goes along: one id in intake's, routing's and the worker's lines
    for one registration (by default the id of the request this task serves)."""
    request_id = request_id or structlog.contextvars.get_contextvars().get("request_id")
    return {"X-Request-ID": str(request_id)} if request_id else None


async def _post(client: httpx.AsyncClient, path: str, **kwargs: Any) -> dict[str, Any]:
    try:
        async with asyncio.timeout(client.timeout.read or None):
            response = await client.post(path, **kwargs)
    except TimeoutError as exc:
        raise RoutingUnavailable("timed out") from exc
    except (httpx.HTTPError, aiohttp.ClientError) as exc:  # an error the transport did not map
        raise RoutingUnavailable(f"{type(exc).__name__}") from exc
    if response.status_code == 200:
        body: dict[str, Any] = response.json()
        return body
    raise RoutingUnavailable(f"routing answered {response.status_code}: {response.text[:200]}")


async def request_routing(
    client: httpx.AsyncClient, case_no: str, request_id: str | None = None
) -> dict[str, Any]:
    """The case as routing left it (routed by this call or an earlier one)."""
    return await _post(client, f"/api/v1/cases/{case_no}/route", headers=_followed(request_id))


async def request_group(
    client: httpx.AsyncClient, cases: list[tuple[str, str | None]]
) -> dict[str, dict[str, Any] | None]:
    """Each case of `(case_no, request_id)` as routing left it, or None where routing could not
    route it (that case only: the others are routed all the same)."""
    body = {"cases": [{"case_no": no, "request_id": rid} for no, rid in cases]}
    answer = await _post(client, "/api/v1/cases/route", json=body, headers=_followed(cases[0][1]))
    return {item["case_no"]: item.get("case") for item in answer["items"]}
