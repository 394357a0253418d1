from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.department import service
from services.department.schemas import DepartmentIn
from shared.database import transaction
from shared.errors import DomainError
from tests.helpers.bodies import case_body, load_departments
from tests.helpers.keys import KeyFactory
from tests.helpers.rules import publish


async def test_sample_import_is_idempotent(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    items = load_departments()
    async with transaction(sessionmaker) as session:
        assert await service.import_all(session, items) == {"created": 21, "updated": 0}
    async with transaction(sessionmaker) as session:
        assert await service.import_all(session, items) == {"created": 0, "updated": 21}


async def test_children_may_come_before_parents_in_the_file(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    items = [
        DepartmentIn(code="CHILD", name="子", parent="ROOT"),
        DepartmentIn(code="ROOT", name="根"),
    ]
    async with transaction(sessionmaker) as session:
        assert await service.import_all(session, items) == {"created": 2, "updated": 0}


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"code": "A", "name": "a"}, {"code": "A", "name": "again"}], "[1].code"),
        ([{"code": "A", "name": "a", "parent": "NOPE"}], "[0].parent"),
        (
            [{"code": "A", "name": "a", "parent": "B"}, {"code": "B", "name": "b", "parent": "A"}],
            "[0].parent",
        ),
    ],
)
async def test_import_refuses_bad_lists_whole(
    sessionmaker: async_sessionmaker[AsyncSession], items: list[dict[str, str]], field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        async with transaction(sessionmaker) as session:
            await service.import_all(session, [DepartmentIn.model_validate(i) for i in items])
    assert field in [e.field for e in caught.value.errors]
    async with sessionmaker() as session:
        from services.department.repository import all_departments

        assert await all_departments(session) == []


async def test_department_api(
    routing: httpx.AsyncClient, make_key: KeyFactory, sample_departments: None
) -> None:
    admin = await make_key("admin")
    r = await routing.post(
        "/api/v1/departments",
        json={
            "code": "TH-ZWFW",
            "name": "天河区政务服务中心",
            "parent": "GZ-ZWFW",
            "contact": "020-1",
        },
        headers=admin,
    )
    assert r.status_code == 201
    assert r.json()["parent"] == "GZ-ZWFW"
    assert (
        await routing.post(
            "/api/v1/departments", json={"code": "TH-ZWFW", "name": "x"}, headers=admin
        )
    ).status_code == 409
    r = await routing.put(
        "/api/v1/departments/GZ-ZWFW", json={"name": "x", "parent": "TH-ZWFW"}, headers=admin
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "parent"
    r = await routing.put(
        "/api/v1/departments/TH-ZWFW",
        json={"name": "天河区政务服务中心(新)", "parent": None},
        headers=admin,
    )
    assert r.status_code == 200
    assert r.json()["parent"] is None
    listed = (await routing.get("/api/v1/departments", headers=await make_key("window"))).json()[
        "items"
    ]
    assert len(listed) == 22
    assert (
        await routing.post(
            "/api/v1/departments", json={"code": "X", "name": "x"}, headers=await make_key("window")
        )
    ).status_code == 403
    assert (await routing.delete("/api/v1/departments/TH-ZWFW", headers=admin)).status_code == 204
    assert (await routing.get("/api/v1/departments/TH-ZWFW", headers=admin)).status_code == 404
    assert (
        await routing.delete("/api/v1/departments/GZ-ZWFW", headers=admin)
    ).status_code == 409  # has children


async def test_a_department_with_cases_is_deactivated_not_deleted(
    routing: httpx.AsyncClient,
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
) -> None:
    admin = await make_key("admin")
    await intake.post(
        "/api/v1/cases",
        json=case_body(intake_department="GZ-SWJ"),
        headers=await make_key("window"),
    )
    assert (await routing.delete("/api/v1/departments/GZ-SWJ", headers=admin)).status_code == 204
    assert (await routing.get("/api/v1/departments/GZ-SWJ", headers=admin)).json()[
        "active"
    ] is False
    r = await intake.post(
        "/api/v1/cases",
        json=case_body(intake_department="GZ-SWJ"),
        headers=await make_key("window"),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "intake_department"


async def test_a_department_only_assisting_a_case_is_deactivated_not_a_500(
    routing: httpx.AsyncClient,
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
) -> None:
    """城管 only owes an opinion on a case (协办): nothing the explicit checks look at refers to
    it, but the assist task does (found by the contract fuzz as a 500)."""
    admin = await make_key("admin")
    await publish(routing, admin)
    r = await intake.post(
        "/api/v1/cases", json=case_body(), headers=await make_key("window", "GZ-BDC")
    )
    assert "GZ-CGJ" in r.json()["assists_owed"]
    assert (await routing.delete("/api/v1/departments/GZ-CGJ", headers=admin)).status_code == 204
    shown = await routing.get("/api/v1/departments/GZ-CGJ", headers=admin)
    assert shown.json()["active"] is False


@pytest.mark.usefixtures("sample_departments")
async def test_departments_and_keys_are_listed_a_page_at_a_time(
    routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    """No list answers without a bound: a province has thousands of offices and keys."""
    admin = await make_key("admin")
    keyholder = await make_key("security_admin")
    for _ in range(3):
        await make_key("window")

    async def walk(path: str, limit: int) -> list[str]:
        seen, cursor = [], None
        who = keyholder if path == "/api/v1/keys" else admin
        while True:
            params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
            page = (await routing.get(path, params=params, headers=who)).json()
            assert len(page["items"]) <= limit
            seen += [i.get("code") or i.get("id") for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    codes = await walk("/api/v1/departments", 5)
    assert len(codes) == len(load_departments())
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    ids = await walk("/api/v1/keys", 2)
    assert len(ids) == len(set(ids)) == 5
    for path, bad in (
        ("/api/v1/departments", {"limit": "501"}),
        ("/api/v1/keys", {"cursor": "bm90LWEtY3Vyc29y"}),
        ("/api/v1/departments", {"cursor": "%%%"}),
    ):
        r = await routing.get(path, params=bad, headers=keyholder if "keys" in path else admin)
        assert r.status_code == 422, r.text
