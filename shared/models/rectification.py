from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class Rectification(Base):
    """整改: what a department owes to fix the rule, process or system behind a kind of case,
    by a time. Late and not done, it gives the owner one card (`cards.rectification_id`,
    unique), however many sweeps run."""

    __tablename__ = "rectifications"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'in_progress', 'done', 'verified')", name="status"),
        CheckConstraint(
            "change IS NULL OR change IN ('policy', 'process', 'system', 'rule', 'training')",
            name="change",
        ),
        Index(
            "ix_rectifications_due_undone",
            "due_at",
            postgresql_where=sql("status IN ('open', 'in_progress') AND overdue_at IS NULL"),
        ),
        Index("ix_rectifications_department", "department"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(String(32), ForeignKey("departments.code"))
    """The owner: the department that makes the fix."""
    issuing_unit: Mapped[str | None] = mapped_column(String(32), ForeignKey("departments.code"))
    """The supervisor's unit; None: the city's."""
    topic: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")
    """Keywords as 共性问题 gives them, the first the one that formed the topic: cases
    registered after `done` that hold it (and one more, when there are more) recur."""
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    due_days: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    due_estimated: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)
    """Part of the working days fell in a year whose calendar was not loaded and were counted
    Monday to Friday."""
    overdue_at: Mapped[datetime | None]
    """When the sweep found it late and not done (once)."""
    change: Mapped[str | None] = mapped_column(String(16))
    """What was changed, said when done: policy, process, system, rule, training."""
    change_note: Mapped[str | None] = mapped_column(Text)
    document_ref: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    created_at: Mapped[datetime] = created_at_column()
    created_by_key_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = created_at_column()


class RectificationCase(Base):
    """A case the rectification was opened from (the cases that showed the problem)."""

    __tablename__ = "rectification_cases"

    rectification_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("rectifications.id"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("cases.id"), primary_key=True, index=True
    )


class RectificationEvent(Base):
    """A rectification's history: opened, started, done, verified, reopened, overdue."""

    __tablename__ = "rectification_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    rectification_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("rectifications.id"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_key_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}", default=dict)
