"""The security administrator's: issue, revoke and bind API keys (三员分立: not the system
administrator's, who configures, nor the auditor's). The secret is in the answer to POST and
nowhere else; the auditor's and the security administrator's own keys come only from the
servers' shell."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.apikey import service as keys
from services.apikey.responses import IssuedKey, KeyOut
from services.authz import May
from shared.database import transaction
from shared.enums import Role
from shared.principal import Principal
from shared.view import Page
from web.auth import allowed
from web.deps import Now, Sessionmaker
from web.params import Cursor

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])
SecurityAdmin = Annotated[Principal, allowed(May.manage_keys)]


class KeyCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"role": "department", "department": "GZ-BDC", "holder": "李明(登记科)"},
                {
                    "role": "window",
                    "department": "GZ-BDC",
                    "label": "不动产登记中心3号窗口",
                    "holder": "张敏",
                },
            ]
        },
        extra="forbid",
        str_strip_whitespace=True,
    )
    role: Role
    department: Annotated[str, Field(max_length=32)] | None = Field(
        default=None,
        description="a department key's department; a window key's service hall (optional)",
    )
    label: Annotated[str, Field(max_length=200)] | None = None
    holder: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="the person or system the key is given to (kept on the key and in the "
        "audit trail)"
    )


@router.post("", status_code=201, response_model=IssuedKey)
async def create_key(body: KeyCreate, actor: SecurityAdmin, sessions: Sessionmaker) -> IssuedKey:
    async with transaction(sessions) as session:
        issued = await keys.issue(
            session,
            role=body.role,
            holder=body.holder,
            issuer=actor,
            department=body.department,
            label=body.label,
        )
    return IssuedKey(
        id=str(issued.id),
        key=issued.key,
        role=issued.role.value,
        department=issued.department,
        label=issued.label,
        holder=body.holder,
    )


class HallIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"department": "GZ-BDC"}]},
        extra="forbid",
        str_strip_whitespace=True,
    )
    department: Annotated[str, Field(min_length=1, max_length=32)]


@router.put("/{key_id}/hall", response_model=KeyOut)
async def bind_hall(
    key_id: uuid.UUID, body: HallIn, actor: SecurityAdmin, sessions: Sessionmaker
) -> KeyOut:
    """A window key bound to its service hall sees that hall's cases in clear; until then it
    sees every case masked, except those it registered itself."""
    async with transaction(sessions) as session:
        row = await keys.bind_hall(session, key_id, body.department, actor=actor)
        return keys.key_out(row)


@router.get("", response_model=Page[KeyOut])
async def list_keys(
    _: SecurityAdmin,
    sessions: Sessionmaker,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> Page[KeyOut]:
    async with transaction(sessions) as session:
        rows, next_cursor = await keys.page_keys(session, limit=limit, cursor=cursor)
    return Page[KeyOut](items=[keys.key_out(k) for k in rows], next_cursor=next_cursor, limit=limit)


@router.delete("/{key_id}", status_code=204)
async def revoke_key(
    key_id: uuid.UUID, actor: SecurityAdmin, sessions: Sessionmaker, now: Now
) -> None:
    async with transaction(sessions) as session:
        await keys.revoke(session, key_id, now=now, actor=actor)
