"""Business time is Asia/Shanghai whatever the machine's TZ; storage is always UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_shanghai(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in this project is aware")
    return moment.astimezone(SHANGHAI)


def shanghai_iso(moment: datetime | None) -> str | None:
    """RFC 3339 with the +08:00 offset, as the contract shows times to people."""
    return None if moment is None else to_shanghai(moment).isoformat()
