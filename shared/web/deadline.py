"""Every request ends within REQUEST_TIMEOUT_SECONDS, whatever hangs beneath it.

Past the deadline the request's task is cancelled: its transaction is rolled back (the session
never reaches its commit), and the caller gets 503 problem+json with Retry-After, unless the
answer had already begun, in which case the connection is simply ended. Without this a frozen
database (SIGSTOP, a network partition) holds every caller until the operating system's TCP
timeout, and a POST whose caller gave up could commit minutes later.
"""

from __future__ import annotations

import asyncio

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web.problems import service_unavailable

log = structlog.get_logger("gaodedim.deadline")


class DeadlineMiddleware:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracked)
        except TimeoutError:
            log.warning("request_deadline", path=scope.get("path"), seconds=self.seconds)
            if started:
                raise
            response = service_unavailable(
                f"no answer within {self.seconds:g} s; nothing was saved, try again shortly"
            )
            await response(scope, receive, send)
