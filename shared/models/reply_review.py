from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class ReplyReviewRecord(Base):
    """答复审核: one reply a department submitted for review and what became of it; the figures
    count sent-back replies per department from here."""

    __tablename__ = "reply_reviews"
    __table_args__ = (
        CheckConstraint("outcome IN ('pending', 'approved', 'sent_back')", name="outcome"),
        CheckConstraint("review IN ('hall', 'coordinator')", name="review"),
        Index("ix_reply_reviews_case_id", "case_id"),
        Index("ix_reply_reviews_department_submitted_at", "department", "submitted_at"),
        Index("ix_reply_reviews_submitted_at", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"))
    department: Mapped[str] = mapped_column(String(32))
    reply: Mapped[str] = mapped_column(Text)
    review: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16), server_default="pending")
    submitted_at: Mapped[datetime]
    submitted_by_key_id: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    decided_by_key_id: Mapped[uuid.UUID | None]
    decided_role: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
