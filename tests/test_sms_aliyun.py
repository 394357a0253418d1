"""The Alibaba Cloud SMS client: its signature against the documentation's worked example, and
the real client against a local server that checks every request's signature and answers the
provider's documented success and error bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.outbox.topics import Topic
from shared.errors import Undeliverable
from shared.models import Notice, OutboxMessage
from shared.sms import SmsRefused
from shared.sms.aliyun import AliyunSms, signature
from sla_worker.dispatch import Handler, dispatch_all
from sla_worker.handlers import notice_handler
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock
from tests.helpers.serving import serve

SECRET = "sms-secret-0123456789abcdef"
TEMPLATES = {
    "registered": "SMS_900000001",
    "assigned": "SMS_900000002",
    "suspended": "SMS_900000003",
}
NOT_A_MOBILE = "13800000404"
LIMITED = "13900000000"
"""The local provider answers flow control for this number, as Alibaba Cloud does after too
many messages to one phone in a day."""


def test_the_signature_is_the_documentations_worked_example() -> None:
    """Alibaba Cloud's own example: these parameters, signed with `testSecret` for GET, give
    zJDF+Lrzhj/ThnlvIToysFRq6t4= (any slip in encoding or order gives another)."""
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert signature("testSecret", "GET", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert signature("testSecret", "POST", params) != "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def client(http: httpx.AsyncClient, url: str, secret: str = SECRET, **more: Any) -> AliyunSms:
    return AliyunSms(
        http,
        access_key_id="LTAI-test",
        access_key_secret=secret,
        sign_name="办不成事窗口",
        templates=TEMPLATES,
        endpoint=url + "/",
        **more,
    )


def provider_app(received: list[dict[str, str]], *, down: list[bool]) -> FastAPI:
    """Alibaba Cloud SMS as far as SendSms goes: the signature checked, documented answers."""
    app = FastAPI()

    @app.post("/")
    async def send_sms(request: Request) -> JSONResponse:
        if down[0]:
            return JSONResponse({"Code": "isp.SYSTEM_ERROR", "Message": "系统错误"}, 500)
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        given = form.pop("Signature", "")
        if given != signature(SECRET, "POST", form):
            body = {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched",
            }
            return JSONResponse({"RequestId": "r-1", **body}, 400)
        received.append(form)
        if form["PhoneNumbers"] == NOT_A_MOBILE:
            return JSONResponse(
                {"Message": "非法手机号", "RequestId": "r-4", "Code": "isv.MOBILE_NUMBER_ILLEGAL"}
            )
        if form["PhoneNumbers"] == LIMITED:
            return JSONResponse(
                {
                    "Message": "触发号码天级流控Permits:10",
                    "RequestId": "r-2",
                    "Code": "isv.BUSINESS_LIMIT_CONTROL",
                }
            )
        return JSONResponse(
            {
                "Message": "OK",
                "RequestId": "r-3",
                "BizId": f"90061974{len(received)}^0",
                "Code": "OK",
            }
        )

    return app


async def test_the_client_signs_what_the_provider_checks() -> None:
    received: list[dict[str, str]] = []
    with serve(provider_app(received, down=[False])) as url:
        async with httpx.AsyncClient(timeout=5) as http:
            sms = client(http, url, clock=lambda: datetime(2026, 11, 18, 2, 0, tzinfo=UTC))
            values = {"case_no": "GZ-20261118-000001", "department": "广州市不动产登记中心"}
            ref = await sms.send(
                "13800138001", "…", case_no="GZ-20261118-000001", event="assigned", values=values
            )
            with pytest.raises(SmsRefused, match=r"isv\.BUSINESS_LIMIT_CONTROL") as limited:
                await sms.send(LIMITED, "…", case_no="x", event="assigned", values=values)
            assert not isinstance(limited.value, Undeliverable)  # the minute passes: retried
            with pytest.raises(Undeliverable, match=r"isv\.MOBILE_NUMBER_ILLEGAL"):
                await sms.send(NOT_A_MOBILE, "…", case_no="x", event="assigned", values=values)
            with pytest.raises(SmsRefused, match="no approved template"):
                await sms.send("13800138001", "…", case_no="x", event="closed", values=values)
            wrong = client(http, url, secret="not-the-secret-0123456789")
            with pytest.raises(SmsRefused, match="SignatureDoesNotMatch"):
                await wrong.send("13800138001", "…", case_no="x", event="assigned", values=values)
    assert ref == "900619741^0"
    first = received[0]
    assert (first["Action"], first["TemplateCode"], first["SignName"]) == (
        "SendSms",
        "SMS_900000002",
        "办不成事窗口",
    )
    assert first["Timestamp"] == "2026-11-18T02:00:00Z"
    assert first["TemplateParam"] == (
        '{"case_no":"GZ-20261118-000001","department":"广州市不动产登记中心"}'
    )


@pytest.mark.usefixtures("sample_departments")
async def test_notices_through_the_provider_survive_its_outage_in_order(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The provider is down: the notices wait in the outbox (one attempt counted each time);
    when it is back they go in the order of the steps, and what it answered is kept."""
    case = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    r = await routing.post(f"/api/v1/cases/{case['case_no']}/sign", json={}, headers=keys["bdc"])
    assert r.status_code == 200
    r = await routing.post(
        f"/api/v1/cases/{case['case_no']}/suspend", json={"reason": "等待材料"}, headers=keys["bdc"]
    )
    assert r.status_code == 200
    received: list[dict[str, str]] = []
    down = [True]
    with serve(provider_app(received, down=down)) as url:
        async with httpx.AsyncClient(timeout=5) as http:
            sms = client(http, url)
            jobs: dict[str, Handler] = {
                Topic.applicant_notice: notice_handler(sessionmaker, sms, "办不成事窗口", clock)
            }
            assert await dispatch_all(sessionmaker, jobs) == 0
            async with sessionmaker() as session, session.begin():
                messages = (
                    (
                        await session.execute(
                            select(OutboxMessage)
                            .where(OutboxMessage.topic == Topic.applicant_notice)
                            .order_by(OutboxMessage.id)
                        )
                    )
                    .scalars()
                    .all()
                )
                assert [m.attempts for m in messages] == [1, 0, 0]  # the first blocks the rest
                for m in messages:
                    m.available_at = datetime(2000, 1, 1, tzinfo=UTC)
            down[0] = False
            assert await dispatch_all(sessionmaker, jobs) == 3
    assert [f["TemplateCode"] for f in received] == [
        "SMS_900000001",
        "SMS_900000002",
        "SMS_900000003",
    ]
    assert all(f["PhoneNumbers"] == "13800138001" for f in received)
    async with sessionmaker() as session:
        refs = list(await session.scalars(select(Notice.provider_ref).order_by(Notice.id)))
    assert refs == ["900619741^0", "900619742^0", "900619743^0"]
