"""API keys: issue, revoke, authenticate. The secret is shown once and stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.apikey.responses import KeyOut
from services.department import repository as departments
from services.department import tree
from shared import audit, pagination
from shared.enums import Role
from shared.errors import forbidden, invalid, not_found
from shared.models import ApiKey, Department
from shared.principal import Principal

ISSUABLE = frozenset(Role) - {Role.system}
SHELL_ONLY = frozenset({Role.auditor, Role.security_admin})
"""三员分立: the audit and security administrators' keys come only from the servers' shell.
No key can issue, revoke or bind one, so neither the system administrator nor the security
administrator can give themselves the trail or another's keys, or take the auditor's away."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_secret() -> str:
    return "gdd_" + secrets.token_urlsafe(32)


@dataclass
class IssuedKey:
    id: uuid.UUID
    key: str
    role: Role
    department: str | None
    label: str | None


async def issue(
    session: AsyncSession,
    *,
    role: Role,
    holder: str,
    issuer: Principal,
    department: str | None = None,
    label: str | None = None,
) -> IssuedKey:
    """`issuer`: the security administrator's key, or `SYSTEM` at the servers' shell. The
    issue is audited in this transaction, so a privileged key is in the trail, with whoever
    issued it and to whom, before it can be used."""
    if role not in ISSUABLE:
        raise invalid("role", f"'{role.value}' is not a role a key can have")
    _may_touch(issuer, role, "issue")
    if role is Role.department and not department:
        raise invalid("department", "a department key must name its department")
    if department is not None:
        await _require_binding(session, role, department)
    secret = new_secret()
    row = ApiKey(
        key_hash=hash_key(secret),
        prefix=secret[:12],
        role=role.value,
        department_code=department,
        label=label,
        holder=holder,
        issued_by_key_id=issuer.key_id,
        issued_by_role=issuer.role.value,
    )
    session.add(row)
    await session.flush()
    audit.changed(_subject(row, "issued"))
    return IssuedKey(row.id, secret, role, department, label)


def _may_touch(actor: Principal, role: Role, what: str) -> None:
    if role in SHELL_ONLY and actor.role is not Role.system:
        raise forbidden(
            f"role '{actor.role.value}' may not {what} a '{role.value}' key: those keys are "
            "managed only at the servers' shell (gaodedim keys)"
        )


def _subject(row: ApiKey, what: str) -> str:
    """The audit row's words for a key operation: which key, whose, what happened."""
    where = f" of {row.department_code}" if row.department_code else ""
    return f"key {row.id} ({row.prefix}…): {what}, role {row.role}{where}, held by {row.holder}"


UNIT_BOUND = (Role.coordinator, Role.supervisor)
"""Roles whose key may be bound to a unit (层级), and then sees only that unit's subtree."""


async def _require_binding(session: AsyncSession, role: Role, department: str) -> None:
    """A department key names its department; a window key may name its service hall (the
    department whose hall it serves), which lets it see that hall's cases in clear."""
    if role not in (Role.department, Role.window, *UNIT_BOUND):
        raise invalid(
            "department",
            "only a department, window, coordinator or supervisor key is bound to a department",
        )
    found = await departments.get(session, department)
    if found is None or not found.active:
        raise invalid("department", f"unknown department code '{department}' (or deactivated)")


async def bind_hall(
    session: AsyncSession, key_id: uuid.UUID, department: str, *, actor: Principal
) -> ApiKey:
    """The security administrator binds a window key to its hall (keys issued before halls
    existed see every case masked until then). Takes effect within KEY_CACHE_SECONDS."""
    row = await session.get(ApiKey, key_id, with_for_update=True)
    if row is None or row.revoked_at is not None:
        raise not_found(f"key {key_id}")
    if row.role != Role.window.value:
        raise invalid("department", "only a window key is bound to a service hall")
    await _require_binding(session, Role.window, department)
    before = row.department_code
    row.department_code = department
    audit.changed(_subject(row, f"bound to hall {department} (was {before})"))
    return row


async def revoke(
    session: AsyncSession, key_id: uuid.UUID, *, now: datetime, actor: Principal
) -> None:
    row = await session.get(ApiKey, key_id, with_for_update=True)
    if row is None or row.revoked_at is not None:
        raise not_found(f"active key {key_id}")
    _may_touch(actor, Role(row.role), "revoke")
    row.revoked_at = now
    row.revoked_by_key_id = actor.key_id
    row.revoked_by_role = actor.role.value
    audit.changed(_subject(row, "revoked"))


async def page_keys(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> tuple[list[ApiKey], str | None]:
    """Keys oldest first, `limit` at a time (a city issues thousands over the years)."""
    stmt = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id).limit(limit + 1)
    if cursor:
        at, ident = pagination.decode_cursor(cursor, pagination.moment, uuid.UUID)
        stmt = stmt.where(tuple_(ApiKey.created_at, ApiKey.id) > tuple_(at, ident))
    rows = (await session.execute(stmt)).scalars().all()
    return pagination.page(rows, limit, lambda k: (k.created_at, k.id))


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.execute(select(ApiKey).order_by(ApiKey.created_at))).scalars())


async def authenticate(session: AsyncSession, secret: str) -> Principal | None:
    row = (
        await session.execute(
            select(ApiKey)
            .outerjoin(Department, Department.code == ApiKey.department_code)
            .where(
                ApiKey.key_hash == hash_key(secret),
                ApiKey.revoked_at.is_(None),
                # A deactivated department's keys stop working with it.
                or_(ApiKey.department_code.is_(None), Department.active.is_(True)),
            )
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    role = Role(row.role)
    units = None
    if role in UNIT_BOUND and row.department_code:
        units = await tree.subtree(session, row.department_code)
    return Principal(role=role, key_id=row.id, department=row.department_code, units=units)


async def bootstrap_admin(session: AsyncSession, secret: str) -> bool:
    """Install `secret` as an admin key if no active admin key exists. Safe when several
    processes start at once: the unique hash makes the losers' inserts no-ops."""
    exists = (
        await session.execute(
            select(ApiKey.id).where(ApiKey.role == Role.admin.value, ApiKey.revoked_at.is_(None))
        )
    ).first()
    if exists:
        return False
    stmt = (
        insert(ApiKey)
        .values(
            id=uuid.uuid4(),
            key_hash=hash_key(secret),
            prefix=secret[:12],
            role=Role.admin.value,
            label="bootstrap",
        )
        .on_conflict_do_nothing(index_elements=["key_hash"])
        .returning(ApiKey.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


def key_out(k: ApiKey) -> KeyOut:
    return KeyOut(
        id=str(k.id),
        prefix=k.prefix,
        role=k.role,
        department=k.department_code,
        label=k.label,
        holder=k.holder,
        issued_by_key_id=str(k.issued_by_key_id) if k.issued_by_key_id else None,
        issued_by_role=k.issued_by_role,
        created_at=k.created_at.isoformat(),
        revoked_at=k.revoked_at.isoformat() if k.revoked_at else None,
        revoked_by_key_id=str(k.revoked_by_key_id) if k.revoked_by_key_id else None,
        revoked_by_role=k.revoked_by_role,
    )
