"""Every request gets its own disclosure record (shared.audit); what a response showed in clear
after its transaction ended is written before the response's first byte, or the response is
not sent (503)."""

from __future__ import annotations

import structlog
from starlette.types import Message, Receive, Scope, Send

from shared import audit
from shared.database import transaction
from web.middleware import HttpMiddleware
from web.problems import problem_response

log = structlog.get_logger("gaodedim.audit")


class AuditMiddleware(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        disclosure = audit.begin(client[0] if client else None)
        refused = False

        async def send_recorded(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and disclosure.pending:
                try:
                    async with transaction(scope["app"].state.sessionmaker):
                        pass  # the transaction's own flush writes the row
                except Exception as exc:  # no row, no data
                    log.error("audit_write_failed", error_type=type(exc).__name__)
                    refused = True
                    response = problem_response(
                        503,
                        "Service unavailable",
                        "the access could not be recorded, so the data is not shown",
                    )
                    await response(scope, receive, send)
                    return
            if not refused:
                await send(message)

        try:
            await self.app(scope, receive, send_recorded)
        finally:
            # An app served in the caller's own task (tests' in-process transport) must not
            # leave this request's identity to whatever that task does next.
            audit.end()
