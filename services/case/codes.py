"""Case numbers people read aloud, and tracking codes nobody can guess."""

from __future__ import annotations

import asyncio
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")

TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: the code is read over the phone and typed from a paper card."""
TRACKING_LENGTH = 8  # 31**8 ≈ 8.5e11 codes; guessing also needs the phone's last four digits


TRACKING_CODE_TRIES = 3
TRACKING_CODE_CONSTRAINT = "pk_tracking_codes"


async def with_fresh_tracking_code(register: Callable[[], Awaitable[T]]) -> T:
    """Run `register` (a whole transaction) again when its new tracking code met an existing
    one. Codes are drawn at random and the unique constraint is the check: asking first would
    cost every registration a round trip for a clash that happens about once in 10^5
    registrations at 10 million cases. The transaction rolled back whole, so a rerun is clean."""
    for attempt in range(TRACKING_CODE_TRIES):
        try:
            return await register()
        except IntegrityError as exc:
            if not _clashed(exc) or attempt == TRACKING_CODE_TRIES - 1:
                raise
    raise AssertionError("unreachable")


def _clashed(exc: IntegrityError) -> bool:
    seen: BaseException | None = exc.orig
    while seen is not None:
        if getattr(seen, "constraint_name", None) == TRACKING_CODE_CONSTRAINT:
            return True
        seen = seen.__cause__
    return False


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

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], block: int = 20, prefix: str = "GZ"
    ) -> None:
        if block < 1:
            raise ValueError("a block holds at least one number")
        self._sessionmaker, self._block, self.prefix = sessionmaker, block, prefix
        self._lock = asyncio.Lock()
        self._day: date | None = None
        self._next, self._last = 1, 0

    def forget(self) -> None:
        """Drop the block in hand. Only for a database whose counters were emptied under a
        running process (the tests empty every table between tests): the block would go on
        counting from numbers the counter row no longer remembers."""
        self._day, self._next, self._last = None, 1, 0

    async def case_no(self, day: date) -> str:
        """The next case number of the Shanghai `day`, as people read it: `GZ-20261123-000123`."""
        return format_case_no(self.prefix, day, await self.next(day))

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
