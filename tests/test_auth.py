"""Keys and roles: 401 without a valid key, 403 for the wrong role or another's case."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.apikey import service as keys
from shared.database import transaction
from tests.helpers.bodies import body_for, case_body, registered
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")


async def test_no_key_bad_key_revoked_key_are_401(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    r = await intake.get("/api/v1/cases")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    assert (
        await intake.get("/api/v1/cases", headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    assert (
        await intake.get("/api/v1/cases", headers={"Authorization": "Basic abc"})
    ).status_code == 401

    admin = await make_key("security_admin")
    created = (
        await routing.post("/api/v1/keys", json={"role": "window", "holder": "t"}, headers=admin)
    ).json()
    window = {"Authorization": f"Bearer {created['key']}"}
    assert (await intake.get("/api/v1/cases", headers=window)).status_code == 200
    assert (await routing.delete(f"/api/v1/keys/{created['id']}", headers=admin)).status_code == 204
    assert (await intake.get("/api/v1/cases", headers=window)).status_code == 401
    assert (await routing.delete(f"/api/v1/keys/{created['id']}", headers=admin)).status_code == 404


async def test_keys_are_stored_hashed_and_shown_once(
    routing: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_key("security_admin")
    created = (
        await routing.post(
            "/api/v1/keys",
            json={"role": "department", "department": "GZ-BDC", "holder": "t"},
            headers=admin,
        )
    ).json()
    assert created["role"] == "department"
    assert created["department"] == "GZ-BDC"
    async with transaction(sessionmaker) as session:
        stored = [k.key_hash for k in await keys.list_keys(session)]
    assert created["key"] not in stored
    assert keys.hash_key(created["key"]) in stored
    listed = (await routing.get("/api/v1/keys", headers=admin)).json()["items"]
    assert all("key" not in k for k in listed)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "department", "holder": "t"}, "department"),
        ({"role": "department", "department": "NOPE", "holder": "t"}, "department"),
        # a hall that is no department
        ({"role": "window", "department": "NOPE", "holder": "t"}, "department"),
        # a unit binds a coordinator or a supervisor (层级), never a dashboard
        ({"role": "dashboard", "department": "GZ-BDC", "holder": "t"}, "department"),
        ({"role": "system", "holder": "t"}, "role"),
        ({"role": "emperor", "holder": "t"}, "role"),
        ({"role": "window"}, "holder"),
        ({"role": "window", "holder": ""}, "holder"),
    ],
)
async def test_key_creation_validates(
    routing: httpx.AsyncClient, make_key: KeyFactory, body: dict[str, str], field: str
) -> None:
    r = await routing.post("/api/v1/keys", json=body, headers=await make_key("security_admin"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    "role", ["portal", "window", "coordinator", "supervisor", "dashboard", "admin", "auditor"]
)
async def test_only_security_admins_manage_keys(
    routing: httpx.AsyncClient, make_key: KeyFactory, role: str
) -> None:
    r = await routing.post(
        "/api/v1/keys", json={"role": "window", "holder": "t"}, headers=await make_key(role)
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("portal", True),
        ("hotline", True),
        ("window", True),
        ("coordinator", True),
        ("admin", True),
        ("supervisor", False),
        ("dashboard", False),
    ],
)
async def test_who_may_register(
    intake: httpx.AsyncClient, make_key: KeyFactory, role: str, allowed: bool
) -> None:
    r = await intake.post("/api/v1/cases", json=body_for(role), headers=await make_key(role))
    assert r.status_code == (201 if allowed else 403)


async def test_department_key_may_not_register(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    r = await intake.post(
        "/api/v1/cases", json=case_body(), headers=await make_key("department", "GZ-BDC")
    )
    assert r.status_code == 403


@pytest.mark.parametrize("role", ["portal", "hotline", "supervisor", "dashboard"])
async def test_only_window_side_resolves_or_refers(
    intake: httpx.AsyncClient, make_key: KeyFactory, role: str
) -> None:
    window = await make_key("window")
    case_no = await registered(intake, window)
    other = await make_key(role)
    r1 = await intake.post(
        f"/api/v1/cases/{case_no}/resolve-on-spot", json={"note": "x"}, headers=other
    )
    r2 = await intake.post(
        f"/api/v1/cases/{case_no}/out-of-scope",
        json={"referred_to": "x", "explanation": "y"},
        headers=other,
    )
    assert (r1.status_code, r2.status_code) == (403, 403)
    assert (await intake.get(f"/api/v1/cases/{case_no}", headers=window)).json()[
        "status"
    ] == "registered"


async def test_department_sees_only_its_own_cases(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    window = await make_key("window")
    mine = (
        await intake.post(
            "/api/v1/cases", json=case_body(intake_department="GZ-BDC"), headers=window
        )
    ).json()
    theirs = (
        await intake.post(
            "/api/v1/cases", json=case_body(intake_department="GZ-SWJ"), headers=window
        )
    ).json()
    bdc = await make_key("department", "GZ-BDC")
    assert (await intake.get(f"/api/v1/cases/{mine['case_no']}", headers=bdc)).status_code == 200
    r = await intake.get(f"/api/v1/cases/{theirs['case_no']}", headers=bdc)
    assert r.status_code == 403
    listed = (await intake.get("/api/v1/cases", headers=bdc)).json()["items"]
    assert [c["case_no"] for c in listed] == [mine["case_no"]]
    assert (
        await intake.get("/api/v1/cases", params={"department": "GZ-SWJ"}, headers=bdc)
    ).status_code == 403


async def test_channel_sees_only_what_it_registered(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    portal_a, portal_b = await make_key("portal"), await make_key("portal")
    a = (await intake.post("/api/v1/cases", json=body_for("portal"), headers=portal_a)).json()
    b = (await intake.post("/api/v1/cases", json=body_for("portal"), headers=portal_b)).json()
    assert (await intake.get(f"/api/v1/cases/{a['case_no']}", headers=portal_a)).status_code == 200
    assert (await intake.get(f"/api/v1/cases/{b['case_no']}", headers=portal_a)).status_code == 403
    listed = (await intake.get("/api/v1/cases", headers=portal_a)).json()["items"]
    assert [c["case_no"] for c in listed] == [a["case_no"]]


async def test_dashboard_may_not_read_cases(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    assert (
        await intake.get("/api/v1/cases", headers=await make_key("dashboard"))
    ).status_code == 403


async def test_bootstrap_admin_key_installed_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    secret = "bootstrap-key-for-tests-0123456789"
    async with transaction(sessionmaker) as session:
        assert await keys.bootstrap_admin(session, secret) is True
    async with transaction(sessionmaker) as session:
        assert await keys.bootstrap_admin(session, secret) is False
        principal = await keys.authenticate(session, secret)
    assert principal is not None
    assert principal.role.value == "admin"


async def test_a_revoked_key_is_refused_within_the_cache_lifetime(
    settings: Any, routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    """An app that remembers verified keys for 0.5 s: a key revoked elsewhere (another process,
    the CLI) still works until its entry expires, and is refused after."""
    import asyncio

    from intake_api.app import create_app

    admin = await make_key("security_admin")
    issued = await routing.post(
        "/api/v1/keys", json={"role": "window", "holder": "t"}, headers=admin
    )
    key = {"Authorization": f"Bearer {issued.json()['key']}"}
    app = create_app(settings.model_copy(update={"key_cache_seconds": 0.5}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/api/v1/cases", headers=key)).status_code == 200
            revoked = await routing.delete(f"/api/v1/keys/{issued.json()['id']}", headers=admin)
            assert revoked.status_code == 204
            assert (await client.get("/api/v1/cases", headers=key)).status_code == 200  # cached
            await asyncio.sleep(0.6)
            assert (await client.get("/api/v1/cases", headers=key)).status_code == 401


def test_every_permission_names_its_roles() -> None:
    """The one table routes and services read: a permission without roles would lock everyone
    out (or, read as empty, let nobody in) without anyone deciding it."""
    from services.authz import ROLES, May

    assert set(ROLES) == set(May)
    assert all(ROLES[permission] for permission in May)
