"""Where a notice goes: one interface, a provider per channel.

`console` is the default of `make run` and the tests: it writes each notice to the log, without
the phone number, so a developer sees what a citizen would read.
"""

from __future__ import annotations

from typing import Protocol

import structlog

log = structlog.get_logger("gaodedim.notices")


class Provider(Protocol):
    channel: str

    async def send(self, phone: str, text: str, *, case_no: str) -> str | None:
        """Send; the provider's reference for the message, if it gives one. Raises when the
        provider refused or could not be reached, so the outbox retries."""
        ...


class ConsoleProvider:
    channel = "console"

    async def send(self, phone: str, text: str, *, case_no: str) -> str | None:
        log.info("applicant_notice", case_no=case_no, text=text, characters=len(text))
        return None


def make(name: str) -> Provider:
    """The provider NOTICE_PROVIDER names."""
    if name == "console":
        return ConsoleProvider()
    raise ValueError(f"unknown notice provider {name!r}")
