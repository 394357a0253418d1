"""Departments: create, update, import a whole list; no unknown parents, no cycles."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.department import repository
from services.department.responses import DepartmentOut
from services.department.schemas import DepartmentIn, DepartmentUpdate
from services.privacy import mask_phone
from shared import audit
from shared.enums import Level, Role
from shared.errors import DomainError, FieldError, conflict, invalid, not_found
from shared.models import ApiKey, Case, Department
from shared.principal import Principal

SEES_PHONES = frozenset({Role.admin, Role.coordinator, Role.system})
"""Staff phones are for those who call the staff: admins and coordinators."""


def department_out(d: Department, viewer: Principal | None = None) -> DepartmentOut:
    """`viewer`: who reads it (None: the servers' shell, which sees everything)."""
    clear = viewer is None or viewer.role in SEES_PHONES
    return DepartmentOut(
        code=d.code,
        name=d.name,
        parent=d.parent_code,
        contact=d.contact,
        webhook=d.webhook_url,
        notice_mobile=d.notice_mobile if clear else mask_phone(d.notice_mobile),
        role=d.role,
        active=d.active,
        level=d.level,
    )


def _find_cycle(parents: dict[str, str | None], start: str) -> list[str] | None:
    seen: list[str] = []
    node: str | None = start
    while node is not None:
        if node in seen:
            return [*seen[seen.index(node) :], node]
        seen.append(node)
        node = parents.get(node)
    return None


async def _check_parent(session: AsyncSession, code: str, parent: str | None, field: str) -> None:
    if parent is None:
        return
    if parent == code:
        raise invalid(field, "a department cannot be its own parent")
    known = {d.code: d.parent_code for d in await repository.all_departments(session)}
    if parent not in known:
        raise invalid(field, f"unknown parent department '{parent}'")
    known[code] = parent
    cycle = _find_cycle(known, code)
    if cycle:
        raise invalid(field, "parent would make a cycle: " + " → ".join(cycle))


RANK = {Level.city: 0, Level.district: 1, Level.street: 2}


def _level(data: DepartmentIn | DepartmentUpdate, parent: Department | None, field: str) -> str:
    """The level given, or one below the parent's; never above the parent's (a district's
    street hall is a street's, however it is typed)."""
    if parent is None:
        return (data.level or Level.city).value
    above = Level(parent.level)
    if data.level is None:
        return above.below.value
    if RANK[data.level] < RANK[above]:
        raise invalid(field, f"'{data.level}' is above its parent's level '{above}'")
    return data.level.value


def _apply(
    row: Department,
    data: DepartmentIn | DepartmentUpdate,
    parent: Department | None,
    field: str = "level",
) -> None:
    row.level = _level(data, parent, field)
    row.name = data.name
    row.parent_code = data.parent
    row.contact = data.contact
    row.webhook_url = str(data.webhook) if data.webhook else None
    row.notice_mobile = data.notice_mobile
    row.role = data.role


async def create(session: AsyncSession, data: DepartmentIn) -> Department:
    if await repository.get(session, data.code) is not None:
        raise conflict(f"department '{data.code}' already exists")
    await _check_parent(session, data.code, data.parent, "parent")
    row = Department(code=data.code)
    _apply(row, data, await repository.get(session, data.parent) if data.parent else None)
    session.add(row)
    await session.flush()
    audit.changed(f"department {data.code}: created")
    return row


async def update_department(session: AsyncSession, code: str, data: DepartmentUpdate) -> Department:
    row = await repository.get(session, code)
    if row is None:
        raise not_found(f"department {code}")
    await _check_parent(session, code, data.parent, "parent")
    _apply(row, data, await repository.get(session, data.parent) if data.parent else None)
    await session.flush()
    audit.changed(f"department {code}: updated")
    return row


async def delete(session: AsyncSession, code: str) -> None:
    """Delete a department nobody refers to; one with cases or keys is deactivated instead."""
    row = await repository.get(session, code)
    if row is None:
        raise not_found(f"department {code}")
    children = await session.scalar(
        select(func.count()).select_from(Department).where(Department.parent_code == code)
    )
    if children:
        raise conflict(f"department '{code}' has {children} child departments")
    used = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            (Case.intake_department == code)
            | (Case.lead_department == code)
            | (Case.first_responsible_department == code)
        )
    ) or await session.scalar(
        select(func.count()).select_from(ApiKey).where(ApiKey.department_code == code)
    )
    if not used:
        try:
            # Anything else may refer to it too (an assist task, a card, a roster, an order):
            # the database's foreign keys say so, and it is deactivated rather than a 500.
            async with session.begin_nested():
                await session.delete(row)
                await session.flush()
        except IntegrityError:
            used = True
            row = await session.get(Department, code, populate_existing=True)
    if used and row is not None:
        row.active = False
    await session.flush()
    audit.changed(f"department {code}: {'deactivated' if used else 'deleted'}")


async def import_all(session: AsyncSession, items: list[DepartmentIn]) -> dict[str, int]:
    """Upsert a whole list in one transaction. Parents may come after their children in the
    file; the checks run over the list as a whole, and any error names the item and field."""
    errors: list[FieldError] = []
    codes = [d.code for d in items]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            errors.append(FieldError(f"[{i}].code", f"duplicate code '{code}'"))
    existing = {d.code: d for d in await repository.all_departments(session)}
    parents: dict[str, str | None] = {c: d.parent_code for c, d in existing.items()}
    parents.update({d.code: d.parent for d in items})
    for i, d in enumerate(items):
        if d.parent is not None and d.parent not in parents:
            errors.append(FieldError(f"[{i}].parent", f"unknown parent department '{d.parent}'"))
        elif _find_cycle(parents, d.code):
            errors.append(FieldError(f"[{i}].parent", "parent makes a cycle"))
    if errors:
        raise DomainError(
            detail=f"{len(errors)} departments are invalid",
            status=422,
            title="Validation failed",
            type="/problems/validation",
            errors=errors,
        )
    created = updated = 0
    rows = dict(existing)
    order = sorted(range(len(items)), key=lambda i: _depth(parents, items[i].code))
    for i in order:
        d = items[i]
        row = existing.get(d.code)
        if row is None:
            row = Department(code=d.code)
            session.add(row)
            created += 1
        else:
            updated += 1
        # Parents first: a parent's level is known before its children's.
        _apply(row, d, rows.get(d.parent) if d.parent else None, f"[{i}].level")
        rows[d.code] = row
        row.active = True
        await session.flush()
    audit.changed(f"departments imported: {created} created, {updated} updated")
    return {"created": created, "updated": updated}


def _depth(parents: dict[str, str | None], code: str) -> int:
    depth, node = 0, parents.get(code)
    while node is not None and depth < 1000:
        depth, node = depth + 1, parents.get(node)
    return depth
