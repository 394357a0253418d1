"""Cases as rows: built in memory at a chosen time, or read back as stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.models import Case
from shared.timeutil import SHANGHAI


def case(n: int, status: str, **fields: Any) -> Case:
    values: dict[str, Any] = {
        "case_no": f"S-{n}",
        "tracking_code": f"S{n:07d}",
        "status": status,
        "channel": "window",
        "description": "测试",
        "applicant_phone": "13800138001",
        "district": "越秀区",
        "created_at": at(11, 10),
        "updated_at": at(11, 10),
        **fields,
    }
    return Case(**values)


async def stored_case(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> Case:
    async with sessionmaker() as session:
        return (await session.execute(select(Case).where(Case.case_no == case_no))).scalar_one()


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=SHANGHAI)
