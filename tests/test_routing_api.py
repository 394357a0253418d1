"""The rule table over HTTP, the 20 sample cases end to end, and routing while routing is down."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case import service as cases
from services.case.schemas import CaseCreate
from shared.enums import Role
from shared.models import IdempotencyRecord, OutboxMessage
from shared.principal import Principal
from shared.routing_client import make_client
from sla_worker import handlers
from sla_worker.dispatch import dispatch_all
from tests.helpers.bodies import ESTATE, EXAMPLES, case_body
from tests.helpers.keys import KeyFactory
from tests.helpers.rules import SAMPLE_TABLE, publish, routing_down
from tests.helpers.serving import LOCAL, routing_client_for

pytestmark = pytest.mark.usefixtures("sample_departments")

SAMPLES = [json.loads(line) for line in (EXAMPLES / "cases.sample.jsonl").read_text().splitlines()]


@pytest.fixture
async def admin(make_key: KeyFactory) -> dict[str, str]:
    return await make_key("admin")


async def test_draft_publish_and_versions(
    routing: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert (await routing.get("/api/v1/rules", headers=admin)).json() == {
        "draft": None,
        "current_version": None,
        "current": None,
    }
    assert await publish(routing, admin) == 1
    again = await routing.post("/api/v1/rules/publish", headers=admin)
    assert again.status_code == 409  # the draft is the same as version 1
    changed = copy.deepcopy(SAMPLE_TABLE)
    changed["rules"][0]["priority"] = 5
    assert await publish(routing, admin, changed) == 2
    v1 = (await routing.get("/api/v1/rules/versions/1", headers=admin)).json()["table"]
    assert v1["rules"][0]["priority"] == 10  # old versions stay as they were
    state = (await routing.get("/api/v1/rules", headers=admin)).json()
    assert state["current_version"] == 2
    assert state["current"]["rules"][0]["priority"] == 5
    assert (await routing.get("/api/v1/rules/versions/9", headers=admin)).status_code == 404


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    table = copy.deepcopy(SAMPLE_TABLE)
    target: Any = table
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return table


@pytest.mark.parametrize(
    ("table", "field"),
    [
        (_broken(["rules", 2, "lead_department"], "GZ-NOPE"), "rules[2].lead_department"),
        (
            _broken(["rules", 4, "co_departments"], ["GZ-GHZY", "NOPE"]),
            "rules[4].co_departments[1]",
        ),
        (_broken(["rules", 3, "sla_policy"], "leisurely"), "rules[3].sla_policy"),
        (_broken(["rules", 5, "id"], "urgent-id-card"), "rules[5].id"),
        (
            _broken(["sla_policies", "standard", "handle_within"], "5 fortnights"),
            "sla_policies.standard.handle_within",
        ),
        (_broken(["sla_policies", "standard", "warn_at"], 1.5), "sla_policies.standard.warn_at"),
        (_broken(["fallback_department"], "NOPE"), "fallback_department"),
        (_broken(["rules", 0, "channels"], ["fax"]), "rules[0].channels[0]"),
        (_broken(["rules", 0, "urgent"], "yes"), "rules[0].urgent"),
        (_broken(["rules", 1, "colour"], "red"), "rules[1].colour"),
    ],
)
async def test_bad_drafts_name_the_rule_and_field(
    routing: httpx.AsyncClient, admin: dict[str, str], table: dict[str, Any], field: str
) -> None:
    r = await routing.put("/api/v1/rules", json=table, headers=admin)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert (await routing.get("/api/v1/rules", headers=admin)).json()["draft"] is None


async def test_only_editors_change_rules(routing: httpx.AsyncClient, make_key: KeyFactory) -> None:
    for role in ("window", "coordinator", "portal"):
        r = await routing.put("/api/v1/rules", json=SAMPLE_TABLE, headers=await make_key(role))
        assert r.status_code == 403


def _intake_body(sample: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sample.items() if not k.startswith("expected")}


@pytest.fixture
async def coordinator(
    routing: httpx.AsyncClient, admin: dict[str, str], make_key: KeyFactory
) -> dict[str, str]:
    """The sample table published, and a coordinator's key: the samples come from every
    channel, which only the window side may register all of."""
    await publish(routing, admin)
    return await make_key("coordinator")


async def test_the_twenty_sample_cases_route_as_expected(
    intake: httpx.AsyncClient, coordinator: dict[str, str]
) -> None:
    window = coordinator
    for sample in SAMPLES:
        r = await intake.post("/api/v1/cases", json=_intake_body(sample), headers=window)
        assert r.status_code == 201, r.text
        case = r.json()
        assert case["status"] == "assigned", sample["title"]
        assert case["lead_department"] == sample["expected_lead"], sample["title"]
        assert case["co_departments"] == sample.get("expected_co", []), sample["title"]
        routing_info = case["routing"]
        assert routing_info["rule_version"] == 1
        assert routing_info["rule_id"] or routing_info["fallback"]
        if "expected_sla" in sample:
            assert routing_info["sla_policy"] == sample["expected_sla"], sample["title"]
        assert case["first_responsible_department"] == (
            sample.get("intake_department") or sample["expected_lead"]
        )
        assert case["deadlines"]["handle_due_at"] or routing_info["deadline_alert"]
        history = (await intake.get(f"/api/v1/cases/{case['case_no']}", headers=window)).json()[
            "history"
        ]
        asked = ["assist_requested"] if case["co_departments"] else []  # 协办 tasks
        assert [e["action"] for e in history] == ["register", "route", *asked]
        assert history[1]["data"]["rule_id"] == routing_info["rule_id"]


async def test_urgent_and_vulnerable_cases_get_the_shorter_policy(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
) -> None:
    await publish(routing, admin)
    window = await make_key("window")
    body = case_body(title="营业执照办不下来", description="营业执照", intake_department=None)
    plain = (await intake.post("/api/v1/cases", json=body, headers=window)).json()
    urgent = (
        await intake.post("/api/v1/cases", json={**body, "urgent": True}, headers=window)
    ).json()
    assert plain["routing"]["sla_policy"] == "standard"
    assert urgent["routing"]["sla_policy"] == "urgent"
    assert urgent["routing"]["policy"]["handle_within"] == "24 hours"


async def test_routing_down_then_up_routes_every_case_once(
    intake_app: Any,
    intake: httpx.AsyncClient,
    routing_app: Any,
    routing: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await publish(routing, admin)
    window = await make_key("coordinator")  # the samples come from every channel
    async with routing_down(intake_app):
        created = [
            (await intake.post("/api/v1/cases", json=_intake_body(s), headers=window)).json()
            for s in SAMPLES[:6]
        ]
    assert {c["status"] for c in created} == {"registered"}  # stored, not lost

    down = make_client(
        intake_app.state.settings.model_copy(
            update={"routing_url": "http://127.0.0.1:9", "routing_timeout_seconds": 0.5}
        )
    )
    async with down, httpx.AsyncClient() as http:
        assert (
            await dispatch_all(sessionmaker, handlers.build(down, http, None, allowed=LOCAL)) == 0
        )  # still down
    async with routing_client_for(routing_app) as up, httpx.AsyncClient() as http:
        jobs = handlers.build(up, http, None, allowed=LOCAL)
        async with sessionmaker() as session, session.begin():  # make the retries due now
            await session.execute(text("UPDATE outbox SET available_at = now()"))
        assert await dispatch_all(sessionmaker, jobs) == 6
        assert await dispatch_all(sessionmaker, jobs) == 0

    for case, sample in zip(created, SAMPLES[:6], strict=True):
        got = (await intake.get(f"/api/v1/cases/{case['case_no']}", headers=window)).json()
        assert got["lead_department"] == sample["expected_lead"]
        assert [e["action"] for e in got["history"]].count("route") == 1
    again = await routing.post(f"/api/v1/cases/{created[0]['case_no']}/route", headers=admin)
    assert again.status_code == 200
    assert again.json()["routed"] is False


async def test_no_published_table_keeps_cases_registered(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    r = await intake.post("/api/v1/cases", json=case_body(), headers=await make_key("window"))
    assert r.json()["status"] == "registered"


async def test_explain_traces_every_rule_tried(
    routing: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await publish(routing, admin)
    r = await routing.post(
        "/api/v1/route/explain",
        headers=admin,
        json={
            "channel": "portal",
            "title": "个人独资企业注销登记卡在税务",
            "description": "注销登记一直办不了",
            "applicant_type": "enterprise",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["table"], body["rule_id"], body["lead_department"]) == (
        1,
        "business-licence",
        "GZ-SCJG",
    )
    assert [t["rule_id"] for t in body["rules"]][-1] == "business-licence"
    assert all(t["failed"] for t in body["rules"][:-1])
    assert body["sla_policy"] == "standard"
    r = await routing.post(
        "/api/v1/route/explain", headers=admin, json={"description": "x", "channel": "fax"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "channel"


async def test_simulate_a_draft_over_stored_cases(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    admin: dict[str, str],
    coordinator: dict[str, str],
) -> None:
    window = coordinator
    for sample in SAMPLES:
        await intake.post("/api/v1/cases", json=_intake_body(sample), headers=window)
    draft = copy.deepcopy(SAMPLE_TABLE)
    tax = next(r for r in draft["rules"] if r["id"] == "tax")
    tax["lead_department"] = "GZ-ZWFW"
    r = await routing.post("/api/v1/route/simulate", headers=admin, json={"table": draft})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["cases"] == 20
    assert result["moved"] == 1
    assert result["moves"][0]["from"] == "GZ-SWJ"
    assert result["moves"][0]["to"] == "GZ-ZWFW"
    assert result["moves"][0]["examples"][0]["new_rule"] == "tax"
    unchanged = await routing.post(
        "/api/v1/route/simulate", headers=admin, json={"table": SAMPLE_TABLE}
    )
    assert unchanged.json()["moved"] == 0


async def test_a_case_routed_at_once_is_routed_once(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Intake's direct hand-over routes the case; the hand-over message written with the case is
    settled in routing's transaction, so the worker has nothing left to send (no second call)."""
    await publish(routing, await make_key("admin"))
    r = await intake.post("/api/v1/cases", json=ESTATE, headers=await make_key("window"))
    assert r.json()["status"] == "assigned"
    async with sessionmaker() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.topic == "case.registered")
        )
    assert pending == 0
    calls: list[str] = []

    async def counting(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"routed": False})

    async with httpx.AsyncClient(transport=httpx.MockTransport(counting)) as http:
        assert (
            await dispatch_all(sessionmaker, handlers.build(http, http, None, allowed=LOCAL)) == 0
        )
    assert calls == []


async def _routing_message_due(
    sessionmaker: async_sessionmaker[AsyncSession], case_no: str
) -> bool | None:
    async with sessionmaker() as session:
        due: bool | None = await session.scalar(
            select(OutboxMessage.available_at <= func.now()).where(
                OutboxMessage.topic == "case.registered",
                OutboxMessage.payload["case_no"].astext == case_no,
            )
        )
    return due


async def test_the_routing_message_waits_while_intake_hands_over(
    intake_app: Any,
    intake: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Any,
) -> None:
    """Written with the case, the routing message is held back for HANDOVER_GRACE, so the
    worker's poll does not take it while intake's own call is routing the case (a second call
    for nothing); if intake never gets to hand over (it died), the worker routes the case after
    the grace."""
    async with sessionmaker() as session, session.begin():
        case = await cases.register(
            session,
            CaseCreate.model_validate(case_body()),
            actor=Principal(role=Role.window),
            now=clock(),
            numbers=intake_app.state.case_numbers,
        )
        case_no = case.case_no
    assert await _routing_message_due(sessionmaker, case_no) is False
    async with httpx.AsyncClient(transport=httpx.MockTransport(_refuse)) as http:
        assert (
            await dispatch_all(sessionmaker, handlers.build(http, http, None, allowed=LOCAL)) == 0
        )


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"nothing is due, yet {request.url} was called")


@pytest.fixture
async def window(
    routing: httpx.AsyncClient, admin: dict[str, str], make_key: KeyFactory
) -> dict[str, str]:
    """The sample table published, and a window key."""
    await publish(routing, admin)
    return await make_key("window")


async def test_a_failed_hand_over_frees_the_message_and_settles_the_answer(
    intake_app: Any,
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    admin: dict[str, str],
    window: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Routing did not answer: the worker may route the case at once, and the caller's
    idempotency record is final, so a replay answers what the first request answered without
    waiting for routing, also after the case has been routed."""
    headers = {**window, "Idempotency-Key": "down-then-up"}
    async with routing_down(intake_app):
        first = await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    assert first.json()["status"] == "registered"
    case_no = first.json()["case_no"]
    assert await _routing_message_due(sessionmaker, case_no) is True
    async with sessionmaker() as session:
        settled = await session.scalar(
            select(IdempotencyRecord.settled).where(IdempotencyRecord.key == "down-then-up")
        )
    assert settled is True
    replay = await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    assert replay.json() == first.json()

    routed = await routing.post(f"/api/v1/cases/{case_no}/route", headers=admin)
    assert routed.json()["routed"] is True
    later = await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    assert later.headers["idempotent-replayed"] == "true"
    assert later.json() == first.json()


async def test_a_routed_registration_writes_its_idempotency_record_once(
    intake: httpx.AsyncClient,
    window: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """When routing answers in time nothing is written after intake's commit: the record keeps
    intake's answer, unsettled, and a replay reads the routed case itself."""
    headers = {**window, "Idempotency-Key": "routed-once"}
    first = await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    assert first.json()["status"] == "assigned"
    async with sessionmaker() as session:
        record = await session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.key == "routed-once")
        )
    assert record is not None
    assert record.settled is False
    assert record.response_body is not None
    assert record.response_body["status"] == "registered"
    replay = await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    assert replay.json() == first.json()
