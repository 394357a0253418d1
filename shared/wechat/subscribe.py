"""WeChat mini-program subscribe messages (订阅消息, `subscribeMessage.send`), written from the
public documentation: an access token from `stable_token`, then one POST per message.

`stable_token`, not `token`: every worker process asks for a token, and `token` hands out a new
one that invalidates the others' (each process would knock the rest out every few minutes);
`stable_token` gives all of them the same one until it expires. The app secret travels in the
body, never in a URL.

A message is a template the operator chose in the mini program's console: named fields
(`thing1`, `character_string2`, `time3`…) each filled from our placeholders, and cut to what
its kind takes (a `thing` 20 characters), since a field too long refuses the whole message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from string import Template
from typing import Any

import httpx
from pydantic import BaseModel, Field

from shared.errors import Undeliverable

ENDPOINT = "https://api.weixin.qq.com"
TOKEN_SLACK = 300
"""Seconds before its expiry a token is renewed: never sent stale."""

STALE_TOKEN = frozenset({40001, 40014, 42001})
"""Invalid credential, invalid token, token expired: renew and try once more."""
PERMANENT = frozenset(
    {
        43101,  # the user has not subscribed, or used up their subscription
        40003,  # not an openid of this mini program
        47003,  # a field's value is not what its kind takes
    }
)

LIMITS = {
    "thing": 20,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "phrase": 5,
    "name": 10,
    "car_number": 8,
    "phone_number": 17,
}
"""The longest value each kind of field takes (its name without the number)."""


class WechatTemplate(BaseModel):
    """One notice's subscribe template: its id, and each field's text with our placeholders
    (`{"character_string1": "$case_no", "thing2": "$department"}`)."""

    template_id: str = Field(min_length=1, max_length=128)
    data: dict[str, str]
    page: str | None = Field(default=None, max_length=256)
    """The mini-program page the message opens (the case's tracking page)."""


class WechatRefused(Exception):
    """WeChat answered no: its errcode and errmsg, which carry no openid. Retried."""


class WechatUndeliverable(WechatRefused, Undeliverable):
    """No retry changes it (not subscribed, not our user): SMS is tried instead."""


def fit(field: str, value: str) -> str:
    kind = field.rstrip("0123456789")
    limit = LIMITS.get(kind)
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…" if kind == "thing" else value[:limit]


class WechatSubscribe:
    channel = "wechat"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        app_id: str,
        app_secret: str,
        templates: Mapping[str, WechatTemplate],
        endpoint: str = ENDPOINT,
        state: str = "formal",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http, self._endpoint, self._clock = http, endpoint.rstrip("/"), clock
        self._app_id, self._secret = app_id, app_secret
        self._templates, self._state = dict(templates), state
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def _access_token(self, *, force: bool = False) -> str:
        async with self._lock:
            if self._token and not force and self._token[1] > self._clock():
                return self._token[0]
            body = {
                "grant_type": "client_credential",
                "appid": self._app_id,
                "secret": self._secret,
                "force_refresh": force,
            }
            answer = await self._post("/cgi-bin/stable_token", body)
            if "access_token" not in answer:
                raise WechatRefused(_said(answer))
            lifetime = int(answer.get("expires_in", 7200))
            self._token = (str(answer["access_token"]), self._clock() + lifetime - TOKEN_SLACK)
            return self._token[0]

    async def _post(
        self, path: str, body: dict[str, Any], params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = await self._http.post(self._endpoint + path, json=body, params=params)
        try:
            answer = response.json()
        except ValueError:
            response.raise_for_status()
            raise WechatRefused(f"unreadable answer (HTTP {response.status_code})") from None
        if not isinstance(answer, dict):
            raise WechatRefused(f"unreadable answer (HTTP {response.status_code})")
        return answer

    def message(self, openid: str, event: str, values: Mapping[str, str]) -> dict[str, Any]:
        template = self._templates.get(event)
        if template is None:
            raise WechatUndeliverable(f"no subscribe template for {event!r} (WECHAT_TEMPLATES)")
        filled = {name: values.get(name, "") for name in values}
        data = {
            field: {"value": fit(field, Template(text).safe_substitute(filled))}
            for field, text in template.data.items()
        }
        message = {
            "touser": openid,
            "template_id": template.template_id,
            "data": data,
            "miniprogram_state": self._state,
            "lang": "zh_CN",
        }
        if template.page:
            message["page"] = Template(template.page).safe_substitute(filled)
        return message

    async def send(
        self, to: str, text: str, *, case_no: str, event: str, values: Mapping[str, str]
    ) -> str | None:
        message = self.message(to, event, values)
        for force in (False, True):
            token = await self._access_token(force=force)
            answer = await self._post(
                "/cgi-bin/message/subscribe/send", message, params={"access_token": token}
            )
            code = int(answer.get("errcode", 0))
            if code == 0:
                msgid = answer.get("msgid")
                return str(msgid) if msgid is not None else None
            if code not in STALE_TOKEN:
                break
        if code in PERMANENT:
            raise WechatUndeliverable(_said(answer))
        raise WechatRefused(_said(answer))


def _said(answer: Mapping[str, Any]) -> str:
    """errcode and the start of errmsg (its `rid` is WeChat's request id, useful to support)."""
    return f"{answer.get('errcode')} {str(answer.get('errmsg', ''))[:80]}".strip()
