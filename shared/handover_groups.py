"""Intake's hand-over to routing in groups (issue 32): one HTTP round trip to routing cost the
stack's floor two thirds of its registrations a second, so registrations that finish their
transaction at about the same time share one.

No timer: a registration that finds no hand-over on its way goes at once, alone, by the
single-case route, exactly as before grouping; only while `in_flight` hand-overs are already
on their way do later ones wait, and then the next that leaves takes every one waiting (up to
`most`) in one call to `POST /api/v1/cases/route`. So a quiet registration is never held, and
under load the groups grow with the load. Each caller gets its own case, or None when routing
did not route it (not reached, or that case failed): its outbox message routes it later.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from shared.routing_client import RoutingUnavailable, request_group, request_routing

log = structlog.get_logger("gaodedim.handover")


@dataclass
class _Waiting:
    case_no: str
    request_id: str | None
    answer: asyncio.Future[dict[str, Any] | None]


@dataclass
class HandoverGroups:
    client: httpx.AsyncClient
    most: int = 50
    """The largest group one call carries (the route operation takes up to 100)."""
    in_flight: int = 2
    """Hand-overs on their way at once before new ones wait to be grouped."""
    _waiting: list[_Waiting] = field(default_factory=list)
    _flying: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def route(self, case_no: str) -> dict[str, Any] | None:
        """The case as routing left it, or None when it was not routed now."""
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        answer: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(case_no, str(request_id) if request_id else None, answer))
        self._leave()
        # The caller may give up (its deadline): the group goes on for the others.
        return await asyncio.shield(answer)

    def _leave(self) -> None:
        while self._waiting and self._flying < self.in_flight:
            group, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
            self._flying += 1
            task = asyncio.create_task(self._send(group))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, group: list[_Waiting]) -> None:
        answers: dict[str, dict[str, Any] | None] = {}
        try:
            if len(group) == 1:
                only = group[0]
                answers[only.case_no] = await request_routing(
                    self.client, only.case_no, only.request_id
                )
            else:
                answers = await request_group(
                    self.client, [(w.case_no, w.request_id) for w in group]
                )
        except RoutingUnavailable as exc:
            log.warning(
                "handover_deferred", case_no=",".join(w.case_no for w in group), error=str(exc)
            )
        except Exception:  # never leave a caller waiting for ever
            log.exception("handover_failed", cases=len(group))
        finally:
            for waiting in group:
                if not waiting.answer.done():
                    waiting.answer.set_result(answers.get(waiting.case_no))
            self._flying -= 1
            self._leave()

    async def aclose(self) -> None:
        """Let the hand-overs on their way finish (their callers wait for them)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
