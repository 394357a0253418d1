from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class DutyShift(Base):
    """One person on duty (值班) for a unit over a span of time: who, in which duty, how to
    reach them. A shift belongs to the Shanghai day it starts on and may run past midnight."""

    __tablename__ = "duty_shifts"
    __table_args__ = (
        CheckConstraint("duty IN ('leader', 'chief', 'patrol')", name="duty"),
        CheckConstraint("ends_at > starts_at", name="span"),
        Index("ix_duty_shifts_unit_starts_at", "unit", "starts_at"),
        Index("ix_duty_shifts_unit_day", "unit", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(
        String(32), ForeignKey("departments.code", ondelete="RESTRICT")
    )
    day: Mapped[date]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(100))
    duty: Mapped[str] = mapped_column(String(16))
    """值班领导 `leader`, 总值班 `chief`, 巡值 `patrol`."""
    phone: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_at_column()
