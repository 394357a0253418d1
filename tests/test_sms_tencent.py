"""Tencent Cloud SMS (issue 15): the TC3-HMAC-SHA256 signature pinned by the documentation's
worked example, and the real client against a local provider that checks every signature and
answers the documented success and error bodies."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.outbox.topics import Topic
from shared.errors import Undeliverable
from shared.models import Notice
from shared.sms import SmsRefused
from shared.sms.tencent import TencentSms, TencentTemplate, authorization
from sla_worker.dispatch import dispatch_all
from sla_worker.handlers import notice_handler
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock
from tests.helpers.serving import serve

SECRET_ID, SECRET_KEY = "AKIDtest0123456789", "tencent-test-secret-key-0123"
BLACKLISTED, LIMITED = "13800000404", "13900000000"
TEMPLATES = {
    "registered": TencentTemplate(
        template_id="1000001", params=["case_no", "tracking_code", "department"]
    ),
    "assigned": TencentTemplate(template_id="1000002", params=["case_no", "department", "due"]),
}


def test_the_signature_is_the_documentations_worked_example() -> None:
    """Signature method v3's example: DescribeInstances in Guangzhou, its JSON body as the
    documentation writes it (with \\u escapes), at 1551113065."""
    payload = (
        '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    assert authorization(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        host="cvm.tencentcloudapi.com",
        payload=payload,
        timestamp=1551113065,
        service="cvm",
    ) == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
        "tc3_request, SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def provider_app(received: list[dict[str, object]]) -> FastAPI:
    """Tencent Cloud SMS as far as SendSms goes: the signature recomputed from the headers and
    the raw body, and the documented answers."""
    app = FastAPI()

    @app.post("/")
    async def send_sms(request: Request) -> JSONResponse:
        body = (await request.body()).decode()
        expected = authorization(
            SECRET_ID,
            SECRET_KEY,
            host=request.headers["host"],
            payload=body,
            timestamp=int(request.headers["x-tc-timestamp"]),
            service="sms",
        )
        if request.headers.get("authorization") != expected:
            error = {"Code": "AuthFailure.SignatureFailure", "Message": "签名验证失败"}
            return JSONResponse({"Response": {"Error": error, "RequestId": "r-1"}})
        sent = json.loads(body)
        received.append({**sent, "action": request.headers["x-tc-action"]})
        phone = sent["PhoneNumberSet"][0]
        code, message = "Ok", "send success"
        if phone == f"+86{BLACKLISTED}":
            code, message = "FailedOperation.PhoneNumberInBlacklist", "手机号在免打扰名单库中"
        elif phone == f"+86{LIMITED}":
            code, message = (
                "LimitExceeded.PhoneNumberDailyLimit",
                "单个手机号日下发条数超过设定的上限",
            )
        status = {
            "SerialNo": f"2433:{len(received)}" if code == "Ok" else "",
            "PhoneNumber": phone,
            "Fee": 1 if code == "Ok" else 0,
            "SessionContext": "",
            "Code": code,
            "Message": message,
            "IsoCode": "CN",
        }
        return JSONResponse({"Response": {"SendStatusSet": [status], "RequestId": "r-2"}})

    return app


def client(http: httpx.AsyncClient, url: str, key: str = SECRET_KEY) -> TencentSms:
    return TencentSms(
        http,
        secret_id=SECRET_ID,
        secret_key=key,
        app_id="1400000001",
        sign_name="办不成事窗口",
        templates=TEMPLATES,
        endpoint=url,
    )


async def test_the_client_signs_what_the_provider_checks_and_reads_its_codes() -> None:
    received: list[dict[str, object]] = []
    values = {"case_no": "GZ-20261118-000001", "department": "广州市不动产登记中心", "due": "x"}
    with serve(provider_app(received)) as url:
        async with httpx.AsyncClient(timeout=5) as http:
            sms = client(http, url)
            ref = await sms.send("13800138001", "…", case_no="x", event="assigned", values=values)
            with pytest.raises(Undeliverable, match="PhoneNumberInBlacklist"):
                await sms.send(BLACKLISTED, "…", case_no="x", event="assigned", values=values)
            with pytest.raises(SmsRefused, match="PhoneNumberDailyLimit") as limited:
                await sms.send(LIMITED, "…", case_no="x", event="assigned", values=values)
            assert not isinstance(limited.value, Undeliverable)  # tomorrow it goes
            with pytest.raises(SmsRefused, match="no approved template"):
                await sms.send("13800138001", "…", case_no="x", event="closed", values=values)
            wrong = client(http, url, key="not-the-secret-key-0123456")
            with pytest.raises(SmsRefused, match=r"AuthFailure\.SignatureFailure"):
                await wrong.send("13800138001", "…", case_no="x", event="assigned", values=values)
    assert ref == "2433:1"
    first = received[0]
    assert first == {
        "PhoneNumberSet": ["+8613800138001"],
        "SmsSdkAppId": "1400000001",
        "SignName": "办不成事窗口",
        "TemplateId": "1000002",
        "TemplateParamSet": ["GZ-20261118-000001", "广州市不动产登记中心", "x"],
        "action": "SendSms",
    }


@pytest.mark.usefixtures("sample_departments")
async def test_a_case_walks_through_tencent_cloud(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    case = (await intake.post("/api/v1/cases", json=ESTATE, headers=keys["window"])).json()
    received: list[dict[str, object]] = []
    with serve(provider_app(received)) as url:
        async with httpx.AsyncClient(timeout=5) as http:
            handler = notice_handler(sessionmaker, client(http, url), "办不成事窗口", clock)
            assert await dispatch_all(sessionmaker, {Topic.applicant_notice: handler}) == 2
    assert [r["TemplateId"] for r in received] == ["1000001", "1000002"]
    assert received[0]["TemplateParamSet"] == [
        case["case_no"],
        case["tracking_code"],
        "广州市不动产登记中心",
    ]
    async with sessionmaker() as session:
        refs = list(await session.scalars(select(Notice.provider_ref).order_by(Notice.id)))
    assert refs == ["2433:1", "2433:2"]
