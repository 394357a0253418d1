"""Where a notice goes: one interface, a provider per channel.

`console` is the default of `make run` and the tests: it writes each notice to the log, without
the phone number, so a developer sees what a citizen would read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import httpx
import structlog

from shared.settings import Settings
from shared.sms.aliyun import AliyunSms

log = structlog.get_logger("gaodedim.notices")


class Provider(Protocol):
    channel: str

    async def send(
        self, phone: str, text: str, *, case_no: str, event: str, values: Mapping[str, str]
    ) -> str | None:
        """Send `text` (or, where carriers send only approved templates, the template for
        `event` filled with `values`); the provider's reference, if it gives one. Raises when the
        provider refused or could not be reached, so the outbox retries."""
        ...


class ConsoleProvider:
    channel = "console"

    async def send(
        self, phone: str, text: str, *, case_no: str, event: str, values: Mapping[str, str]
    ) -> str | None:
        log.info("applicant_notice", case_no=case_no, text=text, characters=len(text))
        return None


def make(settings: Settings, http: httpx.AsyncClient) -> Provider:
    """The provider NOTICE_PROVIDER names, configured from the settings."""
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
    return ConsoleProvider()
