from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class Assist(Base):
    """协办: a co-department's task on a case, its opinion owed to the lead by a time. One per
    case and department; overdue and still owed, it gives that department one card
    (`cards.assist_id`, unique)."""

    __tablename__ = "assists"
    __table_args__ = (
        UniqueConstraint("case_id", "department", name="uq_assists_case_department"),
        CheckConstraint("status IN ('open', 'answered', 'waived')", name="status"),
        Index(
            "ix_assists_due_open",
            "due_at",
            postgresql_where=sql("status = 'open' AND overdue_at IS NULL"),
        ),
        Index("ix_assists_department_status", "department", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"))
    department: Mapped[str] = mapped_column(String(32), ForeignKey("departments.code"))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    requested_at: Mapped[datetime]
    requested_by_key_id: Mapped[uuid.UUID | None]
    due_at: Mapped[datetime | None]
    """None when the calendar could not count it (a year not loaded): never overdue then."""
    opinion: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_key_id: Mapped[uuid.UUID | None]
    waived_reason: Mapped[str | None] = mapped_column(Text)
    waived_at: Mapped[datetime | None]
    waived_by_key_id: Mapped[uuid.UUID | None]
    overdue_at: Mapped[datetime | None]
    """When the sweep found it owed past its time (and carded the department)."""
