from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class RuleDraft(Base):
    """The one table being edited. Publishing copies it into an immutable RuleVersion."""

    __tablename__ = "rule_drafts"
    __table_args__ = (CheckConstraint("id = 1", name="singleton"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = created_at_column()
    updated_by_key_id: Mapped[uuid.UUID | None]


class RuleVersion(Base):
    """A published table, numbered 1, 2, 3 …; never changed, so every case's routing can be
    explained against the exact table that routed it."""

    __tablename__ = "rule_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    table: Mapped[dict[str, Any]] = mapped_column(JSONB)
    published_at: Mapped[datetime] = created_at_column()
    published_by_key_id: Mapped[uuid.UUID | None]
