from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class HotlineOrder(Base):
    """A 12345 work order and the case it became. The primary key makes a redelivered order,
    even two racing deliveries, create one case."""

    __tablename__ = "hotline_orders"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(100))
    """The hotline's own category, kept as it came (ours is a closed list)."""
    callback_url: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()


class HotlinePush(Base):
    """Each distinct body pushed for an order, so a redelivery is recognised and a supplement
    (the caller called again, added material) is appended exactly once."""

    __tablename__ = "hotline_pushes"
    __table_args__ = (UniqueConstraint("order_id", "body_hash"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(64), ForeignKey("hotline_orders.order_id"))
    body_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
