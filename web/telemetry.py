"""The request middleware: a request id, one structured log line and the HTTP metrics per
request."""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import LATENCY, REQUESTS
from web.auth import KEY_ID
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
        outer = structlog.contextvars.get_contextvars()  # a caller in this task (tests' ASGI)
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
            route = getattr(scope.get("route"), "path", None) or _mounted(scope)
            method = scope.get("method", "")
            REQUESTS.labels(self.app_name, method, route, str(status)).inc()
            LATENCY.labels(self.app_name, method, route).observe(elapsed)
            case_no = (scope.get("path_params") or {}).get("case_no")
            key_id = scope.get(KEY_ID)
            log.info(
                "request",
                app=self.app_name,
                method=method,
                route=route,
                status=status,
                ms=round(elapsed * 1000, 1),
                **({"case_no": case_no} if case_no else {}),
                **({"key_id": key_id} if key_id else {}),
            )
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**outer)


def _mounted(scope: Scope) -> str:
    """A file of a mounted app (the offline docs' scripts and styles) by its mount, not as
    `unmatched`: that word is kept for paths nothing serves."""
    root = scope.get("root_path") or ""
    mounted = root != (scope.get("app_root_path") or "")  # a Mount lengthens the root path
    return f"{root}/*" if root and mounted else "unmatched"
