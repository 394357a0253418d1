"""Cards: list, a department's monthly score, appeal, ruling."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.authz import May
from services.sla import cards
from services.sla.responses import CardOut, Score
from shared.database import transaction
from shared.principal import Principal
from shared.view import Page
from web.auth import allowed
from web.deps import Now, Sessionmaker
from web.params import Cursor, Month, OptionalMonth, RowId

router = APIRouter(prefix="/api/v1/cards", tags=["cards"])
CardId = RowId
Reader = Annotated[Principal, allowed(May.read_cards)]
"""The roles that may read cards; the service narrows a department key to its own."""


@router.get("", response_model=Page[CardOut])
async def list_cards(
    actor: Reader,
    sessions: Sessionmaker,
    department: Annotated[str | None, Query(max_length=32)] = None,
    month: OptionalMonth = None,
    colour: Annotated[str | None, Query(pattern="^(yellow|red)$")] = None,
    status: Annotated[str | None, Query(pattern="^(active|appealed|upheld|revoked)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> Page[CardOut]:
    async with transaction(sessions) as session:
        items, next_cursor = await cards.list_cards(
            session,
            actor,
            department=department,
            month=month,
            colour=colour,
            status=status,
            limit=limit,
            cursor=cursor,
        )
    return Page[CardOut](items=items, next_cursor=next_cursor, limit=limit)


@router.get("/score", response_model=Score)
async def score(
    actor: Reader,
    sessions: Sessionmaker,
    month: Month,
    department: Annotated[str, Query(max_length=32)],
) -> Score:
    async with transaction(sessions) as session:
        return await cards.score(session, actor, department, month)


@router.post("/{card_id}/appeal", response_model=CardOut)
async def appeal(
    card_id: CardId,
    body: cards.Appeal,
    actor: Annotated[Principal, allowed(May.handle_cases)],
    sessions: Sessionmaker,
    now: Now,
) -> CardOut:
    async with transaction(sessions) as session:
        card, case = await cards.appeal(session, card_id, body, actor=actor, now=now)
        return cards.card_out(card, case)


@router.post("/{card_id}/decision", response_model=CardOut)
async def decide(
    card_id: CardId,
    body: cards.Ruling,
    actor: Annotated[Principal, allowed(May.rule_on_appeals)],
    sessions: Sessionmaker,
    now: Now,
) -> CardOut:
    async with transaction(sessions) as session:
        card, case = await cards.rule(session, card_id, body, actor=actor, now=now)
        return cards.card_out(card, case)
