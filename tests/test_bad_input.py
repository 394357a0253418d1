"""Bad input is a 4xx problem naming the field, never a 500, and writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.helpers.bodies import case_body, registered
from tests.helpers.db import count
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")


def _with_applicant(**fields: Any) -> dict[str, Any]:
    return case_body(applicant={"name": "黄丽华", "phone": "13800138001", **fields})


BAD_BODIES = [
    (case_body(description=""), "description"),
    (case_body(description="   "), "description"),
    (case_body(description="诉" * 50_000), None),  # 150 KB of UTF-8: refused as too large
    (case_body(description="诉" * 5001), "description"),
    ({k: v for k, v in case_body().items() if k != "description"}, "description"),
    (case_body(channel="fax"), "channel"),
    (case_body(channel=None), "channel"),
    (case_body(category="misc"), "category"),
    (case_body(trigger="bored"), "trigger"),
    (case_body(kind="maybe"), "kind"),
    (case_body(urgent="yes"), "urgent"),
    (case_body(urgent=1), "urgent"),
    (case_body(vulnerable="true"), "vulnerable"),
    (case_body(title=123), "title"),
    (case_body(title="题" * 201), "title"),
    (case_body(intake_department="NOPE"), "intake_department"),
    (case_body(intake_department="bad code!"), "intake_department"),
    (case_body(matter_code="no spaces allowed"), "matter_code"),
    (case_body(unexpected="field"), "unexpected"),
    (case_body(applicant=None), "applicant"),
    (_with_applicant(phone="12345"), "applicant.phone"),
    (_with_applicant(phone="23800138001"), "applicant.phone"),
    (_with_applicant(phone=13800138001), "applicant.phone"),
    (_with_applicant(id_number="110105194912310021"), "applicant.id_number"),
    (_with_applicant(id_number="11010519491331002X"), "applicant.id_number"),
    (_with_applicant(id_number="1101051949123100"), "applicant.id_number"),
    (_with_applicant(type="robot"), "applicant.type"),
    (_with_applicant(type="enterprise"), "applicant"),
    (case_body(attachments=["ftp://x"]), "attachments[0]"),
    (case_body(attachments="https://x.cn/a.pdf"), "attachments"),
    (case_body(location={"lat": 95, "long": 113}), "location.lat"),
    (case_body(location={"lat": 23}), "location.long"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_bad_case_body(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    body: dict[str, Any],
    field: str | None,
) -> None:
    r = await intake.post("/api/v1/cases", json=body, headers=await make_key("window"))
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    if field is None:
        assert r.status_code == 413
    else:
        assert r.status_code == 422, r.text
        assert field in [e["field"] for e in problem["errors"]], problem
    assert await count(sessionmaker, "cases") == 0
    assert await count(sessionmaker, "case_events") == 0
    assert await count(sessionmaker, "outbox") == 0


async def test_malformed_json_is_400(intake: httpx.AsyncClient, make_key: KeyFactory) -> None:
    headers = {**await make_key("window"), "Content-Type": "application/json"}
    r = await intake.post("/api/v1/cases", content=b'{"channel": "window",', headers=headers)
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body"
    r = await intake.post("/api/v1/cases", content=b"[1, 2]", headers=headers)
    assert r.status_code == 422


async def test_oversized_body_is_413_before_parsing(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    headers = {**await make_key("window"), "Content-Type": "application/json"}
    big = b'{"description": "' + b"a" * 70_000 + b'"}'
    r = await intake.post("/api/v1/cases", content=big, headers=headers)
    assert r.status_code == 413
    assert r.json()["errors"] == [{"field": "body", "message": "at most 65536 bytes"}]

    async def chunks() -> Any:  # no Content-Length: counted as it streams
        for _ in range(10):
            yield b"a" * 10_000

    r = await intake.post("/api/v1/cases", content=chunks(), headers=headers)
    assert r.status_code == 413


async def test_unknown_route_and_method_are_problems(intake: httpx.AsyncClient) -> None:
    r = await intake.get("/api/v1/nothing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    r = await intake.put("/api/v1/cases")
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"


async def test_bad_action_bodies(intake: httpx.AsyncClient, make_key: KeyFactory) -> None:
    window = await make_key("window")
    case_no = await registered(intake, window)
    for path, body, field in [
        ("resolve-on-spot", {}, "note"),
        ("resolve-on-spot", {"note": ""}, "note"),
        ("out-of-scope", {"explanation": "y"}, "referred_to"),
        ("feedback", {"satisfaction": "meh"}, "satisfaction"),
        ("feedback", {"satisfaction": "satisfied", "comment": "c" * 1001}, "comment"),
    ]:
        r = await intake.post(f"/api/v1/cases/{case_no}/{path}", json=body, headers=window)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["errors"][0]["field"] == field
    assert (await intake.get(f"/api/v1/cases/{case_no}", headers=window)).json()[
        "status"
    ] == "registered"
