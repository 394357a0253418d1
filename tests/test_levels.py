"""层级 (issue 28 #1): departments and halls at the city, a district or a street, and the keys of
a unit's coordinator or supervisor, which see that unit's subtree and nothing else."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.department import tree
from tests.helpers.bodies import case_body
from tests.helpers.keys import KeyFactory
from tests.helpers.notices import texted

YUEXIU = {"YX-ZWFW", "YX-ZJJ", "YX-BJJD", "YX-DSJD"}


async def test_the_sample_tree_has_its_levels(
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = await make_key("admin")
    listed = (await routing.get("/api/v1/departments?limit=500", headers=admin)).json()["items"]
    level = {d["code"]: d["level"] for d in listed}
    assert level["GZ-ZWFW"] == "city"
    assert level["GZ-BDC"] == "city"  # given: a city centre under a city bureau
    assert level["PY-ZWFW"] == "district"  # derived: one below the city
    assert level["HP-GAFJ"] == "district"
    assert (level["YX-ZJJ"], level["YX-BJJD"], level["YX-DSJD"]) == (
        "district",
        "street",
        "street",
    )
    async with sessionmaker() as session:
        assert await tree.subtree(session, "YX-ZWFW") == YUEXIU
        assert await tree.subtree(session, "YX-BJJD") == {"YX-BJJD"}
        assert {"PY-ZWFW", "LW-ZWFW", "HD-ZWFW"} | YUEXIU <= await tree.subtree(session, "GZ-ZWFW")


async def test_a_level_is_never_above_its_parents(
    routing: httpx.AsyncClient, make_key: KeyFactory, sample_departments: None
) -> None:
    admin = await make_key("admin")
    above = {"code": "YX-X", "name": "某社区", "parent": "YX-BJJD", "level": "district"}
    r = await routing.post("/api/v1/departments", json=above, headers=admin)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"field": "level", "message": "'district' is above its parent's level 'street'"}
    ]
    below = {"code": "YX-X", "name": "某社区", "parent": "YX-BJJD"}
    r = await routing.post("/api/v1/departments", json=below, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["level"] == "street"  # below a street: still a street
    r = await routing.post(
        "/api/v1/departments", json={"code": "X-1", "name": "x", "level": "county"}, headers=admin
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "level"


async def test_a_districts_coordinator_sees_and_acts_on_its_subtree_only(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
) -> None:
    """A case registered at a Yuexiu street hall is the district's; one at Panyu's hall is
    not: 403 on it, absent from the list, and nothing the district's coordinator may do."""
    ours = await intake.post(
        "/api/v1/cases", json=case_body(), headers=await make_key("window", "YX-BJJD")
    )
    theirs = await intake.post(
        "/api/v1/cases", json=case_body(), headers=await make_key("window", "PY-ZWFW")
    )
    assert ours.status_code == theirs.status_code == 201
    ours_no, theirs_no = ours.json()["case_no"], theirs.json()["case_no"]
    district = await make_key("coordinator", "YX-ZWFW")
    city = await make_key("coordinator")

    assert (await intake.get(f"/api/v1/cases/{ours_no}", headers=district)).status_code == 200
    r = await intake.get(f"/api/v1/cases/{theirs_no}", headers=district)
    assert r.status_code == 403
    listed = (await intake.get("/api/v1/cases", headers=district)).json()["items"]
    assert [c["case_no"] for c in listed] == [ours_no]
    everything = (await intake.get("/api/v1/cases", headers=city)).json()["items"]
    assert {c["case_no"] for c in everything} == {ours_no, theirs_no}

    assign = {"department": "YX-ZJJ", "reason": "区级事项"}
    r = await routing.post(f"/api/v1/cases/{theirs_no}/assign", json=assign, headers=district)
    assert r.status_code == 403
    r = await routing.post(f"/api/v1/cases/{theirs_no}/route", headers=district)
    assert r.status_code == 403
    r = await routing.post(f"/api/v1/cases/{ours_no}/assign", json=assign, headers=district)
    assert r.status_code == 200, r.text
    assert r.json()["lead_department"] == "YX-ZJJ"


async def test_a_units_figures_roll_up_its_subtree(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sample_departments: None,
) -> None:
    """A unit's figures are those of the cases its subtree leads; a parent's equal the sum of
    its children's; a key bound to a unit reads its own and below, in every figure and in the
    monthly report."""
    coordinator = await make_key("coordinator")
    leads = {"YX-ZJJ": "YX-BJJD", "PY-ZWFW": "PY-ZWFW", "GZ-BDC": "YX-DSJD"}
    for lead, hall in leads.items():
        r = await intake.post(
            "/api/v1/cases", json=case_body(), headers=await make_key("window", hall)
        )
        no = r.json()["case_no"]
        assign = {"department": lead, "reason": "按层级派单"}
        r = await routing.post(f"/api/v1/cases/{no}/assign", json=assign, headers=coordinator)
        assert r.status_code == 200, r.text
    district = await make_key("supervisor", "YX-ZWFW")
    city = await make_key("supervisor")

    async def received(headers: dict[str, str], unit: str | None = None) -> int:
        query = f"?unit={unit}" if unit else ""
        r = await routing.get(f"/api/v1/stats/summary{query}", headers=headers)
        assert r.status_code == 200, r.text
        return int(r.json()["received"])

    assert await received(city) == 3
    assert await received(district) == 1  # its own unit: the case YX-ZJJ leads
    assert await received(district, "YX-ZJJ") == 1
    assert await received(city, "PY-ZWFW") == 1
    assert await received(city, "GZ-ZWFW") == sum(
        [await received(city, u) for u in ("YX-ZWFW", "PY-ZWFW", "LW-ZWFW", "HD-ZWFW")]
    )
    depts = (await routing.get("/api/v1/stats/departments", headers=district)).json()["items"]
    assert [(d["department"], d["cases"]) for d in depts] == [("YX-ZJJ", 1)]
    trend = (await routing.get("/api/v1/stats/trend", headers=district)).json()["items"]
    assert sum(d["received"] for d in trend) == 1
    r = await routing.get("/api/v1/stats/summary?unit=PY-ZWFW", headers=district)
    assert r.status_code == 403
    r = await routing.get("/api/v1/stats/summary?unit=NOPE", headers=city)
    assert r.status_code == 404
    categories = await routing.get("/api/v1/stats/categories", headers=district)
    assert sum(c["cases"] for c in categories.json()["items"]) == 1
    city_categories = await routing.get("/api/v1/stats/categories", headers=city)
    assert sum(c["cases"] for c in city_categories.json()["items"]) == 3
    report = await routing.get("/api/v1/reports/monthly?month=2026-11", headers=district)
    assert report.status_code == 200, report.text
    assert report.json()["summary"]["received"] == 1
    assert [d["department"] for d in report.json()["departments"]] == ["YX-ZJJ"]
    issues = await routing.get("/api/v1/stats/common-issues?min_cases=2", headers=district)
    assert issues.status_code == 200
    assert issues.json()["items"] == []  # one case: no topic
    assert (await routing.get("/api/v1/cards", headers=district)).status_code == 200
    r = await routing.get("/api/v1/cards/score?month=2026-11&department=GZ-BDC", headers=district)
    assert r.status_code == 403


async def test_only_the_roles_with_a_unit_are_bound_to_one(
    routing: httpx.AsyncClient, make_key: KeyFactory, sample_departments: None
) -> None:
    security = await make_key("security_admin")
    for role, status in (("coordinator", 201), ("supervisor", 201), ("dashboard", 422)):
        body = {"role": role, "department": "YX-ZWFW", "holder": f"{role} of 越秀区"}
        r = await routing.post("/api/v1/keys", json=body, headers=security)
        assert r.status_code == status, (role, r.text)


async def test_a_units_coordinator_reads_its_subtrees_texted_replies_only(
    intake: httpx.AsyncClient, make_key: KeyFactory, sample_departments: None
) -> None:
    """The reply inbox is a side door to applicants' words: a district's coordinator reads the
    replies on its subtree's cases, not the city's (nor those that matched no case)."""
    ours = await intake.post(
        "/api/v1/cases",
        json=case_body(applicant={"phone": "13800138001", "name": "黄丽华"}),
        headers=await make_key("window", "YX-BJJD"),
    )
    theirs = await intake.post(
        "/api/v1/cases",
        json=case_body(applicant={"phone": "13900139001", "name": "陈明"}),
        headers=await make_key("window", "PY-ZWFW"),
    )
    assert ours.status_code == theirs.status_code == 201
    for phone in ("13800138001", "13900139001", "13700000000"):
        await texted(intake, "请问什么时候能办好", phone=phone)
    city = await intake.get("/api/v1/sms-replies", headers=await make_key("coordinator"))
    assert len(city.json()["items"]) == 3
    district = await intake.get(
        "/api/v1/sms-replies", headers=await make_key("coordinator", "YX-ZWFW")
    )
    assert [r["case_no"] for r in district.json()["items"]] == [ours.json()["case_no"]]
