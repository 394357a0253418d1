from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class Escalation(Base):
    """提级: one threshold a case crossed, raising it one level. Unique per case and reason, so
    however many sweeps run (and whichever die half-way) a crossing raises the case once."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("case_id", "reason", name="uq_escalations_case_reason"),
        CheckConstraint(
            "reason IN ('reopened', 'transferred', 'returned', 'overdue', 'repeats')",
            name="reason",
        ),
        CheckConstraint("level IN ('city', 'district', 'street')", name="level"),
        Index("ix_escalations_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"))
    reason: Mapped[str] = mapped_column(String(16))
    count: Mapped[int | None] = mapped_column(Integer)
    """The counter that crossed (reopens, transfers…); none for overdue."""
    from_level: Mapped[str | None] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(32), ForeignKey("departments.code"))
    """The unit of that level above the lead department, whose on-duty people were told."""
    department: Mapped[str | None] = mapped_column(String(32))
    """The lead department when it was raised (for the figures by department)."""
    at: Mapped[datetime]
    supervision_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("supervisions.id"))
