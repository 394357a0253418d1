"""Who is calling: the role and, for a department key, the department it is bound to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.enums import Role


@dataclass(frozen=True)
class Principal:
    role: Role
    key_id: uuid.UUID | None = None
    department: str | None = None

    @property
    def scope(self) -> str:
        """Where idempotency keys live: one caller's keys never collide with another's."""
        return str(self.key_id) if self.key_id else f"role:{self.role}"


SYSTEM = Principal(role=Role.system)
