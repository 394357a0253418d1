"""重复件: the same caller with the same matter while it is open is linked, not duplicated."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case.repeats import similarity
from tests.helpers.bodies import case_body
from tests.helpers.db import count
from tests.helpers.hotline import order, post
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")


@pytest.fixture
def linking(intake_app: Any) -> Iterator[None]:
    settings = intake_app.state.settings
    old = settings.repeat_similarity
    settings.repeat_similarity = 0.8
    yield
    settings.repeat_similarity = old


def test_similarity_ignores_width_case_and_spaces() -> None:
    assert similarity("营业执照 办不下来", "营业执照办不下来。") > 0.9
    assert similarity("营业执照办不下来", "低保申请迟迟没有结果") < 0.3


@pytest.mark.usefixtures("linking")
async def test_the_same_matter_again_is_a_repeat(
    intake: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    window = await make_key("window")
    first = await intake.post("/api/v1/cases", json=case_body(), headers=window)
    assert (first.status_code, first.json()["repeat"]) == (201, False)
    again = await intake.post(
        "/api/v1/cases",
        json=case_body(description=case_body()["description"] + "请尽快处理!"),
        headers=window,
    )
    assert again.status_code == 200
    assert (again.json()["repeat"], again.json()["case_no"], again.json()["repeat_count"]) == (
        True,
        first.json()["case_no"],
        1,
    )
    other_matter = await intake.post(
        "/api/v1/cases",
        json=case_body(title="低保", description="低保申请迟迟没有结果"),
        headers=window,
    )
    assert other_matter.json()["repeat"] is False
    other_person = await intake.post(
        "/api/v1/cases",
        json=case_body(applicant={"name": "李四", "phone": "13700000001"}),
        headers=window,
    )
    assert other_person.json()["repeat"] is False
    assert await count(sessionmaker, "cases") == 3
    history = (await intake.get(f"/api/v1/cases/{first.json()['case_no']}", headers=window)).json()[
        "history"
    ]
    assert [e["action"] for e in history] == ["register", "repeat"]


@pytest.mark.usefixtures("linking")
async def test_a_finished_case_is_not_a_repeat_target(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    window = await make_key("window")
    no = (await intake.post("/api/v1/cases", json=case_body(), headers=window)).json()["case_no"]
    await intake.post(
        f"/api/v1/cases/{no}/resolve-on-spot", json={"note": "已解决"}, headers=window
    )
    again = await intake.post("/api/v1/cases", json=case_body(), headers=window)
    assert (again.status_code, again.json()["repeat"]) == (201, False)


@pytest.mark.usefixtures("linking")
async def test_simultaneous_repeats_open_one_case(
    intake: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    window = await make_key("window")
    results = await asyncio.gather(
        *[intake.post("/api/v1/cases", json=case_body(), headers=window) for _ in range(4)]
    )
    assert sorted(r.status_code for r in results) == [200, 200, 200, 201]
    assert await count(sessionmaker, "cases") == 1


@pytest.mark.usefixtures("linking")
async def test_a_hotline_order_about_an_open_window_case_is_linked(
    intake: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    window = await make_key("window")
    body = json.loads(order())
    first = (
        await intake.post(
            "/api/v1/cases",
            headers=window,
            json=case_body(
                title=body["title"],
                description=body["content"],
                applicant={"phone": body["caller"]["phone"]},
            ),
        )
    ).json()
    r = await post(intake, order())
    assert r.status_code == 200
    assert (r.json()["repeat"], r.json()["case_no"]) == (True, first["case_no"])
    assert await count(sessionmaker, "cases") == 1
    assert await count(sessionmaker, "hotline_orders") == 1  # the order still points at its case
