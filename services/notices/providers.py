"""Where a notice goes: one interface, a provider per channel, and which one a case takes.

`console` is the default of `make run` and the tests: it writes each notice to the log, without
the phone number or openid, so a developer sees what a citizen would read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx
import structlog

from services.notices import rules
from shared.settings import Settings
from shared.sms.aliyun import AliyunSms
from shared.sms.tencent import TencentSms
from shared.wechat.subscribe import WechatSubscribe

log = structlog.get_logger("gaodedim.notices")


class Provider(Protocol):
    channel: str

    async def send(
        self, to: str, text: str, /, *, case_no: str, event: str, values: Mapping[str, str]
    ) -> str | None:
        """Send `text` to `to` (a phone, an openid), or, where carriers send only approved
        templates, the template for `event` filled with `values`; the provider's reference, if
        it gives one. Raises when the provider refused or could not be reached, so the outbox
        retries (`shared.errors.Undeliverable` when no retry can help)."""
        ...


STAFF_EVENTS = frozenset(
    {"supervised", "reminded", "supervision_overdue", "escalated", "urgent_after_hours"}
)
"""The texts to staff (`staff.sms`: 督办, 提级, 值班), which the console logs as such."""


class ConsoleProvider:
    channel = "console"

    async def send(
        self, to: str, text: str, /, *, case_no: str, event: str, values: Mapping[str, str]
    ) -> str | None:
        kind = "staff_text" if event in STAFF_EVENTS else "applicant_notice"
        log.info(kind, case_no=case_no, notice=event, text=text, characters=len(text))
        return None


@dataclass(frozen=True)
class Providers:
    """The channels configured: SMS always (the console at a desk), WeChat when the city's mini
    program is."""

    sms: Provider
    wechat: Provider | None = None

    def routes(self, case: rules.Noticed) -> list[tuple[Provider, str]]:
        """Where this case's notice may go, in the order to try: WeChat for a case with an
        openid (free, and read in the app the person used), then the mobile."""
        found: list[tuple[Provider, str]] = []
        if self.wechat is not None and case.applicant_openid:
            found.append((self.wechat, case.applicant_openid))
        if rules.is_mobile(case) and case.applicant_phone:
            found.append((self.sms, case.applicant_phone))
        return found


def make(settings: Settings, http: httpx.AsyncClient) -> Providers:
    """The providers the settings name and configure."""
    return Providers(sms=_sms(settings, http), wechat=_wechat(settings, http))


def _sms(settings: Settings, http: httpx.AsyncClient) -> Provider:
    if settings.notice_provider == "aliyun":
        if not (settings.aliyun_access_key_id and settings.aliyun_access_key_secret):
            raise ValueError("NOTICE_PROVIDER=aliyun needs ALIYUN_ACCESS_KEY_ID and _SECRET")
        return AliyunSms(
            http,
            access_key_id=settings.aliyun_access_key_id,
            access_key_secret=settings.aliyun_access_key_secret,
            sign_name=settings.notice_signature,
            templates=settings.notice_sms_templates,
            endpoint=settings.aliyun_sms_endpoint,
        )
    if settings.notice_provider == "tencent":
        if not (
            settings.tencent_secret_id
            and settings.tencent_secret_key
            and settings.tencent_sms_app_id
        ):
            raise ValueError(
                "NOTICE_PROVIDER=tencent needs TENCENT_SECRET_ID, _SECRET_KEY and _SMS_APP_ID"
            )
        return TencentSms(
            http,
            secret_id=settings.tencent_secret_id,
            secret_key=settings.tencent_secret_key,
            app_id=settings.tencent_sms_app_id,
            sign_name=settings.notice_signature,
            templates=settings.tencent_sms_templates,
            endpoint=settings.tencent_sms_endpoint,
            region=settings.tencent_sms_region,
        )
    return ConsoleProvider()


def _wechat(settings: Settings, http: httpx.AsyncClient) -> Provider | None:
    if settings.wechat_app_id and settings.wechat_app_secret:
        return WechatSubscribe(
            http,
            app_id=settings.wechat_app_id,
            app_secret=settings.wechat_app_secret,
            templates=settings.wechat_templates,
            endpoint=settings.wechat_endpoint,
            state=settings.wechat_state,
        )
    if settings.notice_provider == "console":
        return ConsoleProvider()  # a desk machine shows a WeChat case's notices too
    return None
