from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class MatterVersion(Base):
    """办事指南: each import of the matter catalogue, kept whole, like the rule table's versions."""

    __tablename__ = "matter_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    catalogue: Mapped[dict[str, Any]] = mapped_column(JSONB)
    matters: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = created_at_column()
    published_by_key_id: Mapped[uuid.UUID | None]


class Matter(Base):
    """One matter of the catalogue in force (the latest version), searchable: `name_key` and
    `search_key` are its words normalised as a query is (full-width, traditional characters,
    case), so a search is a few substring tests."""

    __tablename__ = "matters"
    __table_args__ = (Index("ix_matters_grams", "grams", postgresql_using="gin"),)

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(32))
    materials: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    legal_basis: Mapped[str | None] = mapped_column(Text)
    promised_days: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    name_key: Mapped[str] = mapped_column(Text)
    search_key: Mapped[str] = mapped_column(Text)
    grams: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    """The characters and character pairs of `search_key`, under a GIN index: a query's words
    narrow the catalogue to the matters holding all their pairs before any substring test
    (most Chinese words are two characters: pairs, not trigrams)."""
    position: Mapped[int] = mapped_column(BigInteger)
    """Its place in the imported file: the order a list without a query shows."""
