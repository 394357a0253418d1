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
from tests.conftest import KeyFactory, serve

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
    created = await asyncio.to_thread(_create, served, key)
    assert created.status_code == 201, created.text
    [receipt] = created.json()
    request_id = receipt["service_request_id"]
    assert receipt["service_notice"].startswith("跟踪码 ")

    client = GeoReport(served)
    services: list[dict[str, Any]] = await asyncio.to_thread(client.get_service_list)
    assert len(services) == 8
    assert {"service_code": "acceptance", "service_name": "受理问题"}.items() <= services[4].items()
    definition = await asyncio.to_thread(client.get_service_definition, "acceptance")
    assert definition == {"service_code": "acceptance", "attributes": []}
    one = await asyncio.to_thread(client.get_service_request, request_id)
    assert (one["service_request_id"], one["status"], one["service_code"]) == (
        request_id,
        "open",
        "acceptance",
    )
    assert one["description"] is None  # no key, public view: no complaint text
    assert one["lat"] == 22.45
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
