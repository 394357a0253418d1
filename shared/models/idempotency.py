from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, String, UniqueConstraint, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class IdempotencyRecord(Base):
    """The first answer to a create, kept under (caller, key) so a retry gets the same answer."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSONB)
    settled: Mapped[bool] = mapped_column(Boolean, server_default=true())
    """False while the first request is still finishing its answer after the commit (a case
    being routed); a replay waits for it, so it answers exactly what the first caller got."""
    created_at: Mapped[datetime] = created_at_column()
