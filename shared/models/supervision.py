from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class Supervision(Base):
    """督办单: an order to the lead department to act on a case by a time, copied to the unit
    above it. Overdue and unanswered, it gives the department a card (`cards.supervision_id`,
    unique: one card an order, however many sweeps run)."""

    __tablename__ = "supervisions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'answered', 'overdue')", name="status"),
        CheckConstraint("source IN ('order', 'escalation')", name="source"),
        CheckConstraint("level IN ('city', 'district', 'street')", name="level"),
        Index("ix_supervisions_due_open", "due_at", postgresql_where=sql("status = 'open'")),
        Index("ix_supervisions_department_issued_at", "department", "issued_at"),
        Index("ix_supervisions_issued_at", "issued_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_no: Mapped[str] = mapped_column(String(24), unique=True)
    """`DB-YYYYMMDD-NNN`, gapless per Shanghai day: an official document's number."""
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    department: Mapped[str] = mapped_column(String(32), ForeignKey("departments.code"))
    copied_to: Mapped[str | None] = mapped_column(String(32), ForeignKey("departments.code"))
    """The department's parent unit, which hears of the order and of its answer."""
    issuing_unit: Mapped[str | None] = mapped_column(String(32), ForeignKey("departments.code"))
    """The unit the order comes from; None: the city's supervision centre (an unbound key)."""
    level: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), server_default="order")
    reason: Mapped[str] = mapped_column(Text)
    respond_within: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    issued_at: Mapped[datetime] = created_at_column()
    issued_by_key_id: Mapped[uuid.UUID | None]
    progress: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_key_id: Mapped[uuid.UUID | None]
    overdue_at: Mapped[datetime | None]


class SupervisionCounter(Base):
    """The last order number of a Shanghai day. Taken inside the issuing transaction: orders
    are few (a coordinator's decision, an escalation), and their numbers have no gaps."""

    __tablename__ = "supervision_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer)
