"""Need to know (issue 16): for each role and relation to a case, which personal fields are
clear and which masked, over the case read, the lists, the history, an action's answer, the
reports and Open311; each answer in clear leaves exactly one audit row, a masked one none."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.apikey import service as apikeys
from shared.database import transaction
from shared.enums import Role
from shared.principal import SYSTEM
from tests.helpers.bodies import case_body

pytestmark = pytest.mark.usefixtures("sample_departments")

APPLICANT = {"name": "黄丽华", "phone": "13800138001", "id_number": "11010519491231002X"}
CLEAR = ("黄丽华", "13800138001", "11010519491231002X")
MASKED = ("黄*华", "138****8001", "110***********002X")
HOME = {"lat": 23.1291234, "long": 113.2644321, "address": "广州市越秀区东风中路437号3栋1201房"}
PHOTO = "https://files.example.gov.cn/uploads/id-card-front.jpg"
SECRETS = (*CLEAR, "东风中路437号", "23.1291234", "113.2644321", PHOTO)
"""Every personal value of the case: a masked answer holds none of them, anywhere in it."""
EVERY_FIELD = ["name", "phone", "id_number", "address", "attachments", "tracking_code"]
TYPED = "黄丽华(证件号码11010519491231002X,联系13800138001)的抵押登记注销一直没办好"
"""What a window typed: the applicant's name and numbers in the complaint's own words."""


class Reader:
    def __init__(self, key_id: str, secret: str) -> None:
        self.id, self.secret = key_id, secret
        self.headers = {"Authorization": f"Bearer {secret}"}


async def key(
    sessionmaker: async_sessionmaker[AsyncSession], role: str, department: str | None = None
) -> Reader:
    async with transaction(sessionmaker) as session:
        issued = await apikeys.issue(
            session, holder="test", issuer=SYSTEM, role=Role(role), department=department
        )
    return Reader(str(issued.id), issued.key)


async def trail(routing: httpx.AsyncClient, auditor: Reader, of: Reader) -> list[dict[str, Any]]:
    """The audit rows of `of`'s key, newest first."""
    r = await routing.get(
        "/api/v1/audit", params={"key_id": of.id, "limit": 100}, headers=auditor.headers
    )
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def fields(applicant: dict[str, Any]) -> tuple[str, str, str]:
    return applicant["name"], applicant["phone"], applicant["id_number"]


def text_of(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False)


def shown_in_clear(case: dict[str, Any]) -> bool:
    """Every personal field clear, or every one masked and no personal value anywhere in the
    answer (history, notices and all): nothing in between."""
    if fields(case["applicant"]) == CLEAR:
        assert case["location"] == HOME  # stored as sent (a private place: `public` left out)
        assert case["attachments"] == [PHOTO]
        assert case["masked"] == []
        assert case["description"] == TYPED
        return True
    assert fields(case["applicant"]) == MASKED
    assert case["location"] == {
        "address": "广州市越秀区****",
        "lat": None,
        "long": None,
        "public": False,
    }
    assert case["attachments"] == []
    assert case["masked"] == EVERY_FIELD
    assert case["description"] == (
        "黄*华(证件号码110***********002X,联系138****8001)的抵押登记注销一直没办好"
    )
    assert not [s for s in SECRETS if s in text_of(case)]
    return False


async def test_the_role_and_relation_matrix(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A case registered at the GZ-BDC hall with a home address and an ID card's photo, routed
    to GZ-BDC with GZ-GHZY helping, then transferred to GZ-SWJ and finished: each reader over
    each surface as the rule says, and one audit row for each answer in clear."""
    hall_window = await key(sessionmaker, "window", "GZ-BDC")
    readers = {
        "registering window": hall_window,
        "another window of the hall": await key(sessionmaker, "window", "GZ-BDC"),
        "a window of another hall": await key(sessionmaker, "window", "GZ-SWJ"),
        "a window bound to no hall": await key(sessionmaker, "window"),
        "the lead department": await key(sessionmaker, "department", "GZ-BDC"),
        "a co-department": await key(sessionmaker, "department", "GZ-GHZY"),
        "the department it is transferred to": await key(sessionmaker, "department", "GZ-SWJ"),
        "an uninvolved department": await key(sessionmaker, "department", "GZ-SCJG"),
        "the coordinator": await key(sessionmaker, "coordinator"),
        "a supervisor": await key(sessionmaker, "supervisor"),
        "an admin": await key(sessionmaker, "admin"),
        "a dashboard": await key(sessionmaker, "dashboard"),
        "an auditor": await key(sessionmaker, "auditor"),
        "a portal": await key(sessionmaker, "portal"),
    }
    auditor = readers["an auditor"]
    body = case_body(
        applicant=APPLICANT,
        intake_department=None,
        title="抵押登记注销拖延",
        description=TYPED,
        location=HOME,
        attachments=[PHOTO],
    )
    created = await intake.post("/api/v1/cases", json=body, headers=hall_window.headers)
    assert created.status_code == 201, created.text
    no = created.json()["case_no"]
    assert created.json()["intake_hall"] == "GZ-BDC"
    assert created.json()["first_responsible_department"] == "GZ-BDC"  # the rule's lead
    assert shown_in_clear(created.json())
    r = await routing.post(
        f"/api/v1/cases/{no}/assign",
        json={"department": "GZ-BDC", "co_departments": ["GZ-GHZY"], "reason": "会同规划"},
        headers=keys["coordinator"],
    )
    assert r.status_code == 200, r.text

    async def rows(reader: Reader) -> list[dict[str, Any]]:
        return await trail(routing, auditor, reader)

    async def read(who: str) -> bool | int:
        """The case read, the list and the history as `who` sees them: True in clear, False
        masked, or the status it was refused with; and one audit row per answer in clear."""
        reader = readers[who]
        before = len(await rows(reader))
        one = await intake.get(f"/api/v1/cases/{no}", headers=reader.headers)
        listed = await intake.get("/api/v1/cases", headers=reader.headers)
        if one.status_code != 200:
            assert listed.status_code in (200, 403)
            assert no not in listed.text
            assert len(await rows(reader)) == before
            return one.status_code
        clear = shown_in_clear(one.json())
        [item] = [c for c in listed.json()["items"] if c["case_no"] == no]
        assert shown_in_clear(item) is clear, who
        # The history is part of the answer: masked, its reasons hold no personal value either
        # (a transfer's reason below names the applicant and their phone).
        assert one.json()["history"]
        written = (await rows(reader))[: len(await rows(reader)) - before]
        if clear:
            assert [(r["case_nos"], r["fields"]) for r in written] == [
                ([no], sorted(EVERY_FIELD)),
                ([no], sorted(EVERY_FIELD)),
            ], who  # one for the read, one for the list
        else:
            assert written == [], who
        return clear

    handled = {
        "registering window": True,
        "another window of the hall": True,
        "a window of another hall": False,
        "a window bound to no hall": False,
        "the lead department": True,
        "a co-department": True,
        "the department it is transferred to": 403,  # not yet its case
        "an uninvolved department": 403,
        "the coordinator": True,
        "a supervisor": False,
        "an admin": False,
        "a dashboard": 403,
        "an auditor": 403,
        "a portal": 403,  # not its registration
    }
    assert {who: await read(who) for who in readers} == handled

    # An action's answer follows the same rule: the lead's is clear, and after a transfer the
    # former lead's own answer is masked.
    lead = readers["the lead department"].headers
    signed = await routing.post(f"/api/v1/cases/{no}/sign", json={}, headers=lead)
    assert shown_in_clear(signed.json())
    moved = await routing.post(
        f"/api/v1/cases/{no}/transfer",
        json={"to_department": "GZ-SWJ", "reason": "已电话13800138001联系黄丽华:属税务事项"},
        headers=lead,
    )
    assert moved.status_code == 200, moved.text
    assert not shown_in_clear(moved.json())
    transferred = {
        **handled,
        "the lead department": False,  # it first answered for it, so it still reads it, masked
        "the department it is transferred to": True,
    }
    assert {who: await read(who) for who in readers} == transferred

    # Finished: the departments read it masked; the hall and the coordinator still in clear.
    swj = readers["the department it is transferred to"].headers
    await routing.post(f"/api/v1/cases/{no}/sign", json={}, headers=swj)
    for code in ("GZ-GHZY",):  # 协办: the reply waits for the co-department, or a waiver
        waived = await routing.post(
            f"/api/v1/cases/{no}/assists/{code}/waive",
            json={"reason": "已电话确认"},
            headers=readers["the coordinator"].headers,
        )
        assert waived.status_code == 200, waived.text
    await routing.post(f"/api/v1/cases/{no}/reply", json={"reply": "已办结"}, headers=swj)
    fed = await intake.post(
        f"/api/v1/cases/{no}/feedback",
        json={"satisfaction": "satisfied"},
        headers=hall_window.headers,
    )
    assert fed.json()["status"] == "closed"
    finished = {
        **transferred,
        "a co-department": False,
        "the department it is transferred to": False,
    }
    assert {who: await read(who) for who in readers} == finished

    # The figures and the monthly report (both formats) carry no personal value for anyone
    # who may read them; the report leaves one row for its export, naming no case.
    month = created.json()["created_at"][:7]
    for who in ("a supervisor", "a dashboard", "an admin", "the coordinator"):
        reader = readers[who]
        for path in (
            "/api/v1/stats/summary",
            "/api/v1/stats/departments",
            "/api/v1/stats/categories",
            "/api/v1/stats/common-issues",
            "/api/v1/cards",
        ):
            r = await routing.get(path, headers=reader.headers)
            assert r.status_code == 200, (who, path, r.text)
            assert not [s for s in SECRETS if s in r.text], (who, path)
        before = len(await rows(reader))
        for format in ("json", "xlsx"):
            r = await routing.get(
                "/api/v1/reports/monthly",
                params={"month": month, "format": format},
                headers=reader.headers,
            )
            if who == "the coordinator":
                assert r.status_code == 403  # the report is the supervisors' and the board's
                continue
            assert r.status_code == 200, r.text
            if format == "xlsx":
                with zipfile.ZipFile(io.BytesIO(r.content)) as book:
                    inside = "".join(book.read(n).decode() for n in book.namelist())
            else:
                inside = r.text
                assert r.json()["summary"]["received"] == 1  # the case is in the figures
            assert not [s for s in SECRETS if s in inside], (who, format)
        written = (await rows(reader))[: len(await rows(reader)) - before]
        expected: list[list[str]] = [] if who == "the coordinator" else [[], []]
        assert [r["case_nos"] for r in written] == expected, who


async def test_open311_by_relation(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Open311: the portal that sent a request reads it in full (an export: one row naming it
    and what it showed), another portal not at all, the keyless feed only the district; staff
    read it as any other case by need to know."""
    portal, other_portal = await key(sessionmaker, "portal"), await key(sessionmaker, "portal")
    window, coordinator = (
        await key(sessionmaker, "window", "GZ-BDC"),
        await key(sessionmaker, "coordinator"),
    )
    auditor = await key(sessionmaker, "auditor")
    created = await intake.post(
        "/open311/v2/requests.json",
        data={
            "api_key": portal.secret,
            "service_code": "acceptance",
            "description": "连续两天取不到号,营业执照一直领不到",
            "phone": APPLICANT["phone"],
            "first_name": "丽华",
            "last_name": "黄",
            "lat": str(HOME["lat"]),
            "long": str(HOME["long"]),
            "address_string": HOME["address"],
            "media_url": PHOTO,
        },
    )
    assert created.status_code == 201, created.text
    [receipt] = created.json()
    no = receipt["service_request_id"]
    base = "/open311/v2/requests"

    mine = await intake.get(f"{base}/{no}.json", params={"api_key": portal.secret})
    [request] = mine.json()
    assert (request["address"], request["lat"], request["media_url"]) == (
        HOME["address"],
        HOME["lat"],
        PHOTO,
    )
    assert request["description"] == "连续两天取不到号,营业执照一直领不到"
    listed = await intake.get(f"{base}.json", params={"api_key": portal.secret})
    assert [r["service_request_id"] for r in listed.json()] == [no]
    assert [(r["case_nos"], r["fields"]) for r in await trail(routing, auditor, portal)] == [
        ([no], ["address", "attachments", "description"]),
        ([no], ["address", "attachments", "description"]),
    ]

    theirs = await intake.get(f"{base}/{no}.json", params={"api_key": other_portal.secret})
    assert theirs.status_code == 404
    assert not [s for s in SECRETS if s in theirs.text]
    theirs = await intake.get(f"{base}.json", params={"api_key": other_portal.secret})
    assert theirs.json() == []

    for public in (
        await intake.get(f"{base}/{no}.json"),
        await intake.get(f"{base}.json"),
        await intake.get(f"{base}.xml"),
    ):
        assert public.status_code == 200
        assert no in public.text
        assert not [s for s in SECRETS if s in public.text]
        assert "连续两天" not in public.text  # what the citizen wrote

    masked = await intake.get(f"/api/v1/cases/{no}", headers=window.headers)
    assert masked.json()["masked"] == ["name", "phone", "address", "attachments", "tracking_code"]
    clear = await intake.get(f"/api/v1/cases/{no}", headers=coordinator.headers)
    assert clear.json()["masked"] == []
    assert clear.json()["attachments"] == [PHOTO]


async def test_an_admin_binds_an_old_window_key_to_its_hall(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    hall_window = (await key(sessionmaker, "window", "GZ-BDC")).headers
    old_key = await key(sessionmaker, "window")
    old_id, old = old_key.id, old_key.headers
    no = (
        await intake.post("/api/v1/cases", json=case_body(applicant=APPLICANT), headers=hall_window)
    ).json()["case_no"]
    r = await intake.get(f"/api/v1/cases/{no}", headers=old)
    assert fields(r.json()["applicant"]) == MASKED  # keys from before halls: masked only
    bound = await routing.put(
        f"/api/v1/keys/{old_id}/hall", json={"department": "GZ-BDC"}, headers=keys["security_admin"]
    )
    assert bound.status_code == 200, bound.text
    assert bound.json()["department"] == "GZ-BDC"
    r = await intake.get(f"/api/v1/cases/{no}", headers=old)
    assert fields(r.json()["applicant"]) == CLEAR
    for bad, status in (({"department": "GZ-NOPE"}, 422), ({"department": ""}, 422)):
        r = await routing.put(
            f"/api/v1/keys/{old_id}/hall", json=bad, headers=keys["security_admin"]
        )
        assert r.status_code == status, r.text
    dept_id = (await key(sessionmaker, "department", "GZ-SWJ")).id
    r = await routing.put(
        f"/api/v1/keys/{dept_id}/hall",
        json={"department": "GZ-BDC"},
        headers=keys["security_admin"],
    )
    assert r.status_code == 422  # only a window key has a hall
    r = await routing.put(
        f"/api/v1/keys/{old_id}/hall", json={"department": "GZ-BDC"}, headers=keys["coordinator"]
    )
    assert r.status_code == 403
