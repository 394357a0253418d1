from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class AuditEntry(Base):
    """One response that carried personal data in clear, one unmasking, or one export: who,
    as what, which cases and fields, how, from where. Append-only (a trigger refuses UPDATE,
    and DELETE of anything younger than six months), pruned by the worker after
    AUDIT_RETENTION."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    """The database's time of the transaction that disclosed: when it was seen, not when the
    request's clock says (tests set that one)."""
    key_id: Mapped[uuid.UUID | None]
    role: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(200))
    """The method and route (`GET /api/v1/cases/{case_no}`), or an export's name."""
    case_nos: Mapped[list[str]] = mapped_column(ARRAY(Text))
    fields: Mapped[list[str]] = mapped_column(ARRAY(Text))
    address: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    """Why a supervisor unmasked a case, in their words."""
    subject: Mapped[str | None] = mapped_column(Text)
    """What a change changed: a key and its holder, a department, a rule table version, a
    year's calendar, a notice template (issue 26: every key operation and configuration change
    leaves a row)."""

    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_key_id_id", "key_id", "id"),
        Index("ix_audit_log_case_nos", "case_nos", postgresql_using="gin"),
    )
