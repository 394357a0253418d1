"""Case numbers people read aloud, and tracking codes nobody can guess."""

from __future__ import annotations

import asyncio
import secrets
import unicodedata
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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


class CaseNumbers:
    """Per-day case numbers handed out from blocks this process reserves.

    Why blocks: taking each number from the day's counter row inside the registration's own
    transaction held that row's lock until the commit, so every registration in the city waited
    for the one before it, whatever the number of processes. Here a process reserves `block`
    numbers at once, in a transaction of its own that ends at once, and hands them out from
    memory. Numbers stay unique and readable (`GZ-20261123-000123`) and increase within each
    process; across processes they interleave, and a number reserved but not used (a process
    restarted, a registration rolled back) is a gap, never a duplicate.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], block: int = 20) -> None:
        if block < 1:
            raise ValueError("a block holds at least one number")
        self._sessionmaker, self._block = sessionmaker, block
        self._lock = asyncio.Lock()
        self._day: date | None = None
        self._next, self._last = 1, 0

    async def next(self, day: date) -> int:
        async with self._lock:
            if day != self._day or self._next > self._last:
                self._last = await self._reserve(day)
                self._next, self._day = self._last - self._block + 1, day
            number = self._next
            self._next += 1
            return number

    async def _reserve(self, day: date) -> int:
        async with self._sessionmaker() as session, session.begin():
            result = await session.execute(
                text(
                    "INSERT INTO case_counters (day, last_no) VALUES (:day, :block) "
                    "ON CONFLICT (day) DO UPDATE SET last_no = case_counters.last_no + :block "
                    "RETURNING last_no"
                ),
                {"day": day, "block": self._block},
            )
            return int(result.scalar_one())
