"""Case numbers people read aloud, and tracking codes nobody can guess."""

from __future__ import annotations

import secrets
import unicodedata
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: the code is read over the phone and typed from a paper card."""
TRACKING_LENGTH = 8  # 31**8 ≈ 8.5e11 codes; guessing also needs the phone's last four digits


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def normalise_tracking_code(raw: str) -> str:
    """Forgive what people do when they type a code: lower case, full-width letters, spaces and
    dashes. Every spelling of one code is the same code, also to the look-up's rate limits."""
    return unicodedata.normalize("NFKC", raw).upper().replace(" ", "").replace("-", "")


def format_case_no(prefix: str, day: date, number: int) -> str:
    return f"{prefix}-{day:%Y%m%d}-{number:06d}"


async def next_case_number(session: AsyncSession, day: date) -> int:
    """The next number of `day`, atomic across processes (an upsert takes the row lock)."""
    result = await session.execute(
        text(
            "INSERT INTO case_counters (day, last_no) VALUES (:day, 1) "
            "ON CONFLICT (day) DO UPDATE SET last_no = case_counters.last_no + 1 "
            "RETURNING last_no"
        ),
        {"day": day},
    )
    return int(result.scalar_one())
