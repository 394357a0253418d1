"""The sample rule table, published as an admin would, and routing made unreachable."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from shared.routing_client import make_client
from tests.helpers.bodies import EXAMPLES

SAMPLE_TABLE: dict[str, Any] = json.loads((EXAMPLES / "rules.sample.json").read_text())


async def publish(
    routing: httpx.AsyncClient, headers: dict[str, str], table: dict[str, Any] | None = None
) -> int:
    r = await routing.put("/api/v1/rules", json=table or SAMPLE_TABLE, headers=headers)
    assert r.status_code == 200, r.text
    r = await routing.post("/api/v1/rules/publish", headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


@asynccontextmanager
async def routing_down(intake_app: Any) -> AsyncIterator[None]:
    """Intake's hand-over calls a port nobody listens on, as when routing is down."""
    wired = intake_app.state.routing_client
    intake_app.state.routing_client = make_client(
        intake_app.state.settings.model_copy(
            update={"routing_url": "http://127.0.0.1:9", "routing_timeout_seconds": 0.5}
        )
    )
    try:
        yield
    finally:
        await intake_app.state.routing_client.aclose()
        intake_app.state.routing_client = wired
