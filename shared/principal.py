"""Who is calling: the role and, for a key bound to a department, a hall or a unit, that one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.enums import Role


@dataclass(frozen=True)
class Principal:
    role: Role
    key_id: uuid.UUID | None = None
    department: str | None = None
    units: frozenset[str] | None = None
    """For a coordinator's or supervisor's key bound to a unit (层级): the unit and everything
    below it, whose cases it reads and acts on; None: the whole city."""

    @property
    def scope(self) -> str:
        """Where idempotency keys live: one caller's keys never collide with another's."""
        return str(self.key_id) if self.key_id else f"role:{self.role}"


SYSTEM = Principal(role=Role.system)
