"""Who saw personal data, and who changed what: each response that carries personal data in
clear, and each change of keys or configuration, leaves one row.

The presenter says what it showed in clear (`disclosed`), the request says who asked
(`identify`), and the row is written in the transaction that read the data
(`shared.database.transaction` flushes before it commits), so the figures keep their cost: one
insert, no extra commit. A response built after its transaction ended is flushed by the web
edge in a transaction of its own before the first byte is sent; if that write fails, the
response is not sent. Nothing leaves without its row.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.enums import Role
from shared.models import AuditEntry
from shared.principal import Principal


@dataclass
class Disclosure:
    """One request's: who asked, from where, and what it was shown in clear so far."""

    address: str | None
    operation: str = ""
    key_id: uuid.UUID | None = None
    role: Role | None = None
    reason: str | None = None
    export: str | None = None
    cases: dict[str, set[str]] = field(default_factory=dict)
    recorded: dict[str, set[str]] = field(default_factory=dict)
    """Written already in this request: shown again in the same answer (a registration's case
    as stored, then as routed) is one disclosure, one row."""
    changes: list[str] = field(default_factory=list)
    """What this request changed of keys or configuration (`changed`), not yet written."""
    at_shell: bool = False
    """An operator's command at the servers' shell: role `system`, recorded all the same (the
    service's own processes, also `system`, record nothing they read)."""

    @property
    def pending(self) -> bool:
        if self.role is None:
            return False
        if self.changes:
            return True
        return bool(self.cases or self.export) and (self.role is not Role.system or self.at_shell)


_current: ContextVar[Disclosure | None] = ContextVar("gaodedim_disclosure", default=None)


def begin(address: str | None) -> Disclosure:
    disclosure = Disclosure(address=address)
    _current.set(disclosure)
    return disclosure


def end() -> None:
    _current.set(None)


def identify(principal: Principal, operation: str) -> None:
    current = _current.get()
    if current is not None:
        current.key_id, current.role, current.operation = (
            principal.key_id,
            principal.role,
            operation,
        )


def at_shell(operator: str, command: str) -> Disclosure:
    """A command at the servers' shell (`gaodedim keys create`, …): its changes and exports are
    recorded as role `system`, no key, with the account and host where an address would be."""
    disclosure = Disclosure(
        address=operator[:64], operation=command, role=Role.system, at_shell=True
    )
    _current.set(disclosure)
    return disclosure


def changed(subject: str) -> None:
    """A key or a piece of configuration changed (`subject` says which, and for a key whose):
    the change's row is written in its transaction, with who did it. Outside a request or a
    shell command (a test's direct call) there is nobody to name, and nothing is noted."""
    current = _current.get()
    if current is not None:
        current.changes.append(subject)


def undo_changes() -> None:
    """The transaction that made the noted changes rolled back."""
    current = _current.get()
    if current is not None:
        current.changes.clear()


def because(reason: str) -> None:
    """The stated reason of an unmasking, kept on its row."""
    current = _current.get()
    if current is not None:
        current.reason = reason


def disclosed(case_no: str, fields: list[str]) -> None:
    """The presenter showed these fields of this case in clear. The service's own processes
    (`system`) and requests outside the web edge note nothing."""
    current = _current.get()
    if current is None:
        return
    new = set(fields) - current.recorded.get(case_no, set())
    if new:
        current.cases.setdefault(case_no, set()).update(new)


async def flush(session: AsyncSession) -> None:
    """Write what this request disclosed so far as one row, in `session`'s transaction."""
    current = _current.get()
    if current is None or not current.pending:
        return
    await _write(session, current)
    for case_no, fields in current.cases.items():
        current.recorded.setdefault(case_no, set()).update(fields)
    current.cases.clear()
    current.export = None
    current.changes.clear()


_ROW = insert(AuditEntry.__table__)  # type: ignore[arg-type]
"""The table's INSERT, built once and given its values at execution: built per call (or through
the ORM's bulk path) it cost SQLAlchemy more than the insert costs the database, on every read
in clear and every registration (issue 32)."""


async def _write(session: AsyncSession, disclosure: Disclosure) -> None:
    """One row for `disclosure`, in `session`'s transaction."""
    assert disclosure.role is not None
    # A plain INSERT, not the ORM's unit of work (and nothing read back): the row is on every
    # read in clear, where the ORM's bookkeeping cost more than the insert itself.
    await session.execute(
        _ROW,
        dict(
            key_id=disclosure.key_id,
            role=disclosure.role.value,
            operation=(
                f"{disclosure.operation} ({disclosure.export})"
                if disclosure.export
                else disclosure.operation
            )[:200],
            case_nos=sorted(disclosure.cases),
            fields=sorted({f for fields in disclosure.cases.values() for f in fields}),
            address=disclosure.address,
            reason=disclosure.reason,
            subject="; ".join(disclosure.changes) or None,
        ),
    )


async def record_export(session: AsyncSession, what: str, *, address: str) -> None:
    """An export no key asked for (an operator's `gaodedim report monthly` at the servers'
    shell) leaves its row too, in `session`'s transaction: role `system`, no key, and the
    account and host it ran as where a request's address would be."""
    await _write(session, Disclosure(address=address[:64], operation=what, role=Role.system))


def exported(what: str) -> None:
    """An export (the monthly report, a workbook) leaves its row whatever it holds: the trail
    says who took the figures away, and when."""
    current = _current.get()
    if current is not None:
        current.export = what
