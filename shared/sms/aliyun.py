"""Alibaba Cloud SMS (dysmsapi, `SendSms`, API version 2017-05-25) with its RPC signature,
version 1.0: HMAC-SHA1 over the method and the sorted, percent-encoded parameters, keyed with
the AccessKey secret and "&". Written from the public documentation and pinned by its worked
example (tests/test_sms_aliyun.py).

China's carriers send only texts whose template an operator had approved: each notice's event
names an approved template (`SMS_…`) and the values fill its `${…}` variables.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from shared.errors import Undeliverable
from shared.sms import SmsRefused

ENDPOINT = "https://dysmsapi.aliyuncs.com/"
VERSION = "2017-05-25"


class SmsUndeliverable(SmsRefused, Undeliverable):
    """A refusal about this message or this phone, which no retry changes: the notice is kept
    as not delivered, with the code, instead of being retried."""


PERMANENT = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",  # not a mobile number
        "isv.BLACK_KEY_CONTROL_LIMIT",  # the number is on the carrier's blacklist
        "isv.PARAM_LENGTH_LIMIT",  # a value longer than the template allows
        "isv.INVALID_JSON_PARAM",
    }
)
"""Codes from the documentation's error list that concern the message, not the account, the
configuration or the rate (those heal when an operator acts or the minute passes, so they are
retried)."""


def encode(value: str) -> str:
    """Percent-encoding as the signature defines it: RFC 3986 unreserved characters kept, a
    space as %20 and `~` unescaped."""
    return quote(value, safe="~")


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(f"{encode(k)}={encode(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{encode('/')}&{encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    channel = "sms"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: Mapping[str, str],
        endpoint: str = ENDPOINT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http, self._endpoint, self._clock = http, endpoint, clock
        self._key_id, self._secret = access_key_id, access_key_secret
        self._sign_name, self._templates = sign_name, dict(templates)

    def request(self, phone: str, event: str, values: Mapping[str, str]) -> dict[str, str]:
        """The signed parameters of one SendSms call."""
        if event not in self._templates:
            raise SmsRefused(f"no approved template for {event!r} (NOTICE_SMS_TEMPLATES)")
        params = {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": "cn-hangzhou",
            "SignName": self._sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "TemplateCode": self._templates[event],
            "TemplateParam": json.dumps(dict(values), ensure_ascii=False, separators=(",", ":")),
            "Timestamp": self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": VERSION,
        }
        return {**params, "Signature": signature(self._secret, "POST", params)}

    async def send(
        self, phone: str, text: str, *, case_no: str, event: str, values: Mapping[str, str]
    ) -> str | None:
        """POST, so the phone travels in the body and never in a URL a proxy may log."""
        response = await self._http.post(self._endpoint, data=self.request(phone, event, values))
        try:
            answer = response.json()
        except ValueError:
            response.raise_for_status()
            raise SmsRefused(f"unreadable answer (HTTP {response.status_code})") from None
        code = str(answer.get("Code", f"HTTP {response.status_code}"))
        if code in PERMANENT:
            raise SmsUndeliverable(code)
        if code != "OK":
            raise SmsRefused(code)
        biz = answer.get("BizId")
        return str(biz) if biz else None
