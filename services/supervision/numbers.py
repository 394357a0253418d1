"""督办单 numbers: `DB-YYYYMMDD-NNN`, by the Shanghai day, without gaps.

Unlike case numbers (reserved in blocks outside the registration, so registrations never wait
for each other), an order's number is taken in the issuing transaction: orders are few, a
number lost to a rolled-back order would be a hole in an official register, and the day's
counter row is locked only until that transaction ends."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TAKE = text("""
    INSERT INTO supervision_counters (day, last_no) VALUES (:day, :n)
    ON CONFLICT (day) DO UPDATE SET last_no = supervision_counters.last_no + :n
    RETURNING last_no
""")


def order_no(day: date, number: int) -> str:
    return f"DB-{day:%Y%m%d}-{number:03d}"


async def take(session: AsyncSession, day: date, n: int = 1) -> list[str]:
    """`n` consecutive numbers of `day`, in order."""
    last = int((await session.execute(TAKE, {"day": day, "n": n})).scalar_one())
    return [order_no(day, number) for number in range(last - n + 1, last + 1)]
