"""The rule table's life: a draft that is validated when saved, published as numbered versions
that never change, each compiled once per process when first used."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.department import repository as departments
from services.rules.engine import CompiledTable
from services.rules.schemas import CardPolicy, RuleTable
from shared import audit
from shared.errors import DomainError, FieldError, conflict, not_found
from shared.models import RuleDraft, RuleVersion
from shared.principal import Principal
from shared.recent import Recent

_compiled: dict[tuple[int, datetime], CompiledTable] = {}
"""Published versions never change, so a compiled one is good for the life of the process. The
key includes the publication time: a database restored or rebuilt under a running process
(tests do this) can reuse a number for another table."""
_latest: Recent[tuple[int, CompiledTable]] = Recent()


async def check(session: AsyncSession, table: RuleTable) -> None:
    """What the schema cannot know: departments exist, policies exist, ids are unique."""
    known = {d.code for d in await departments.all_departments(session) if d.active}
    errors: list[FieldError] = []
    if table.fallback_department not in known:
        errors.append(
            FieldError("fallback_department", f"unknown department '{table.fallback_department}'")
        )
    seen: set[str] = set()
    for i, rule in enumerate(table.rules):
        where = f"rules[{i}]"
        if rule.id in seen:
            errors.append(FieldError(f"{where}.id", f"duplicate rule id '{rule.id}'"))
        seen.add(rule.id)
        if rule.lead_department not in known:
            errors.append(
                FieldError(
                    f"{where}.lead_department", f"unknown department '{rule.lead_department}'"
                )
            )
        for j, code in enumerate(rule.co_departments):
            if code not in known:
                errors.append(
                    FieldError(f"{where}.co_departments[{j}]", f"unknown department '{code}'")
                )
        if rule.sla_policy not in table.sla_policies:
            errors.append(
                FieldError(f"{where}.sla_policy", f"unknown SLA policy '{rule.sla_policy}'")
            )
    if errors:
        first = errors[0]
        raise DomainError(
            detail=f"{len(errors)} problems; first: {first.field}: {first.message}",
            status=422,
            title="Validation failed",
            type="/problems/validation",
            errors=errors[:200],
        )


async def save_draft(session: AsyncSession, table: RuleTable, *, actor: Principal) -> None:
    await check(session, table)
    body = table.model_dump(mode="json", exclude_none=True)
    await session.execute(
        insert(RuleDraft)
        .values(id=1, table=body, updated_by_key_id=actor.key_id)
        .on_conflict_do_update(
            index_elements=["id"],
            set_={"table": body, "updated_at": func.now(), "updated_by_key_id": actor.key_id},
        )
    )
    audit.changed(f"rule table draft saved: {len(table.rules)} rules")


async def draft(session: AsyncSession) -> RuleTable | None:
    row = await session.get(RuleDraft, 1)
    return RuleTable.model_validate(row.table) if row else None


async def latest_version(session: AsyncSession) -> int | None:
    return await session.scalar(select(func.max(RuleVersion.version)))


async def card_policy(session: AsyncSession) -> tuple[int, CardPolicy] | None:
    """The latest published table's card policy, read out of the JSON in the database (a
    10,000-rule table is not loaded for it); None when nothing is published."""
    row = (
        await session.execute(
            select(RuleVersion.version, RuleVersion.table["card_policy"])
            .order_by(RuleVersion.version.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return row[0], CardPolicy.model_validate(row[1] or {})


async def version(session: AsyncSession, number: int) -> RuleTable:
    row = await session.get(RuleVersion, number)
    if row is None:
        raise not_found(f"rule table version {number}")
    return RuleTable.model_validate(row.table)


async def publish(session: AsyncSession, *, actor: Principal) -> int:
    """Copy the draft into the next version. The draft is checked again: a department may have
    been deactivated since it was saved. Concurrent publishes are serialised by a lock."""
    await session.execute(select(func.pg_advisory_xact_lock(7_345_001)))
    row = await session.get(RuleDraft, 1)
    if row is None:
        raise conflict("there is no draft to publish; PUT /api/v1/rules first")
    table = RuleTable.model_validate(row.table)
    await check(session, table)
    latest = await latest_version(session)
    if latest is not None:
        current = await session.get(RuleVersion, latest)
        if current is not None and current.table == row.table:
            raise conflict(f"the draft is the same as version {latest}", version=latest)
    number = (latest or 0) + 1
    _latest.forget()
    session.add(RuleVersion(version=number, table=row.table, published_by_key_id=actor.key_id))
    await session.flush()
    audit.changed(f"rule table version {number}: published")
    return number


async def compiled(
    session: AsyncSession, number: int | None = None, *, max_age: float = 0
) -> tuple[int, CompiledTable] | None:
    """Version `number` (default: the latest) compiled; None when nothing is published. Only
    the version's number and time are read unless it still has to be compiled; with `max_age`
    (routing's hot path) the latest is not even asked for if it was that recently."""
    if number is None:
        recent = _latest.get(max_age)
        if recent is not None:
            return recent
    stmt = select(RuleVersion.version, RuleVersion.published_at)
    stmt = (
        stmt.where(RuleVersion.version == number)
        if number
        else stmt.order_by(RuleVersion.version.desc())
    )
    row = (await session.execute(stmt.limit(1))).first()
    if row is None:
        if number is not None:
            raise not_found(f"rule table version {number}")
        return None
    key = (row.version, row.published_at)
    if key not in _compiled:
        _compiled[key] = CompiledTable(await version(session, row.version))
    found = row.version, _compiled[key]
    return _latest.put(found) if number is None else found


def table_out(table: RuleTable) -> dict[str, Any]:
    return table.model_dump(mode="json", exclude_none=True)
