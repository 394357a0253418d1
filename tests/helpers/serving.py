"""How the tests reach the apps: the secrets the test settings hold, in-process clients that
check every answer against the OpenAPI, and a real HTTP server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from shared.urlguard import Allowed
from tests.conformance import Conformance

SERVICE_KEY = "test-service-key-0123456789abcdef"


LOCAL = Allowed.parse("127.0.0.1")
"""Callback targets the tests run on this machine; the service refuses loopback otherwise."""


HOTLINE_SECRET = "test-hotline-secret"


SMS_SECRET = "test-sms-push-secret"


def conformance_of(app: Any) -> Conformance:
    """One checker per app (it compiles the document once); see tests/conformance.py."""
    if not hasattr(app.state, "conformance"):
        app.state.conformance = Conformance(app)
    checker: Conformance = app.state.conformance
    return checker


def routing_client_for(routing_app: Any) -> httpx.AsyncClient:
    """What intake and the worker use to reach routing, wired to the in-process app."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=routing_app),
        base_url="http://routing",
        headers={"Authorization": f"Bearer {SERVICE_KEY}"},
        event_hooks={"response": [conformance_of(routing_app).hook]},
    )


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve `app` with a real uvicorn on a free 127.0.0.1 port (in a thread with its own event
    loop, lifespan included) for clients that speak real HTTP; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("uvicorn did not start in 20 s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Servers:
    admin_url: str
    redis_url: str
    tmp: Path


def checked_client(app: Any, base_url: str) -> httpx.AsyncClient:
    """A client of the in-process `app` whose every answer is checked against the app's
    OpenAPI document (status, media type, body), as a test receives it; a server error comes
    back as the 500 a caller would get, not as the exception."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url=base_url,
        event_hooks={"response": [conformance_of(app).hook]},
    )
