from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.conftest import KeyFactory, case_body

pytestmark = pytest.mark.usefixtures("sample_departments")


async def _case(intake: httpx.AsyncClient, make_key: KeyFactory) -> dict[str, Any]:
    r = await intake.post("/api/v1/cases", json=case_body(), headers=await make_key("window"))
    body: dict[str, Any] = r.json()
    return body


async def test_tracking_shows_minimal_data_without_a_key(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    case = await _case(intake, make_key)
    r = await intake.get(f"/api/v1/track/{case['tracking_code']}", params={"phone_last4": "8001"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "registered"
    assert body["status_label"] == "已登记"
    assert body["handling_department"] == "广州市不动产登记中心"
    assert body["tracking_card"] == case["tracking_card"]
    assert [t["status"] for t in body["timeline"]] == ["registered"]
    flat = r.text
    for private in ("黄丽华", "13800138001", "applicant", "description", "reason"):
        assert private not in flat


async def test_tracking_forgives_case_and_spaces(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    case = await _case(intake, make_key)
    code = str(case["tracking_code"])
    messy = f" {code[:4].lower()}-{code[4:]}"
    r = await intake.get(f"/api/v1/track/{messy}", params={"phone_last4": "8001"})
    assert r.status_code == 200


async def test_wrong_digits_and_wrong_code_answer_the_same(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    case = await _case(intake, make_key)
    wrong_digits = await intake.get(
        f"/api/v1/track/{case['tracking_code']}", params={"phone_last4": "0000"}
    )
    wrong_code = await intake.get("/api/v1/track/ZZZZZZZZ", params={"phone_last4": "8001"})
    assert wrong_digits.status_code == wrong_code.status_code == 404
    assert wrong_digits.json() == wrong_code.json()


async def test_phone_digits_are_required_and_checked(intake: httpx.AsyncClient) -> None:
    assert (await intake.get("/api/v1/track/ABCDEFGH")).status_code == 422
    r = await intake.get("/api/v1/track/ABCDEFGH", params={"phone_last4": "12a4"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "phone_last4"


async def test_tracking_is_rate_limited(intake: httpx.AsyncClient, intake_app: object) -> None:
    settings = intake_app.state.settings  # type: ignore[attr-defined]
    old = settings.track_rate_limit_per_minute
    settings.track_rate_limit_per_minute = 3
    # The limit counts per clock minute: start early in one so the requests never straddle two.
    seconds_into_minute = time.time() % 60
    if seconds_into_minute > 57:
        await asyncio.sleep(60.5 - seconds_into_minute)
    try:
        responses = [
            await intake.get("/api/v1/track/ABCDEFGH", params={"phone_last4": "1234"})
            for _ in range(5)
        ]
    finally:
        settings.track_rate_limit_per_minute = old
    assert [r.status_code for r in responses] == [404, 404, 404, 429, 429]
    assert int(responses[-1].headers["retry-after"]) >= 1
    assert responses[-1].headers["content-type"] == "application/problem+json"
