from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (CheckConstraint("level IN ('city', 'district', 'street')", name="level"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("departments.code", ondelete="RESTRICT"), index=True
    )
    contact: Mapped[str | None] = mapped_column(String(100))
    webhook_url: Mapped[str | None] = mapped_column(Text)
    notice_mobile: Mapped[str | None] = mapped_column(String(32))
    """Where its 督办 orders are texted (staff data: masked but for admins and coordinators)."""
    role: Mapped[str | None] = mapped_column(String(32))
    """`coordinator` marks the duty coordinator's department (the table's fallback owner)."""
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    level: Mapped[str] = mapped_column(String(16), server_default="city")
    """层级: `city`, `district` or `street` (街镇); a unit's subtree is what a key bound to it
    reads (services/department/tree.py)."""
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
