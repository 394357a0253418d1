"""Opaque keyset cursors: what a page's last row was sorted by, base64url-encoded, so a client
can only hand back what the API gave it, and a forged one is a 422 naming `cursor`, never a
database error (an id past 64 bits, a date in year 1)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from shared.errors import invalid
from shared.timeutil import year_problem

INT64_MAX = 2**63 - 1
Row = TypeVar("Row")


def encode_cursor(*parts: object) -> str:
    raw = "|".join(p.isoformat() if isinstance(p, datetime) else str(p) for p in parts)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def moment(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None or year_problem(value):
        raise ValueError("not an aware datetime in range")
    return value


def row_id(text: str) -> int:
    value = int(text)
    if not 0 < value <= INT64_MAX:
        raise ValueError("out of range")
    return value


def decode_cursor(cursor: str, *kinds: Callable[[str], Any]) -> tuple[Any, ...]:
    """The parts of `cursor`, each read by its kind (`moment`, `row_id`, `uuid.UUID`, `str`)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        parts = raw.decode().split("|")
        if len(parts) != len(kinds):
            raise ValueError("wrong shape")
        return tuple(kind(part) for kind, part in zip(kinds, parts, strict=True))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid("cursor", "not a cursor this API returned") from exc


def page(
    rows: Sequence[Row], limit: int, sort_key: Callable[[Row], tuple[object, ...]]
) -> tuple[list[Row], str | None]:
    """A page from `limit + 1` rows fetched in order: the first `limit`, and the cursor of the
    last one when there is more."""
    kept = list(rows[:limit])
    return kept, encode_cursor(*sort_key(kept[-1])) if len(rows) > limit >= 1 else None
