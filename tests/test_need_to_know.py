"""Need to know (issue 16): for each role and relation to a case, which of the applicant's
fields are clear and which masked, over the case read, the list, an action's answer and
Open311; every clear answer audited, no masked one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.apikey import service as apikeys
from shared.database import transaction
from shared.enums import Role
from tests.conftest import case_body

pytestmark = pytest.mark.usefixtures("sample_departments")

APPLICANT = {"name": "黄丽华", "phone": "13800138001", "id_number": "11010519491231002X"}
CLEAR = ("黄丽华", "13800138001", "11010519491231002X")
MASKED = ("黄*华", "138****8001", "110***********002X")


async def key(
    sessionmaker: async_sessionmaker[AsyncSession], role: str, department: str | None = None
) -> tuple[str, dict[str, str]]:
    async with transaction(sessionmaker) as session:
        issued = await apikeys.issue(session, role=Role(role), department=department)
    return str(issued.id), {"Authorization": f"Bearer {issued.key}"}


def fields(applicant: dict[str, Any]) -> tuple[str, str, str]:
    return applicant["name"], applicant["phone"], applicant["id_number"]


async def test_the_role_and_relation_matrix(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A case registered at the GZ-BDC hall, routed to GZ-BDC with GZ-GHZY helping, then
    transferred to GZ-SWJ: each reader as the rule says, while it is handled and after."""
    _, hall_window = await key(sessionmaker, "window", "GZ-BDC")
    _, same_hall = await key(sessionmaker, "window", "GZ-BDC")
    _, other_hall = await key(sessionmaker, "window", "GZ-SWJ")
    _, unbound = await key(sessionmaker, "window")
    _, supervisor = await key(sessionmaker, "supervisor")
    _, dashboard = await key(sessionmaker, "dashboard")
    _, admin = await key(sessionmaker, "admin")
    body = case_body(
        applicant=APPLICANT,
        intake_department=None,
        title="抵押登记注销拖延",
        description="抵押登记注销一直没办好",
    )
    created = await intake.post("/api/v1/cases", json=body, headers=hall_window)
    assert created.status_code == 201, created.text
    case = created.json()
    no = case["case_no"]
    assert (case["intake_hall"], fields(case["applicant"])) == ("GZ-BDC", CLEAR)
    assert case["lead_department"] == "GZ-BDC"
    r = await routing.post(
        f"/api/v1/cases/{no}/assign",
        json={"department": "GZ-BDC", "co_departments": ["GZ-GHZY"], "reason": "会同规划"},
        headers=keys["coordinator"],
    )
    assert r.status_code == 200, r.text

    async def seen(headers: dict[str, str]) -> tuple[str, str, str]:
        r = await intake.get(f"/api/v1/cases/{no}", headers=headers)
        assert r.status_code == 200, r.text
        return fields(r.json()["applicant"])

    expected = {
        "registering window": (hall_window, CLEAR),
        "another window of the hall": (same_hall, CLEAR),
        "a window of another hall": (other_hall, MASKED),
        "a window bound to no hall": (unbound, MASKED),
        "the lead department": (keys["bdc"], CLEAR),
        "a co-department": (keys["ghzy"], CLEAR),
        "the coordinator": (keys["coordinator"], CLEAR),
        "a supervisor": (supervisor, MASKED),
        "an admin": (admin, MASKED),
    }
    for who, (headers, shown) in expected.items():
        assert await seen(headers) == shown, who
    listed = await intake.get("/api/v1/cases", headers=other_hall)
    assert [fields(c["applicant"]) for c in listed.json()["items"]] == [MASKED]
    listed = await intake.get("/api/v1/cases", headers=same_hall)
    assert [fields(c["applicant"]) for c in listed.json()["items"]] == [CLEAR]
    assert (await intake.get(f"/api/v1/cases/{no}", headers=dashboard)).status_code == 403

    # An action's answer follows the same rule: the lead's is clear; after a transfer the
    # former lead's own answer, and its reads, are masked.
    signed = await routing.post(f"/api/v1/cases/{no}/sign", json={}, headers=keys["bdc"])
    assert fields(signed.json()["applicant"]) == CLEAR
    moved = await routing.post(
        f"/api/v1/cases/{no}/transfer",
        json={"to_department": "GZ-SWJ", "reason": "属税务事项"},
        headers=keys["bdc"],
    )
    assert moved.status_code == 200, moved.text
    assert fields(moved.json()["applicant"]) == MASKED  # the former lead, in its own answer
    former = await intake.get(f"/api/v1/cases/{no}", headers=keys["bdc"])
    assert former.status_code == 200  # it first answered for it, so it still reads it...
    assert fields(former.json()["applicant"]) == MASKED  # ...masked
    assert await seen(keys["swj"]) == CLEAR  # the new lead

    # Once finished, the departments read it masked; the hall and the coordinator still clear.
    await routing.post(f"/api/v1/cases/{no}/sign", json={}, headers=keys["swj"])
    await routing.post(f"/api/v1/cases/{no}/reply", json={"reply": "已办结"}, headers=keys["swj"])
    fed = await intake.post(
        f"/api/v1/cases/{no}/feedback", json={"satisfaction": "satisfied"}, headers=hall_window
    )
    assert fed.json()["status"] == "closed"
    assert await seen(keys["swj"]) == MASKED
    assert await seen(hall_window) == CLEAR
    assert await seen(keys["coordinator"]) == CLEAR


async def test_an_admin_binds_an_old_window_key_to_its_hall(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, hall_window = await key(sessionmaker, "window", "GZ-BDC")
    old_id, old = await key(sessionmaker, "window")
    no = (
        await intake.post("/api/v1/cases", json=case_body(applicant=APPLICANT), headers=hall_window)
    ).json()["case_no"]
    r = await intake.get(f"/api/v1/cases/{no}", headers=old)
    assert fields(r.json()["applicant"]) == MASKED  # keys from before halls: masked only
    bound = await routing.put(
        f"/api/v1/keys/{old_id}/hall", json={"department": "GZ-BDC"}, headers=keys["admin"]
    )
    assert bound.status_code == 200, bound.text
    assert bound.json()["department"] == "GZ-BDC"
    r = await intake.get(f"/api/v1/cases/{no}", headers=old)
    assert fields(r.json()["applicant"]) == CLEAR
    for bad, status in (({"department": "GZ-NOPE"}, 422), ({"department": ""}, 422)):
        r = await routing.put(f"/api/v1/keys/{old_id}/hall", json=bad, headers=keys["admin"])
        assert r.status_code == status, r.text
    dept_id, _ = await key(sessionmaker, "department", "GZ-SWJ")
    r = await routing.put(
        f"/api/v1/keys/{dept_id}/hall", json={"department": "GZ-BDC"}, headers=keys["admin"]
    )
    assert r.status_code == 422  # only a window key has a hall
    r = await routing.put(
        f"/api/v1/keys/{old_id}/hall", json={"department": "GZ-BDC"}, headers=keys["coordinator"]
    )
    assert r.status_code == 403
