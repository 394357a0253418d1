"""The stack with nothing of ours in it, for `stack_floor.py`: FastAPI, pydantic, bare asyncpg
and an httpx hand-over doing one registration's database work (the statements
`intake_load.py` replays with pgbench), with no auth, no ORM, no middleware, no rules."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from httpx_aiohttp import AiohttpTransport
from pydantic import BaseModel

DSN = os.environ["FLOOR_DSN"]
ROUTING = os.environ.get("FLOOR_ROUTING", "")
CLIENT = os.environ.get("FLOOR_CLIENT", "none")  # none | httpx | httpx-aiohttp | grouped


class Applicant(BaseModel):
    phone: str


class Body(BaseModel):
    channel: str
    district: str | None = None
    title: str | None = None
    description: str
    applicant: Applicant


_pools: list[asyncpg.Pool] = []
_clients: list[httpx.AsyncClient] = []
_lock = asyncio.Lock()


async def _pool() -> asyncpg.Pool:
    async with _lock:
        if not _pools:
            _pools.append(await asyncpg.create_pool(DSN, min_size=10, max_size=10))
    return _pools[0]


def _client() -> httpx.AsyncClient:
    if not _clients:
        transport = AiohttpTransport() if CLIENT in ("httpx-aiohttp", "grouped") else None
        _clients.append(httpx.AsyncClient(base_url=ROUTING, timeout=5, transport=transport))
    return _clients[0]


intake = FastAPI()
routing = FastAPI()


@intake.post("/api/v1/cases", status_code=201)
async def register(body: Body) -> JSONResponse:
    pool = await _pool()
    async with pool.acquire() as conn, conn.transaction():
        key = await conn.fetchval(
            "INSERT INTO idempotency_records (scope, key, request_hash) "
            "VALUES ('floor', gen_random_uuid()::text, 'h') RETURNING key"
        )
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('phone:' || $1))", body.applicant.phone
        )
        await conn.fetch(
            "SELECT id FROM cases WHERE applicant_phone = $1 AND status <> 'closed' "
            "AND created_at >= now() - interval '30 days' ORDER BY created_at DESC LIMIT 50 "
            "FOR UPDATE",
            body.applicant.phone,
        )
        stored = await conn.fetchrow(
            "INSERT INTO cases (case_no, tracking_code, status, channel, title, description, "
            "district, applicant_phone, applicant_type, co_departments, attachments, "
            "tracking_card, created_at, updated_at) VALUES ('FL-' || $6, 'T' || left(md5($6), 14), "
            "'registered', $1, $2, $3, $4, $5, 'individual', '{}', '[]', '{\"code\": \"x\"}', "
            "now(), now()) RETURNING id, case_no",
            body.channel,
            body.title,
            body.description,
            body.district,
            body.applicant.phone,
            key,
        )
        assert stored is not None
        case_id, case_no = stored["id"], stored["case_no"]
        await conn.execute(
            "INSERT INTO case_events (case_id, at, action, to_status, actor_role, data) "
            "VALUES ($1, now(), 'register', 'registered', 'window', '{\"channel\": \"window\"}')",
            case_id,
        )
        await conn.execute(
            "INSERT INTO outbox (topic, payload, available_at) VALUES ('case.registered', "
            "json_build_object('case_no', $1::text), now() + interval '10 seconds')",
            case_no,
        )
    answer: dict[str, Any] = {"case_no": case_no, "status": "registered"}
    if CLIENT == "grouped":
        answer = await _groups.route(case_no)
    elif CLIENT != "none":
        answer = (await _client().post(f"/route/{case_no}")).json()
    return JSONResponse(answer, status_code=201)


class _Groups:
    """The service's grouping with nothing else: a case goes alone while fewer than two
    hand-overs are on their way; otherwise it waits and the next to leave takes up to 50."""

    def __init__(self) -> None:
        self.waiting: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []
        self.flying = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def route(self, case_no: str) -> dict[str, Any]:
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting.append((case_no, answer))
        self._leave()
        return await answer

    def _leave(self) -> None:
        while self.waiting and self.flying < 2:
            group, self.waiting = self.waiting[:50], self.waiting[50:]
            self.flying += 1
            task = asyncio.create_task(self._send(group))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _send(self, group: list[tuple[str, asyncio.Future[dict[str, Any]]]]) -> None:
        try:
            if len(group) == 1:
                answers = [(await _client().post(f"/route/{group[0][0]}")).json()]
            else:
                sent = {"cases": [no for no, _ in group]}
                answers = (await _client().post("/route", json=sent)).json()["items"]
            for (_, answer), routed in zip(group, answers, strict=True):
                answer.set_result(routed)
        finally:
            self.flying -= 1
            self._leave()


_groups = _Groups()


@routing.post("/route/{case_no}")
async def route(case_no: str) -> dict[str, Any]:
    pool = await _pool()
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM cases WHERE case_no = $1 FOR UPDATE", case_no)
        assert row is not None
        await conn.execute(
            "UPDATE outbox SET delivered_at = now() WHERE payload ->> 'case_no' = $1 "
            "AND delivered_at IS NULL AND topic = 'case.registered'",
            case_no,
        )
        await conn.execute(
            "UPDATE cases SET status = 'assigned', lead_department = 'GZ-SCJG', "
            "updated_at = now(), sign_due_at = now() + interval '1 day', "
            "handle_due_at = now() + interval '5 days', "
            "sla_next_check_at = now() + interval '1 day', routing = '{\"rule_id\": \"x\"}' "
            "WHERE id = $1",
            row["id"],
        )
        await conn.execute(
            "INSERT INTO case_events (case_id, at, action, from_status, to_status, actor_role, "
            "data) VALUES ($1, now(), 'route', 'registered', 'assigned', 'system', "
            '\'{"rule_id": "x"}\')',
            row["id"],
        )
    return {"case_no": case_no, "status": "assigned", "lead_department": "GZ-SCJG"}


class Group(BaseModel):
    cases: list[str]


@routing.post("/route")
async def route_group(group: Group) -> dict[str, Any]:
    """The group in one transaction, set-based: one statement each to lock the cases, settle
    their messages, route them and write their events."""
    pool = await _pool()
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT * FROM cases WHERE case_no = ANY($1::text[]) ORDER BY id FOR UPDATE",
            group.cases,
        )
        ids = [row["id"] for row in rows]
        await conn.execute(
            "UPDATE outbox SET delivered_at = now() WHERE payload ->> 'case_no' = ANY($1::text[]) "
            "AND delivered_at IS NULL AND topic = 'case.registered'",
            group.cases,
        )
        await conn.execute(
            "UPDATE cases SET status = 'assigned', lead_department = 'GZ-SCJG', "
            "updated_at = now(), sign_due_at = now() + interval '1 day', "
            "handle_due_at = now() + interval '5 days', "
            "sla_next_check_at = now() + interval '1 day', routing = '{\"rule_id\": \"x\"}' "
            "WHERE id = ANY($1::bigint[])",
            ids,
        )
        await conn.execute(
            "INSERT INTO case_events (case_id, at, action, from_status, to_status, actor_role, "
            "data) SELECT id, now(), 'route', 'registered', 'assigned', 'system', "
            '\'{"rule_id": "x"}\' FROM unnest($1::bigint[]) AS id',
            ids,
        )
    return {
        "items": [
            {"case_no": no, "status": "assigned", "lead_department": "GZ-SCJG"}
            for no in group.cases
        ]
    }
