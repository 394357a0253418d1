"""What a key may claim and learn when it registers: its own channel only, no first-responsible
department unless it is the window side, nothing of another caller's case through a repeat, and
nothing at all once its department is deactivated."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.helpers.bodies import body_for, case_body
from tests.helpers.hotline import order, post
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")


@pytest.mark.parametrize(
    ("role", "claim", "field"),
    [
        ("portal", {"channel": "window"}, "channel"),
        ("portal", {"channel": "hotline"}, "channel"),
        ("hotline", {"channel": "portal"}, "channel"),
        ("window", {"channel": "portal"}, "channel"),
        ("portal", {"intake_department": "GZ-BDC"}, "intake_department"),
        ("hotline", {"intake_department": "GZ-SWJ"}, "intake_department"),
    ],
)
async def test_a_key_cannot_claim_another_channel_or_a_first_responsible_department(
    intake: httpx.AsyncClient, make_key: KeyFactory, role: str, claim: dict[str, Any], field: str
) -> None:
    r = await intake.post(
        "/api/v1/cases", json=body_for(role, **claim), headers=await make_key(role)
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_the_window_side_may_name_the_intake_department(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    for role in ("window", "coordinator"):
        r = await intake.post("/api/v1/cases", json=case_body(), headers=await make_key(role))
        assert r.status_code == 201, r.text
        assert r.json()["first_responsible_department"] == "GZ-BDC"
    hotline_by_coordinator = await intake.post(
        "/api/v1/cases",
        json=case_body(channel="hotline", intake_department=None),
        headers=await make_key("coordinator"),
    )
    assert hotline_by_coordinator.status_code == 201


@pytest.fixture
def linking(intake_app: Any) -> Any:
    settings = intake_app.state.settings
    old = settings.repeat_similarity
    settings.repeat_similarity = 0.8
    yield
    settings.repeat_similarity = old


@pytest.mark.usefixtures("linking")
async def test_a_repeat_links_but_shows_nothing_of_a_case_the_caller_cannot_read(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    """A window registered the case; a portal (which reads only its own) sends the same phone and
    matter: the complaint is counted on the window's case, and the portal hears only that."""
    window = (
        await intake.post("/api/v1/cases", json=case_body(), headers=await make_key("window"))
    ).json()
    portal = await make_key("portal")
    r = await intake.post("/api/v1/cases", json=body_for("portal"), headers=portal)
    assert r.status_code == 200
    assert r.json() == {
        "case_no": window["case_no"],
        "status": window["status"],
        "status_label": window["status_label"],
        "repeat": True,
        "visible": False,
    }
    for secret in (window["tracking_code"], window["title"], window["description"], "黄"):
        assert secret not in r.text
    coordinator = await make_key("coordinator")
    seen = (await intake.get(f"/api/v1/cases/{window['case_no']}", headers=coordinator)).json()
    assert seen["repeat_count"] == 1  # linked all the same


@pytest.mark.usefixtures("linking")
async def test_a_hotline_repeat_of_a_window_case_shows_nothing_of_it(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    body = json.loads(order())
    window = (
        await intake.post(
            "/api/v1/cases",
            headers=await make_key("window"),
            json=case_body(
                title=body["title"],
                description=body["content"],
                applicant={"name": "陈建华", "phone": body["caller"]["phone"]},
            ),
        )
    ).json()
    r = await post(intake, order())
    assert (r.status_code, r.json()["repeat"], r.json()["case_no"]) == (
        200,
        True,
        window["case_no"],
    )
    assert window["tracking_code"] not in r.text
    assert "description" not in r.json()


async def test_a_deactivated_departments_keys_stop_working_and_no_new_ones_are_issued(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    admin = await make_key("admin")
    swj = await make_key("department", "GZ-SWJ")
    coordinator = await make_key("coordinator")
    # A case makes the department one that is deactivated rather than deleted.
    await intake.post(
        "/api/v1/cases",
        json=case_body(intake_department="GZ-SWJ"),
        headers=await make_key("window"),
    )
    assert (await intake.get("/api/v1/cases", headers=swj)).status_code == 200
    assert (await routing.delete("/api/v1/departments/GZ-SWJ", headers=admin)).status_code == 204
    assert (await intake.get("/api/v1/cases", headers=swj)).status_code == 401
    issued = await routing.post(
        "/api/v1/keys",
        json={"role": "department", "department": "GZ-SWJ", "holder": "t"},
        headers=await make_key("security_admin"),
    )
    assert issued.status_code == 422
    assert issued.json()["errors"][0]["field"] == "department"
    assert (await intake.get("/api/v1/cases", headers=coordinator)).status_code == 200
