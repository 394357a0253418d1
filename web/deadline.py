"""Every request ends within REQUEST_TIMEOUT_SECONDS, whatever hangs beneath it.

Past the deadline the request's task is cancelled: its transaction is rolled back (the session
never reaches its commit), and the caller gets 503 problem+json with Retry-After, unless the
answer had already begun, in which case the connection is simply ended. Without this a frozen
database (SIGSTOP, a network partition) holds every caller until the operating system's TCP
timeout, and a POST whose caller gave up could commit minutes later.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.middleware import HttpMiddleware
from web.problems import service_unavailable

log = structlog.get_logger("gaodedim.deadline")


class DeadlineMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        super().__init__(app)
        self.seconds = seconds

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = expired = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if expired:
                return  # the caller has had its 503: nothing more goes out for this request
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        # The request runs as its own task so the answer goes at the deadline: cancelling it
        # runs its cleanup (a session closing its connection to a frozen database waits ~2 s),
        # and that happens after the 503 is sent, not before (issue 26 #18).
        request = asyncio.ensure_future(self.app(scope, receive, tracked))
        try:
            done, _ = await asyncio.wait({request}, timeout=self.seconds)
        except asyncio.CancelledError:
            request.cancel()
            raise
        if request in done:
            request.result()  # its exception, if it raised one, is the caller's
            return
        expired = True
        log.warning("request_deadline", path=scope.get("path"), seconds=self.seconds)
        request.cancel()
        if not started:
            response = service_unavailable(
                f"no answer within {self.seconds:g} s; nothing was saved, try again shortly"
            )
            await response(scope, receive, send)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await request  # its rollback and cleanup, after the caller has the answer
        if started:
            raise TimeoutError("the answer had begun when the deadline passed")
