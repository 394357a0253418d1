"""The notices' words as data (issue 15): saved by an administrator as versions, previewed,
checked, and used from the next notice on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notices import catalogue, templates
from services.notices.schemas import Event
from shared.models import Notice
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock
from tests.helpers.notices import Phone, deliver

pytestmark = pytest.mark.usefixtures("sample_departments")
BASE = "/api/v1/notice-templates"


def test_every_notice_is_an_event_the_api_names() -> None:
    assert set(Event.__args__) == set(templates.DEFAULTS) == set(catalogue.EVENTS)  # type: ignore[attr-defined]


async def test_an_administrator_changes_a_notices_words_and_the_next_notice_uses_them(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = keys["admin"]
    listed = (await routing.get(BASE, headers=admin)).json()["items"]
    assert [t["event"] for t in listed] == list(templates.DEFAULTS)
    assert all(t["version"] is None for t in listed)
    registered = listed[0]
    assert registered["preview"]["text"].startswith("【办不成事窗口】您的诉求已登记，编号GZ-")
    assert registered["preview"]["segments"] == 1

    words = "【$signature】您的诉求已登记（$case_no），可凭跟踪码$tracking_code查询进度。"
    tried = await routing.post(f"{BASE}/registered/preview", json={"text": words}, headers=admin)
    assert tried.status_code == 200, tried.text
    assert tried.json()["text"] == (
        "【办不成事窗口】您的诉求已登记（GZ-20261123-000042），可凭跟踪码K7M2Q9XD查询进度。"
    )
    assert tried.json()["characters"] == len(tried.json()["text"])
    # A preview saves nothing.
    assert (await routing.get(f"{BASE}/registered", headers=admin)).json()["versions"] == []

    saved = await routing.put(f"{BASE}/registered", json={"text": words}, headers=admin)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["version"], saved.json()["text"]) == (1, words)

    case = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    phone = Phone()
    await deliver(sessionmaker, phone, clock)
    assert phone.sent[0][1] == (
        f"【办不成事窗口】您的诉求已登记（{case['case_no']}），"
        f"可凭跟踪码{case['tracking_code']}查询进度。"
    )
    async with sessionmaker() as session:
        versions = (
            await session.execute(select(Notice.template_version).order_by(Notice.id))
        ).all()
    assert [v for (v,) in versions] == [1, None]  # the assigned notice kept the built-in words

    # Going back is saving the old words again: a version of its own, the first one kept.
    again = await routing.put(
        f"{BASE}/registered", json={"text": templates.DEFAULTS["registered"]}, headers=admin
    )
    assert again.json()["version"] == 2
    history = (await routing.get(f"{BASE}/registered", headers=admin)).json()
    assert [v["version"] for v in history["versions"]] == [2, 1]
    assert history["current"]["text"] == templates.DEFAULTS["registered"]
    assert history["versions"][1]["saved_by"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("您的诉求$case_no由$name办理", "$name"),
        ("费用$5元", "`$`"),
        ("${case_no", "`$`"),
        ("", "at least 1 character"),
        ("长" * (catalogue.MAX_TEXT + 1), "at most 300"),
    ],
)
async def test_a_text_we_cannot_fill_is_refused_naming_the_field(
    routing: httpx.AsyncClient, keys: dict[str, dict[str, str]], text: str, why: str
) -> None:
    for method, path in (("PUT", f"{BASE}/closed"), ("POST", f"{BASE}/closed/preview")):
        r = await routing.request(method, path, json={"text": text}, headers=keys["admin"])
        assert r.status_code == 422, r.text
        (error,) = r.json()["errors"]
        assert error["field"] == "text", error
        assert why in error["message"], error


async def test_only_those_who_configure_touch_the_words(
    routing: httpx.AsyncClient, keys: dict[str, dict[str, str]], make_key: Any
) -> None:
    keys = {**keys, "supervisor": await make_key("supervisor")}
    for who in ("window", "bdc", "coordinator", "supervisor"):
        r = await routing.put(f"{BASE}/closed", json={"text": "已办结"}, headers=keys[who])
        assert r.status_code == 403
        assert (await routing.get(BASE, headers=keys[who])).status_code == 403
    r = await routing.get(f"{BASE}/no-such-notice", headers=keys["admin"])
    assert r.status_code == 422
