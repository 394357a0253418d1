"""办事指南: the matter catalogue. An administrator imports the whole catalogue (the API for a
city's few hundred matters, `gaodedim matters import` for any size); each import is kept as a
version, like the rule table's, and replaces the searchable rows in the same transaction, so a
search sees one version or the next, never half of one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, case, delete, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services import authz
from services.authz import May
from services.matter import search
from services.matter.responses import CatalogueSaved, MatterOut, StandardAnswerOut
from services.matter.schemas import Catalogue, MatterIn
from shared import pagination
from shared.errors import invalid, not_found
from shared.models import Department, Matter, MatterVersion
from shared.principal import Principal

IMPORT_LOCK = 0x4D41_5454  # "MATT": one import at a time, whatever the process


def _keys(matter: MatterIn) -> tuple[str, str]:
    words = [matter.name, *matter.materials, *(a.question for a in matter.answers)]
    return search.normalised(matter.name), "|".join(search.normalised(w) for w in words)


async def publish(
    session: AsyncSession, catalogue: Catalogue, *, actor: Principal, now: datetime
) -> CatalogueSaved:
    """The route lets the admin alone call this (`May.configure`); the shell's CLI calls it as
    the service itself, as it imports the rule table."""
    known = set((await session.scalars(select(Department.code))).all())
    for i, matter in enumerate(catalogue.matters):
        if matter.department not in known:
            raise invalid(
                f"matters[{i}].department", f"unknown department code '{matter.department}'"
            )
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
    version = (
        int(await session.scalar(select(func.coalesce(func.max(MatterVersion.version), 0))) or 0)
        + 1
    )
    session.add(
        MatterVersion(
            version=version,
            catalogue=catalogue.model_dump(mode="json"),
            matters=len(catalogue.matters),
            published_at=now,
            published_by_key_id=actor.key_id,
        )
    )
    await session.execute(delete(Matter))
    rows = []
    for position, matter in enumerate(catalogue.matters):
        name_key, search_key = _keys(matter)
        rows.append(
            {
                "code": matter.code,
                "version": version,
                "name": matter.name,
                "department": matter.department,
                "materials": matter.materials,
                "legal_basis": matter.legal_basis,
                "promised_days": matter.promised_days,
                "answers": [a.model_dump() for a in matter.answers],
                "name_key": name_key,
                "search_key": search_key,
                "grams": search.grams(search_key),
                "position": position,
            }
        )
    for start in range(0, len(rows), 1000):
        await session.execute(insert(Matter), rows[start : start + 1000])
    return CatalogueSaved(version=version, matters=len(rows))


def matter_out(matter: Matter) -> MatterOut:
    return MatterOut(
        code=matter.code,
        name=matter.name,
        department=matter.department,
        materials=list(matter.materials),
        legal_basis=matter.legal_basis,
        promised_days=matter.promised_days,
        answers=[StandardAnswerOut(**a) for a in matter.answers],
        version=matter.version,
    )


async def find(
    session: AsyncSession,
    actor: Principal,
    query: str | None,
    *,
    department: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[MatterOut], str | None]:
    """Without `query`: the catalogue in its file's order, paginated. With one: the best
    `limit` matches (`search`), no further pages."""
    authz.require(actor, May.read_matters)
    where = [Matter.department == department] if department else []
    words = search.terms(query) if query and query.strip() else []
    if not words:
        stmt = select(Matter).where(*where)
        if cursor:
            (after,) = pagination.decode_cursor(cursor, pagination.row_id)
            stmt = stmt.where(Matter.position > after)
        stmt = stmt.order_by(Matter.position).limit(limit + 1)
        rows, next_cursor = pagination.page(
            list((await session.scalars(stmt)).all()), limit, lambda m: (m.position,)
        )
        return [matter_out(m) for m in rows], next_cursor
    held = [Matter.search_key.like(search.like(w), escape="\\") for w in words]
    in_name = _total(
        case((Matter.name_key.like(search.like(w), escape="\\"), len(w)), else_=0) for w in words
    )
    hits = _total(case((h, 1), else_=0) for h in held)
    ranked = select(Matter).where(*where).order_by(hits.desc(), in_name.desc(), Matter.position)
    narrowed = Matter.grams.contains(search.needed(words))  # through the GIN index
    found = list((await session.scalars(ranked.where(narrowed, *held).limit(limit))).all())
    if not found:  # nothing holds every word: those holding the most
        some = Matter.grams.overlap(search.needed(words))  # the index again, more loosely
        found = list((await session.scalars(ranked.where(some, or_(*held)).limit(limit))).all())
    return [matter_out(m) for m in found], None


def _total(parts: Iterable[ColumnElement[int]]) -> ColumnElement[int]:
    found = list(parts)
    total = found[0]
    for part in found[1:]:
        total = total + part
    return total


async def one(session: AsyncSession, actor: Principal, code: str) -> MatterOut:
    authz.require(actor, May.read_matters)
    found = await session.get(Matter, code)
    if found is None:
        raise not_found(f"matter {code}")
    return matter_out(found)
