"""Departments: anyone with a key may read them; admins and supervisors change them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from services.authz import May
from services.department import repository, service
from services.department.responses import DepartmentOut
from services.department.schemas import DepartmentIn, DepartmentUpdate
from shared.database import transaction
from shared.errors import not_found
from shared.principal import Principal
from shared.urlguard import require_callable
from shared.view import Page
from web.auth import CurrentPrincipal, allowed
from web.deps import Sessionmaker, settings_of
from web.params import Cursor

router = APIRouter(prefix="/api/v1/departments", tags=["departments"])
Editor = Annotated[Principal, allowed(May.configure)]
Code = Annotated[str, Path(max_length=32)]


@router.get("", response_model=Page[DepartmentOut])
async def list_departments(
    viewer: CurrentPrincipal,
    sessions: Sessionmaker,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> Page[DepartmentOut]:
    async with transaction(sessions) as session:
        rows, next_cursor = await repository.page_departments(session, limit=limit, cursor=cursor)
    return Page[DepartmentOut](
        items=[service.department_out(d, viewer) for d in rows],
        next_cursor=next_cursor,
        limit=limit,
    )


@router.get("/{code}", response_model=DepartmentOut)
async def get_department(
    code: Code, viewer: CurrentPrincipal, sessions: Sessionmaker
) -> DepartmentOut:
    async with transaction(sessions) as session:
        row = await repository.get(session, code)
        if row is None:
            raise not_found(f"department {code}")
    return service.department_out(row, viewer)


def _deliverable_webhook(request: Request, url: object) -> None:
    if url is not None:
        require_callable(str(url), settings_of(request).callback_targets, "webhook")


@router.post("", status_code=201, response_model=DepartmentOut)
async def create_department(
    request: Request, body: DepartmentIn, _: Editor, sessions: Sessionmaker
) -> DepartmentOut:
    _deliverable_webhook(request, body.webhook)
    async with transaction(sessions) as session:
        row = await service.create(session, body)
    return service.department_out(row)


@router.put("/{code}", response_model=DepartmentOut)
async def update_department(
    request: Request, code: Code, body: DepartmentUpdate, _: Editor, sessions: Sessionmaker
) -> DepartmentOut:
    _deliverable_webhook(request, body.webhook)
    async with transaction(sessions) as session:
        row = await service.update_department(session, code, body)
    return service.department_out(row)


@router.delete("/{code}", status_code=204)
async def delete_department(code: Code, _: Editor, sessions: Sessionmaker) -> None:
    async with transaction(sessions) as session:
        await service.delete(session, code)
