from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.enums import Role
from shared.models.base import Base, created_at_column, enum_check


class ApiKey(Base):
    """A client's key. Only a SHA-256 of the secret is stored: keys are 32 random bytes, so a
    fast hash is enough and lets every request find its key by index."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(enum_check("role", Role), name="role"),
        # A department key names its department; a window key may name its service hall; a
        # coordinator's or supervisor's may name its unit (层级: a district, a street).
        CheckConstraint(
            "CASE WHEN role = 'department' THEN department_code IS NOT NULL "
            "WHEN role IN ('window', 'coordinator', 'supervisor') THEN true "
            "ELSE department_code IS NULL END",
            name="department_binding",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("departments.code", ondelete="RESTRICT")
    )
    label: Mapped[str | None] = mapped_column(String(200))
    holder: Mapped[str | None] = mapped_column(String(200))
    """The person or system the key was given to (required since 0011; older keys: NULL)."""
    issued_by_key_id: Mapped[uuid.UUID | None]
    """The security administrator's key that issued it; NULL with `issued_by_role` 'system'
    for a key made at the servers' shell (whose account and host the audit trail names)."""
    issued_by_role: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None]
    revoked_by_key_id: Mapped[uuid.UUID | None]
    revoked_by_role: Mapped[str | None] = mapped_column(String(32))
