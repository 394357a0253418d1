"""办事指南: the matter catalogue, imported by the admin, searched by those who tell citizens
what to bring."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.authz import May
from services.matter import catalogue
from services.matter.responses import CatalogueSaved, MatterOut
from services.matter.schemas import Catalogue
from shared.database import transaction
from shared.principal import Principal
from shared.view import Page
from web.auth import allowed
from web.deps import Now, Sessionmaker
from web.params import Cursor

router = APIRouter(prefix="/api/v1", tags=["matters"])
Admin = Annotated[Principal, allowed(May.configure)]
Reader = Annotated[Principal, allowed(May.read_matters)]


@router.put("/matters", response_model=CatalogueSaved)
async def import_matters(
    body: Catalogue, actor: Admin, sessions: Sessionmaker, now: Now
) -> CatalogueSaved:
    """A new version of the whole catalogue, in force at once (a larger file than a request
    takes: `gaodedim matters import FILE`)."""
    async with transaction(sessions) as session:
        return await catalogue.publish(session, body, actor=actor, now=now)


@router.get("/matters", response_model=Page[MatterOut])
async def search_matters(
    actor: Reader,
    sessions: Sessionmaker,
    q: Annotated[
        str | None,
        Query(max_length=100, description="words of a name, a material or a question"),
    ] = None,
    department: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    cursor: Cursor = None,
) -> Page[MatterOut]:
    async with sessions() as session:
        items, next_cursor = await catalogue.find(
            session, actor, q, department=department, limit=limit, cursor=cursor
        )
    return Page[MatterOut](items=items, next_cursor=next_cursor, limit=limit)


@router.get("/matters/{code}", response_model=MatterOut)
async def get_matter(
    code: Annotated[str, Path(max_length=64)], actor: Reader, sessions: Sessionmaker
) -> MatterOut:
    async with sessions() as session:
        return await catalogue.one(session, actor, code)
