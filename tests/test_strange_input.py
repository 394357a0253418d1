"""What a fuzzer, a careless integrator or a stranger sends: NUL bytes and control characters in
any string, full-width and other scripts' digits, numbers past 64 bits, dates in year 1 or 9999,
odd JSON. Each is a clear 4xx naming the field, never a 500, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.helpers.bodies import case_body
from tests.helpers.db import count
from tests.helpers.hotline import order, post, signed
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"description": "房屋\u0000登记"}, "description"),
        ({"title": "bell\u0007"}, "title"),
        ({"district": "越秀\u001b[31m区"}, "district"),
        ({"applicant": {"name": "黄\u0000丽华", "phone": "13800138001"}}, "applicant.name"),
        ({"applicant": {"phone": "13800138001\u0000"}}, "applicant.phone"),
        ({"description": "lone \ud800 surrogate"}, "description"),
        ({"description": "non-character \uffff"}, "description"),
        ({"attachments": ["https://f.example/\u0000.pdf"]}, "attachments[0]"),
    ],
)
async def test_bad_characters_in_a_body_name_the_field(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    overrides: dict[str, Any],
    field: str,
) -> None:
    r = await intake.post(
        "/api/v1/cases",
        content=json.dumps(case_body(**overrides)),  # ensure_ascii: \u0000 and \ud800 escaped
        headers={**await make_key("window"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await count(sessionmaker, "cases") == 0


async def test_tab_and_line_breaks_are_text(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    body = case_body(description="第一行\n第二行\r\n\t缩进")
    r = await intake.post("/api/v1/cases", json=body, headers=await make_key("window"))
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/cases", {"department": "GZ\u0000BDC"}, "department"),
        ("/api/v1/cases", {"cursor": "abc\u0000"}, "cursor"),
        ("/api/v1/cases/GZ-1%00", {}, "path"),
        ("/api/v1/track/ABCD%00EFGH", {"phone_last4": "1234"}, "path"),
        ("/open311/v2/requests.json", {"service_code": "\u0000"}, "service_code"),
        ("/open311/v2/requests/GZ%00.json", {}, "path"),
    ],
)
async def test_nul_in_query_or_path_is_422_without_a_key(
    intake: httpx.AsyncClient, make_key: KeyFactory, path: str, params: dict[str, str], field: str
) -> None:
    for headers in ({}, await make_key("window")):
        r = await intake.get(path, params=params, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == field


async def test_nul_in_the_routing_api(routing: httpx.AsyncClient, make_key: KeyFactory) -> None:
    admin = await make_key("admin")
    for method, path, body in [
        ("POST", "/api/v1/departments", {"code": "X\u0000", "name": "x"}),
        ("PUT", "/api/v1/rules", {"version_note": "\u0000"}),
        ("POST", "/api/v1/route/explain", {"description": "营业\u0000执照"}),
        ("GET", "/api/v1/departments/GZ%00", None),
    ]:
        r = await routing.request(method, path, json=body, headers=admin)
        assert r.status_code == 422, (path, r.text)


@pytest.mark.parametrize(
    "authorization",
    ["Bearer é", "Bearer \u00ff\u00fe", "Bearer gdd_ä" + "x" * 40],
)
async def test_a_non_ascii_key_is_401(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, authorization: str
) -> None:
    headers = {b"Authorization": authorization.encode("utf-8")}  # raw bytes on the wire
    assert (await intake.get("/api/v1/cases", headers=headers)).status_code == 401
    assert (await routing.get("/api/v1/departments", headers=headers)).status_code == 401


async def test_a_non_ascii_or_huge_hotline_signature_is_401(intake: httpx.AsyncClient) -> None:
    body = order()
    good = {k.encode(): v.encode() for k, v in signed(body).items()}
    for headers in (
        {**good, b"X-Hotline-Signature": "sha256=é".encode()},
        {**good, b"X-Hotline-Timestamp": b"9" * 5000},
        {**good, b"X-Hotline-Timestamp": "１７００００００００".encode()},
    ):
        assert (await post(intake, body, headers)).status_code == 401


async def test_unicode_digits_in_the_phone_digits_are_422(intake: httpx.AsyncClient) -> None:
    for digits in ("８００１", "٨٠٠١", "१२३४"):
        r = await intake.get("/api/v1/track/ABCDEFGH", params={"phone_last4": digits})
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "phone_last4"


async def test_full_width_phone_digits_are_normalised_other_scripts_refused(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    window = await make_key("window")
    wide = await intake.post(
        "/api/v1/cases",
        json=case_body(applicant={"phone": "１３８００１３８００１"}),
        headers=window,
    )
    assert wide.status_code == 201, wide.text
    case = wide.json()
    assert case["applicant"]["phone"] == "13800138001"
    found = await intake.get(
        f"/api/v1/track/{case['tracking_code']}", params={"phone_last4": "8001"}
    )
    assert found.status_code == 200
    for phone in ("١٣٨٠٠١٣٨٠٠١", "१३८००१३८००१"):
        r = await intake.post(
            "/api/v1/cases", json=case_body(applicant={"phone": phone}), headers=window
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "applicant.phone"
    arabic_id = "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X"
    r = await intake.post(
        "/api/v1/cases",
        json=case_body(applicant={"phone": "13800138001", "id_number": arabic_id}),
        headers=window,
    )
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("GET", "/api/v1/stats/summary", {"params": {"date_from": "0001-01-01"}}, "date_from"),
        ("GET", "/api/v1/stats/summary", {"params": {"date_to": "9999-12-31"}}, "date_to"),
        ("GET", "/api/v1/reports/monthly", {"params": {"month": "0000-01"}}, "month"),
        ("GET", "/api/v1/cards", {"params": {"cursor": str(2**63)}}, "cursor"),
        ("GET", "/api/v1/outbox", {"params": {"cursor": str(2**64)}}, "cursor"),
        ("GET", f"/api/v1/rules/versions/{2**31}", {}, "number"),
        ("POST", f"/api/v1/cards/{2**63}/appeal", {"json": {"reason": "x"}}, "card_id"),
        ("POST", "/api/v1/route/explain", {"json": {"description": "x", "version": 2**31}}, ""),
        (
            "POST",
            "/api/v1/keys",
            {"json": {"role": "admin", "department": "", "holder": "t"}},
            "department",
        ),
        ("POST", "/api/v1/departments", {"json": {"code": "X", "name": "x", "n": 2**64}}, ""),
        ("POST", "/api/v1/route/explain", {"content": b'{"description": "x", "k": NaN}'}, ""),
    ],
)
async def test_out_of_range_values_are_422_on_routing(
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    field: str,
) -> None:
    if path == "/api/v1/keys":
        headers = await make_key("security_admin")
    elif path.endswith("/appeal"):  # only a department appeals (403 before 422 for others)
        headers = await make_key("department", "GZ-BDC")
    else:
        headers = await make_key("admin")
    if "content" in kwargs:
        headers["Content-Type"] = "application/json"
    r = await routing.request(method, path, headers=headers, **kwargs)
    assert r.status_code == 422, (path, r.text)
    assert r.json()["status"] == 422
    if field:
        assert field in [e["field"] for e in r.json()["errors"]], r.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"created_from": "0001-01-01"}, "created_from"),
        ({"created_to": "9999-12-31"}, "created_to"),
        ({"created_from": "9999-12-31T23:59:59-12:00"}, "created_from"),
        ({"limit": str(2**64)}, "limit"),
    ],
)
async def test_out_of_range_list_filters_are_422(
    intake: httpx.AsyncClient, make_key: KeyFactory, params: dict[str, str], field: str
) -> None:
    r = await intake.get("/api/v1/cases", params=params, headers=await make_key("window"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


async def test_a_hotline_order_from_year_9999_is_422(intake: httpx.AsyncClient) -> None:
    for moment in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"):
        r = await post(intake, order(received_at=moment))
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "received_at"


async def test_open311_json_that_is_not_an_object_is_400_and_deep_json_422(
    intake: httpx.AsyncClient,
) -> None:
    array = await intake.post(
        "/open311/v2/requests.json",
        content=b'["api_key", "x"]',
        headers={"Content-Type": "application/json"},
    )
    assert array.status_code == 400
    deep = await intake.post(
        "/open311/v2/requests.json",
        content=b"[" * 10_000 + b"]" * 10_000,
        headers={"Content-Type": "application/json"},
    )
    assert deep.status_code == 422
    assert deep.json()["errors"][0]["field"] == "body"
