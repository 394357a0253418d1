from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column

CASE_DEADLINE = "case_id IS NOT NULL AND supervision_id IS NULL AND assist_id IS NULL"
"""The cards of a case's own deadlines (not an order's, not an assist's): one per case,
deadline and due time. The sweep's ON CONFLICT names this predicate."""


class Card(Base):
    """黄牌/红牌 on a department's assessment. One per case, deadline and due time (a moved
    deadline is a new deadline); a monthly red card is one per department and month."""

    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("colour IN ('yellow', 'red')", name="colour"),
        CheckConstraint(
            "deadline IN ('sign', 'handle', 'drag', 'monthly', 'supervision', 'assist', "
            "'rectification')",
            name="deadline",
        ),
        CheckConstraint("status IN ('active', 'appealed', 'upheld', 'revoked')", name="status"),
        Index(
            "uq_cards_case_deadline",
            "case_id",
            "deadline",
            "due_at",
            unique=True,
            postgresql_where=text(CASE_DEADLINE),
        ),
        Index(
            "uq_cards_assist",
            "assist_id",
            unique=True,
            postgresql_where=text("assist_id IS NOT NULL"),
        ),
        Index(
            "uq_cards_rectification",
            "rectification_id",
            unique=True,
            postgresql_where=text("rectification_id IS NOT NULL"),
        ),
        Index(
            "uq_cards_supervision",
            "supervision_id",
            unique=True,
            postgresql_where=text("supervision_id IS NOT NULL"),
        ),
        Index(
            "uq_cards_monthly",
            "department",
            "month",
            unique=True,
            postgresql_where=text("deadline = 'monthly'"),
        ),
        Index("ix_cards_department_month", "department", "month"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"))
    department: Mapped[str] = mapped_column(String(32), ForeignKey("departments.code"))
    colour: Mapped[str] = mapped_column(String(8))
    deadline: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    month: Mapped[str] = mapped_column(String(7))
    """YYYY-MM in Shanghai time: the assessment month the points count in."""
    points: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    issued_at: Mapped[datetime] = created_at_column()
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_key_id: Mapped[uuid.UUID | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    supervision_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("supervisions.id"))
    """The 督办单 left unanswered past its time (deadline `supervision`)."""
    assist_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("assists.id"))
    """The 协办 task owed past its time (deadline `assist`), carding the co-department."""
    rectification_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("rectifications.id")
    )
    """The 整改 left undone past its time (deadline `rectification`), carding its owner."""


class Warning(Base):
    """预警 at the policy's share of the allowed time: once per case, deadline and due time."""

    __tablename__ = "warnings"
    __table_args__ = (
        Index("uq_warnings_case_deadline", "case_id", "deadline", "due_at", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"))
    department: Mapped[str | None] = mapped_column(String(32))
    deadline: Mapped[str] = mapped_column(String(8))
    due_at: Mapped[datetime]
    issued_at: Mapped[datetime] = created_at_column()
