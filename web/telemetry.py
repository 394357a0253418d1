"""The request middleware: a request id, one structured log line and the HTTP metrics per
request."""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import LATENCY, REQUESTS
from web.middleware import HttpMiddleware

log = structlog.get_logger("gaodedim.http")


class RequestMiddleware(HttpMiddleware):
    """Counts, times and logs every request, and answers its X-Request-ID."""

    def __init__(self, app: ASGIApp, app_name: str) -> None:
        super().__init__(app)
        self.app_name = app_name

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"")
        request_id = given.decode("latin-1")[:64] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                # Answers carry applicants' data, workbooks and keys: no browser or proxy keeps
                # them, and none guesses a type other than the one we say (issue 26 #11).
                headers["X-Content-Type-Options"] = "nosniff"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            REQUESTS.labels(self.app_name, method, route, str(status)).inc()
            LATENCY.labels(self.app_name, method, route).observe(elapsed)
            log.info(
                "request", method=method, route=route, status=status, ms=round(elapsed * 1000, 1)
            )
            structlog.contextvars.clear_contextvars()
