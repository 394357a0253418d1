"""Notices by WeChat subscribe message (issue 15): the real client against a local server that
plays WeChat as documented (stable_token, subscribeMessage.send, its error codes), the fallback
to SMS, and which cases hear from us at all (the hotline asks; the applicant said no)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notices.providers import Providers
from services.outbox.topics import Topic
from shared.errors import Undeliverable
from shared.models import Notice
from shared.wechat.subscribe import WechatRefused, WechatSubscribe, WechatTemplate, fit
from sla_worker.dispatch import dispatch_all
from sla_worker.handlers import notice_handler
from tests.helpers.bodies import ESTATE
from tests.helpers.clock import ManualClock
from tests.helpers.notices import Phone
from tests.helpers.serving import serve

APP_ID, SECRET = "wx0123456789abcdef", "0123456789abcdef0123456789abcdef"
OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"
TEMPLATES = {
    "registered": WechatTemplate(
        template_id="tmpl-registered",
        data={"character_string1": "$case_no", "thing2": "$department", "thing3": "已登记"},
        page="pages/track/index?code=$tracking_code",
    ),
    "assigned": WechatTemplate(
        template_id="tmpl-assigned", data={"character_string1": "$case_no", "time2": "$due"}
    ),
}


class Wechat:
    """WeChat as far as the two calls go: tokens it issued, messages it took, and the answers
    the documentation lists. `refuse` maps a template to the errcode it answers."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.urls: list[str] = []
        self.refuse: dict[str, int] = {}

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/cgi-bin/stable_token")
        async def stable_token(request: Request) -> JSONResponse:
            self.urls.append(str(request.url))
            body = await request.json()
            if (body.get("appid"), body.get("secret")) != (APP_ID, SECRET):
                return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
            if body.get("force_refresh") or not self.tokens:
                self.tokens.append(f"token-{len(self.tokens) + 1}")
            return JSONResponse({"access_token": self.tokens[-1], "expires_in": 7200})

        @app.post("/cgi-bin/message/subscribe/send")
        async def send(request: Request) -> JSONResponse:
            self.urls.append(str(request.url))
            if not self.tokens or request.query_params.get("access_token") != self.tokens[-1]:
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
            message = await request.json()
            code = self.refuse.get(message["template_id"])
            if code == 43101:
                return JSONResponse({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
            if code:
                return JSONResponse({"errcode": code, "errmsg": "argument invalid!"})
            if any(len(f["value"]) > 20 for k, f in message["data"].items() if "thing" in k):
                return JSONResponse({"errcode": 47003, "errmsg": "argument invalid! thing"})
            self.messages.append(message)
            return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": 3000 + len(self.messages)})

        return app


def client(http: httpx.AsyncClient, url: str) -> WechatSubscribe:
    return WechatSubscribe(
        http, app_id=APP_ID, app_secret=SECRET, templates=TEMPLATES, endpoint=url
    )


def test_a_field_is_cut_to_what_its_kind_takes() -> None:
    assert fit("thing2", "广州市越秀区规划和自然资源局不动产登记中心窗口") == (
        "广州市越秀区规划和自然资源局不动产登记…"  # 19 and the ellipsis
    )
    assert len(fit("thing2", "长" * 40)) == 20
    assert fit("character_string1", "GZ-20261123-000042") == "GZ-20261123-000042"
    assert fit("phrase3", "已重新办理中") == "已重新办理"
    assert fit("time2", "11月30日17:30") == "11月30日17:30"


async def test_the_client_keeps_one_token_renews_a_stale_one_and_reads_refusals() -> None:
    wechat = Wechat()
    values = {"case_no": "GZ-20261118-000001", "department": "区市场监督管理局", "due": "x"}
    with serve(wechat.app()) as url:
        async with httpx.AsyncClient(timeout=5) as http:
            sms = client(http, url)
            first = await sms.send(OPENID, "…", case_no="x", event="registered", values=values)
            await sms.send(OPENID, "…", case_no="x", event="assigned", values=values)
            assert wechat.tokens == ["token-1"]  # asked for once, used twice
            wechat.tokens.append("token-2")  # another process forced a new one
            await sms.send(OPENID, "…", case_no="x", event="registered", values=values)
            assert len(wechat.messages) == 3  # renewed (force_refresh) and sent once more
            wechat.refuse["tmpl-assigned"] = 43101
            with pytest.raises(Undeliverable, match="43101"):
                await sms.send(OPENID, "…", case_no="x", event="assigned", values=values)
            with pytest.raises(Undeliverable, match="no subscribe template"):
                await sms.send(OPENID, "…", case_no="x", event="closed", values=values)
            wechat.refuse["tmpl-assigned"] = 45009  # the day's quota: tried again later
            with pytest.raises(WechatRefused) as limited:
                await sms.send(OPENID, "…", case_no="x", event="assigned", values=values)
            assert not isinstance(limited.value, Undeliverable)
            wrong = WechatSubscribe(
                http, app_id=APP_ID, app_secret="f" * 32, templates=TEMPLATES, endpoint=url
            )
            with pytest.raises(WechatRefused, match="40013"):
                await wrong.send(OPENID, "…", case_no="x", event="assigned", values=values)
    assert first == "3001"
    message = wechat.messages[0]
    assert message["touser"] == OPENID
    assert message["template_id"] == "tmpl-registered"
    assert message["data"] == {
        "character_string1": {"value": "GZ-20261118-000001"},
        "thing2": {"value": "区市场监督管理局"},
        "thing3": {"value": "已登记"},
    }
    assert (message["miniprogram_state"], message["lang"]) == ("formal", "zh_CN")
    assert message["page"] == "pages/track/index?code=$tracking_code"  # no value: left as is
    assert not any(SECRET in u for u in wechat.urls)  # the secret travels in bodies only


@pytest.mark.usefixtures("sample_departments")
async def test_a_case_with_an_openid_hears_by_wechat_and_by_sms_when_wechat_will_not(
    intake: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    body = {**ESTATE, "applicant": {**ESTATE["applicant"], "wechat_openid": OPENID}}
    case = (await intake.post("/api/v1/cases", json=body, headers=keys["window"])).json()
    assert OPENID not in str(case)  # never shown, to anyone
    wechat, phone = Wechat(), Phone()
    wechat.refuse["tmpl-assigned"] = 43101  # the person's one subscription is used up
    with serve(wechat.app()) as url:
        async with httpx.AsyncClient(timeout=5) as http:
            providers = Providers(sms=phone, wechat=client(http, url))
            handler = notice_handler(sessionmaker, providers, "办不成事窗口", clock)
            assert await dispatch_all(sessionmaker, {Topic.applicant_notice: handler}) == 2
    (registered,) = wechat.messages
    assert registered["data"]["character_string1"] == {"value": case["case_no"]}
    assert registered["page"] == f"pages/track/index?code={case['tracking_code']}"
    assert [to for to, _ in phone.sent] == ["13800138001"]
    assert "已交广州市不动产登记中心办理" in phone.sent[0][1]
    async with sessionmaker() as session:
        kept = (await session.execute(select(Notice).order_by(Notice.id))).scalars().all()
    assert [(n.event, n.channel, n.provider_ref) for n in kept] == [
        ("registered", "wechat", "3001"),
        ("assigned", "sms", "ref-1"),
    ]


@pytest.mark.usefixtures("sample_departments")
async def test_the_hotline_may_ask_and_an_applicant_may_decline_at_registration(
    intake: httpx.AsyncClient,
    make_key: Any,
    keys: dict[str, dict[str, str]],
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    hotline = await make_key("hotline")
    phoned = {**ESTATE, "channel": "hotline"}
    for notices in (None, True):
        body = phoned if notices is None else {**phoned, "notices": notices}
        r = await intake.post("/api/v1/cases", json=body, headers=hotline)
        assert r.status_code == 201, r.text
    declined = {**ESTATE, "notices": False}
    r = await intake.post("/api/v1/cases", json=declined, headers=keys["window"])
    assert r.status_code == 201, r.text
    assert r.json()["notices_opted_out"] is True
    phone = Phone()
    handler = notice_handler(sessionmaker, phone, "办不成事窗口", clock)
    await dispatch_all(sessionmaker, {Topic.applicant_notice: handler})
    async with sessionmaker() as session:
        heard = (await session.execute(select(Notice.case_id).distinct())).all()
    assert len(heard) == 1  # the hotline case whose hotline asked, and no other
    assert phone.sent[0][1].startswith("【办不成事窗口】您的诉求已登记")
