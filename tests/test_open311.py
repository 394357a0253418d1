"""Open311 GeoReport v2, served on 127.0.0.1 and used by a real client from PyPI (georeport)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from georeport import GeoReport

from intake_api.app import create_app
from shared.settings import Settings
from tests.helpers.bodies import ESTATE
from tests.helpers.keys import KeyFactory
from tests.helpers.serving import serve

pytestmark = pytest.mark.usefixtures("sample_departments")


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings)) as url:
        yield f"{url}/open311/v2"


def _create(base: str, key: str, **form: str) -> httpx.Response:
    data = {
        "api_key": key,
        "service_code": "acceptance",
        "description": "连续两天取不到号,营业执照一直领不到",
        "phone": "13700137003",
        "first_name": "晓敏",
        "last_name": "鲁",
        "lat": "22.45",
        "long": "113.43",
        "address_string": "中山市三乡镇政务服务中心",
        **form,
    }
    return httpx.post(f"{base}/requests.json", data=data, timeout=10)


async def test_a_real_open311_client(served: str, make_key: KeyFactory) -> None:
    key = (await make_key("portal"))["Authorization"].removeprefix("Bearer ")
    created = await asyncio.to_thread(_create, served, key, **{"attribute[public_place]": "true"})
    assert created.status_code == 201, created.text
    [receipt] = created.json()
    request_id = receipt["service_request_id"]
    assert receipt["service_notice"].startswith("跟踪码 ")

    client = GeoReport(served)
    services: list[dict[str, Any]] = await asyncio.to_thread(client.get_service_list)
    assert len(services) == 8
    assert {"service_code": "acceptance", "service_name": "受理问题"}.items() <= services[4].items()
    definition = await asyncio.to_thread(client.get_service_definition, "acceptance")
    assert definition["service_code"] == "acceptance"
    assert [a["code"] for a in definition["attributes"]] == ["public_place"]
    one = await asyncio.to_thread(client.get_service_request, request_id)
    assert (one["service_request_id"], one["status"], one["service_code"]) == (
        request_id,
        "open",
        "acceptance",
    )
    assert one["description"] is None  # no key, public view: no complaint text
    assert one["service_notice"] is None  # nor the tracking code
    assert one["lat"] == 22.45  # a public place: its address is shown
    assert one["address"] == "中山市三乡镇政务服务中心"
    listed = await asyncio.to_thread(client.get_service_requests, status="open")
    assert [r["service_request_id"] for r in listed] == [request_id]

    xml_client = GeoReport(served, output_format="xml")
    xml_services = await asyncio.to_thread(xml_client.get_service_list)
    assert xml_services[0]["service_code"] == "policy"
    xml_one = await asyncio.to_thread(xml_client.get_service_request, request_id)
    assert xml_one["service_request_id"] == request_id

    async with httpx.AsyncClient() as http:
        mine = await http.get(f"{served}/requests/{request_id}.json", params={"api_key": key})
        discovery = (await http.get(f"{served}/discovery.json")).json()
    assert mine.json()[0]["description"] == "连续两天取不到号,营业执照一直领不到"
    assert mine.json()[0]["service_notice"].startswith("跟踪码 ")
    assert discovery["endpoints"][0].startswith(served)


@pytest.mark.parametrize(
    ("form", "status", "mentions"),
    [
        ({"api_key": ""}, 401, "api_key"),
        ({"api_key": "wrong"}, 401, "api_key"),
        ({"phone": ""}, 400, "phone"),
        ({"service_code": "nonsense"}, 400, "category"),
        ({"description": ""}, 400, "description"),
    ],
)
async def test_open311_errors(
    served: str, make_key: KeyFactory, form: dict[str, str], status: int, mentions: str
) -> None:
    key = (await make_key("portal"))["Authorization"].removeprefix("Bearer ")
    r = await asyncio.to_thread(_create, served, key, **form)
    assert r.status_code == status
    [error] = r.json()
    assert error["code"] == status
    assert mentions in error["description"]


def test_errors_and_lists_in_xml(served: str) -> None:
    r = httpx.get(f"{served}/services/nonsense.xml")
    assert r.status_code == 404
    root = ET.fromstring(r.content)
    assert root.tag == "errors"
    assert root.find("error/code").text == "404"  # type: ignore[union-attr]
    services = ET.fromstring(httpx.get(f"{served}/services.xml").content)
    assert [s.findtext("service_name") for s in services][:2] == [
        "政策原因办不成",
        "系统原因办不成",
    ]


async def test_the_public_feed_shows_only_what_a_311_feed_may(
    served: str,
    make_key: KeyFactory,
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
) -> None:
    """Window and hotline cases are not listed; a portal case shows its district, not the
    citizen's address, no tracking code and no text anyone wrote (the department's answer
    included); a case outside the feed answers like one that does not exist."""
    portal = (await make_key("portal"))["Authorization"].removeprefix("Bearer ")
    created = await asyncio.to_thread(
        _create, served, portal, address_string="中山市三乡镇某小区3栋501", district="三乡镇"
    )
    [receipt] = created.json()
    portal_no = receipt["service_request_id"]
    window_case = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    await routing.post(f"/api/v1/cases/{window_case['case_no']}/sign", json={}, headers=keys["bdc"])
    await routing.post(
        f"/api/v1/cases/{window_case['case_no']}/reply",
        json={"reply": "已联系黄丽华女士(13800138001)办结"},
        headers=keys["bdc"],
    )

    async with httpx.AsyncClient(base_url=served) as http:
        listed = (await http.get("/requests.json")).json()
        hidden = await http.get(f"/requests/{window_case['case_no']}.json")
        missing = await http.get("/requests/GZ-20000101-000001.json")
        xml = await http.get("/requests.xml")
    assert [r["service_request_id"] for r in listed] == [portal_no]
    [row] = listed
    assert row["address"] is None  # the form sent no district: nothing finer is shown
    assert (row["lat"], row["long"], row["service_notice"], row["description"]) == (
        None,
        None,
        None,
        None,
    )
    assert "小区" not in xml.text
    assert "跟踪码" not in xml.text
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()[0]["description"].replace(window_case["case_no"], "X") == missing.json()[
        0
    ]["description"].replace("GZ-20000101-000001", "X")
    for secret in ("黄丽华", "13800138001", window_case["tracking_code"]):
        assert secret not in (await asyncio.to_thread(httpx.get, f"{served}/requests.json")).text


async def test_public_feed_pages_and_odd_text(
    served: str, make_key: KeyFactory, sessionmaker: Any
) -> None:
    from sqlalchemy import update

    from shared.database import transaction
    from shared.models import Case

    portal = (await make_key("portal"))["Authorization"].removeprefix("Bearer ")
    for _ in range(3):
        assert (await asyncio.to_thread(_create, served, portal)).status_code == 201
    async with transaction(sessionmaker) as session:  # a stored text from before the guard
        await session.execute(update(Case).values(description="控制\x01字符\x1b"))
    async with httpx.AsyncClient(base_url=served) as http:
        first = (await http.get("/requests.json", params={"page_size": "2"})).json()
        second = (await http.get("/requests.json", params={"page_size": "2", "page": "2"})).json()
        too_big = await http.get("/requests.json", params={"page_size": "100000"})
        mine = await http.get("/requests.xml", params={"api_key": portal})
    assert (len(first), len(second)) == (2, 1)
    assert too_big.status_code == 400
    root = ET.fromstring(mine.content)  # well-formed although the stored text was not
    assert root.findtext("request/description") == "控制\ufffd字符\ufffd"


async def test_discovery_and_the_service_list_answer_as_documented(
    intake: httpx.AsyncClient,
) -> None:
    """The reads a GeoReport client starts with, through the suite's checked client (its answers
    are held to the OpenAPI document like every other)."""
    discovery = await intake.get("/open311/v2/discovery.json")
    assert discovery.status_code == 200
    assert discovery.json()["endpoints"]
    services = await intake.get("/open311/v2/services.json")
    assert services.status_code == 200
    codes = [s["service_code"] for s in services.json()]
    assert "policy" in codes
    one = await intake.get(f"/open311/v2/services/{codes[0]}.json")
    assert one.status_code == 200
    assert one.json()["service_code"] == codes[0]
