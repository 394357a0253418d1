"""Intake hands cases to routing in groups under load (issue 32): a quiet registration goes at
once and alone; registrations that finish while hand-overs are on their way go together in one
call; routing answers each case of a group on its own, so one that fails does not fail the
others; and however the groups of two intake processes overlap, each case is decided once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from services.routing import service as routing_service
from shared.handover_groups import HandoverGroups
from tests.helpers.bodies import ESTATE
from tests.helpers.cases import stored_case
from tests.helpers.rules import routing_down
from tests.helpers.serving import routing_client_for
from tests.helpers.supervision import actions

pytestmark = pytest.mark.usefixtures("sample_departments")


class Held:
    """A routing stand-in that notes each call and answers only when the test lets it: what
    is tested is when calls leave and what they carry, not routing."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.release = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/cases/route":
            nos = [c["case_no"] for c in json.loads(request.content)["cases"]]
            self.calls.append(("group", nos))
            await self.release.wait()
            items = [{"case_no": no, "case": {"case_no": no}} for no in nos]
            return httpx.Response(200, json={"items": items})
        no = request.url.path.split("/")[-2]
        self.calls.append(("one", [no]))
        await self.release.wait()
        return httpx.Response(200, json={"case_no": no})


async def _settle() -> None:
    for _ in range(20):  # let every ready task run; no time passes
        await asyncio.sleep(0)


async def test_a_quiet_registration_goes_at_once_and_the_busy_ones_together() -> None:
    held = Held()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(held), base_url="http://routing"
    ) as client:
        groups = HandoverGroups(client, most=3, in_flight=1)
        first = asyncio.create_task(groups.route("GZ-20261118-000001"))
        await _settle()
        # Alone and at once: no window to wait out, the single-case route as before grouping.
        assert held.calls == [("one", ["GZ-20261118-000001"])]
        later = [asyncio.create_task(groups.route(f"GZ-20261118-00000{n}")) for n in range(2, 7)]
        await _settle()
        assert len(held.calls) == 1  # one on its way: the next ones wait for it
        held.release.set()
        answers = await asyncio.gather(first, *later)
    assert [a["case_no"] if a else None for a in answers] == [
        f"GZ-20261118-00000{n}" for n in range(1, 7)
    ]
    assert held.calls[1:] == [
        ("group", ["GZ-20261118-000002", "GZ-20261118-000003", "GZ-20261118-000004"]),
        ("group", ["GZ-20261118-000005", "GZ-20261118-000006"]),
    ]


async def test_a_caller_that_gives_up_leaves_its_group_going() -> None:
    held = Held()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(held), base_url="http://routing"
    ) as client:
        groups = HandoverGroups(client, in_flight=1)
        gone = asyncio.create_task(groups.route("GZ-20261118-000001"))
        await _settle()
        stays = asyncio.create_task(groups.route("GZ-20261118-000002"))
        await _settle()
        gone.cancel()
        held.release.set()
        assert (await stays) == {"case_no": "GZ-20261118-000002"}
        await groups.aclose()
    assert [kind for kind, _ in held.calls] == ["one", "one"]


async def _registered(
    intake_app: Any, intake: httpx.AsyncClient, window: dict[str, str], n: int
) -> list[str]:
    async with routing_down(intake_app):
        answers = [
            await intake.post(
                "/api/v1/cases",
                json={**ESTATE, "applicant": {"phone": f"1390020{i:04d}"}},
                headers=window,
            )
            for i in range(n)
        ]
    assert {a.json()["status"] for a in answers} == {"registered"}
    nos = [a.json()["case_no"] for a in answers]
    assert len(set(nos)) == n  # n callers, n cases (one caller's repeats would be one case)
    return nos


async def test_one_case_that_fails_leaves_the_others_routed(
    intake_app: Any,
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    routing_app: Any,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nos = await _registered(intake_app, intake, keys["window"], 4)
    broken = nos[1]
    facts_of = routing_service.facts_of

    def failing(case: Any) -> Any:
        if case.case_no == broken:
            raise ValueError("a rule that cannot be evaluated")
        return facts_of(case)

    monkeypatch.setattr(routing_service, "facts_of", failing)
    async with routing_client_for(routing_app) as service:
        groups = HandoverGroups(service, in_flight=1)
        blocker = asyncio.create_task(groups.route(nos[0]))
        with capture_logs() as logs:
            answers = await asyncio.gather(
                *(groups.route(no) for no in [*nos[1:], "GZ-20261118-999999"])
            )
        await blocker
    grouped = [line["case_no"] for line in logs if line["event"] == "handed_over_in_group"]
    assert grouped == [*nos[1:], "GZ-20261118-999999"]  # the four went as one group
    assert answers[0] is None  # the broken one: not routed now
    assert [a["lead_department"] for a in answers[1:3] if a] == ["GZ-BDC", "GZ-BDC"]
    assert answers[3] is None  # no such case
    assert (await stored_case(sessionmaker, broken)).status == "registered"
    assert [e.action for e in await actions(sessionmaker, broken)] == ["register"]
    monkeypatch.undo()
    # Its outbox message (or any later hand-over) routes it as one case.
    r = await routing.post(f"/api/v1/cases/{broken}/route", headers=service_headers())
    assert (r.status_code, r.json()["status"]) == (200, "assigned")


def service_headers() -> dict[str, str]:
    from tests.helpers.serving import SERVICE_KEY

    return {"Authorization": f"Bearer {SERVICE_KEY}"}


async def test_two_intake_processes_grouping_at_once_decide_each_case_once(
    intake_app: Any,
    intake: httpx.AsyncClient,
    routing_app: Any,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    nos = await _registered(intake_app, intake, keys["window"], 30)
    async with routing_client_for(routing_app) as one, routing_client_for(routing_app) as two:
        first, second = HandoverGroups(one, most=7), HandoverGroups(two, most=5)
        answers = await asyncio.gather(
            *(first.route(no) for no in nos), *(second.route(no) for no in reversed(nos))
        )
    assert all(a is not None and a["lead_department"] == "GZ-BDC" for a in answers)
    routed_flags = [a["routed"] for a in answers if a]
    assert routed_flags.count(True) == len(nos)  # each case routed by exactly one of the two
    for no in nos:
        assert [e.action for e in await actions(sessionmaker, no)].count("route") == 1


async def test_registrations_at_once_are_handed_over_together_each_with_its_request_id(
    intake_app: Any, intake: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    intake_app.state.handover = None  # a fresh grouping, holding one hand-over at a time
    settings = intake_app.state.settings
    intake_app.state.settings = settings.model_copy(update={"handover_in_flight": 1})
    try:
        with capture_logs() as logs:
            answers = await asyncio.gather(
                *(
                    intake.post(
                        "/api/v1/cases",
                        json={**ESTATE, "applicant": {"phone": f"1380013{n:04d}"}},
                        headers={**keys["window"], "X-Request-ID": f"desk-{n}"},
                    )
                    for n in range(12)
                )
            )
    finally:
        intake_app.state.settings = settings
        intake_app.state.handover = None
    assert {(a.status_code, a.json()["lead_department"]) for a in answers} == {(201, "GZ-BDC")}
    assert len({a.json()["case_no"] for a in answers}) == 12
    grouped = [line for line in logs if line["event"] == "handed_over_in_group"]
    assert grouped, "under load some hand-overs share a call"
    by_case = {a.json()["case_no"]: f"desk-{n}" for n, a in enumerate(answers)}
    for line in grouped:
        assert line["registration_request_id"] == by_case[line["case_no"]]
