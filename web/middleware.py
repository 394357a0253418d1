"""The base of the service's ASGI middlewares: plain ASGI, not Starlette's BaseHTTPMiddleware
(which runs each request through extra tasks and streams, a measurable share of a
registration's time), and for HTTP requests only: lifespan messages pass straight through."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One HTTP request, through this middleware to `self.app`."""
        raise NotImplementedError
