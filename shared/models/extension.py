from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class Extension(Base):
    """延期申请: a department asks for more time before the deadline; a coordinator decides."""

    __tablename__ = "extensions"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        Index(
            "uq_extensions_one_pending_per_case",
            "case_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    department: Mapped[str] = mapped_column(String(32), ForeignKey("departments.code"))
    extend_by: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    requested_at: Mapped[datetime] = created_at_column()
    requested_by_key_id: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    decided_by_key_id: Mapped[uuid.UUID | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
