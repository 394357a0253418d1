from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class OutboxMessage(Base):
    """A message written in the same transaction as the change it reports; the worker delivers
    it afterwards, so a crash can delay a message but never lose it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "available_at",
            postgresql_where=text("delivered_at IS NULL AND failed_at IS NULL"),
        ),
        # The dead letters, counted by /metrics at every gauge refresh: an index of a few rows.
        Index("ix_outbox_failed", "failed_at", postgresql_where=text("failed_at IS NOT NULL")),
        # Delivered messages are pruned after OUTBOX_RETENTION, oldest first.
        Index(
            "ix_outbox_delivered", "delivered_at", postgresql_where=text("delivered_at IS NOT NULL")
        ),
        # Routing settles a case's pending hand-over message when it routes the case.
        Index(
            "ix_outbox_pending_case",
            text("(payload ->> 'case_no')"),
            postgresql_where=text("delivered_at IS NULL"),
        ),
        # The messages waiting out a back-off after a failure (a few, while a receiver is
        # down): each delivery run's probe and release find them without reading the rest.
        Index(
            "ix_outbox_retrying",
            "topic",
            "id",
            postgresql_where=text(
                "delivered_at IS NULL AND failed_at IS NULL AND last_error IS NOT NULL"
            ),
        ),
        # A message waits for the undelivered ones before it with the same key.
        Index(
            "ix_outbox_ordering",
            "ordering_key",
            "id",
            postgresql_where=text("delivered_at IS NULL AND ordering_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    available_at: Mapped[datetime] = mapped_column(server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    ordering_key: Mapped[str | None] = mapped_column(String(300))
    """Messages with one key are delivered one at a time, in the order they were written (one
    case's callbacks to one receiver); messages without a key go as they come."""
