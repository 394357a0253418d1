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


async def request_routing(client: httpx.AsyncClient, case_no: str) -> dict[str, Any]:
    """The case as routing left it (routed by this call or an earlier one)."""
    try:
        # The caller's request id goes along: one id in intake's, routing's and the worker's
        # lines for one registration.
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        headers = {"X-Request-ID": str(request_id)} if request_id else None
        async with asyncio.timeout(client.timeout.read or None):
            response = await client.post(f"/api/v1/cases/{case_no}/route", headers=headers)
    except TimeoutError as exc:
        raise RoutingUnavailable("timed out") from exc
    except (httpx.HTTPError, aiohttp.ClientError) as exc:  # an error the transport did not map
        raise RoutingUnavailable(f"{type(exc).__name__}") from exc
    if response.status_code == 200:
        body: dict[str, Any] = response.json()
        return body
    raise RoutingUnavailable(f"routing answered {response.status_code}: {response.text[:200]}")


async def try_routing(client: httpx.AsyncClient | None, case_no: str) -> dict[str, Any] | None:
    """Intake's immediate attempt right after the commit: the routed case (as the service key
    sees it), or None. Failure only delays routing: the outbox message written with the case
    makes the worker try again."""
    if client is None:
        return None
    try:
        return await request_routing(client, case_no)
    except RoutingUnavailable as exc:
        log.warning("handover_deferred", case_no=case_no, error=str(exc))
        return None
