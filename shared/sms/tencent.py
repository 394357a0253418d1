"""Tencent Cloud SMS (`SendSms`, API version 2021-01-11) with its signature method v3,
TC3-HMAC-SHA256: a canonical request hashed, signed with a key derived from the SecretKey, the
date and the service. Written from the public documentation and pinned by its worked example
(tests/test_sms_tencent.py).

Tencent's templates take their variables by position ({1}, {2}…), so each notice names its
template and which of our values fill it, in order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel, Field

from shared.errors import Undeliverable
from shared.sms import SmsRefused

ENDPOINT = "https://sms.tencentcloudapi.com"
SERVICE, VERSION, ACTION = "sms", "2021-01-11", "SendSms"
CONTENT_TYPE = "application/json; charset=utf-8"

PERMANENT = frozenset(
    {
        "InvalidParameterValue.IncorrectPhoneNumber",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.PhoneNumberParseFail",
        "InvalidParameterValue.TemplateParameterLengthLimit",
        "FailedOperation.ContainSensitiveWord",
    }
)
"""Codes about this message or this number; rate limits, balance and configuration heal when
the minute passes or an operator acts, so they are retried."""


class TencentTemplate(BaseModel):
    """One notice's approved template and the values that fill {1}, {2}… in order."""

    template_id: str = Field(min_length=1, max_length=32)
    params: list[str] = Field(default_factory=list, max_length=10)


class TencentUndeliverable(SmsRefused, Undeliverable):
    """A refusal about this message or number: kept as not delivered, not retried."""


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def authorization(
    secret_id: str, secret_key: str, *, host: str, payload: str, timestamp: int, service: str
) -> str:
    """The Authorization header of a POST with a JSON body, signing content-type and host."""
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload.encode()).hexdigest(),
        ]
    )
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{day}/{service}/tc3_request"
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), day), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


class TencentSms:
    channel = "sms"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        secret_id: str,
        secret_key: str,
        app_id: str,
        sign_name: str,
        templates: Mapping[str, TencentTemplate],
        endpoint: str = ENDPOINT,
        region: str = "ap-guangzhou",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http, self._endpoint, self._clock = http, endpoint.rstrip("/"), clock
        self._id, self._key, self._app_id = secret_id, secret_key, app_id
        self._sign_name, self._templates, self._region = sign_name, dict(templates), region
        self._host = httpx.URL(self._endpoint).host

    def request(
        self, phone: str, event: str, values: Mapping[str, str]
    ) -> tuple[str, dict[str, str]]:
        """The body and headers of one SendSms call."""
        template = self._templates.get(event)
        if template is None:
            raise SmsRefused(f"no approved template for {event!r} (TENCENT_SMS_TEMPLATES)")
        body = json.dumps(
            {
                "PhoneNumberSet": [f"+86{phone}"],
                "SmsSdkAppId": self._app_id,
                "SignName": self._sign_name,
                "TemplateId": template.template_id,
                "TemplateParamSet": [values.get(name, "") for name in template.params],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        stamp = int(self._clock())
        headers = {
            "Authorization": authorization(
                self._id,
                self._key,
                host=self._host,
                payload=body,
                timestamp=stamp,
                service=SERVICE,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self._host,
            "X-TC-Action": ACTION,
            "X-TC-Version": VERSION,
            "X-TC-Region": self._region,
            "X-TC-Timestamp": str(stamp),
        }
        return body, headers

    async def send(
        self, to: str, text: str, *, case_no: str, event: str, values: Mapping[str, str]
    ) -> str | None:
        body, headers = self.request(to, event, values)
        response = await self._http.post(
            self._endpoint + "/", content=body.encode(), headers=headers
        )
        try:
            answer = response.json()["Response"]
        except (ValueError, KeyError, TypeError):
            response.raise_for_status()
            raise SmsRefused(f"unreadable answer (HTTP {response.status_code})") from None
        if "Error" in answer:  # the call itself refused: signature, balance, rate
            raise SmsRefused(str(answer["Error"].get("Code", "Error")))
        (status,) = answer.get("SendStatusSet") or [{}]
        code = str(status.get("Code", "missing SendStatusSet"))
        if code in PERMANENT:
            raise TencentUndeliverable(code)
        if code != "Ok":
            raise SmsRefused(code)
        serial = status.get("SerialNo")
        return str(serial) if serial else None
