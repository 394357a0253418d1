"""Cards after they are issued: who sees them, a department's score, appeals and rulings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Protocol

from pydantic import ConfigDict, Field, StrictBool
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import authz
from services.authz import May
from services.case.history import note
from services.case.schemas import Strict, Text
from services.privacy import APPLICANT, applicant_of, redact
from services.sla.responses import CardOut, Score
from shared import pagination
from shared.enums import Note, Role
from shared.errors import conflict, forbidden, not_found
from shared.models import Card, Case
from shared.principal import Principal
from shared.timeutil import shanghai_iso

BASE_SCORE = 100
"""The monthly assessment starts from 100; each card that stands deducts its points."""


class Appeal(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "申请人补正材料期间未挂起,逾期非本部门原因"}]}
    )

    reason: Annotated[Text, Field(max_length=2000)]


class Ruling(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"uphold": False, "note": "经核实属申请人原因,撤销黄牌"}]}
    )

    uphold: StrictBool
    note: Annotated[Text, Field(max_length=2000)] | None = None


class CardCase(Protocol):
    """What a card's answer needs of its case (a Case, or a row of `CASE_COLUMNS`)."""

    @property
    def case_no(self) -> str: ...
    @property
    def applicant_name(self) -> str | None: ...
    @property
    def applicant_phone(self) -> str | None: ...
    @property
    def applicant_id_number(self) -> str | None: ...


CASE_COLUMNS = (Case.case_no, *APPLICANT)


def card_out(card: Card, case: CardCase | None) -> CardOut:
    """A card is about a department's deadline, and every department, supervisor, dashboard and
    the monthly report's readers see it: the applicant's name and numbers, where an appeal or a
    ruling quotes them, are masked for all of them, as on a masked case."""
    who = applicant_of(case)
    return CardOut(
        id=card.id,
        case_no=case.case_no if case else None,
        department=card.department,
        colour=card.colour,
        deadline=card.deadline,
        due_at=shanghai_iso(card.due_at),
        month=card.month,
        points=card.points,
        status=card.status,
        issued_at=shanghai_iso(card.issued_at),
        appeal_reason=redact(card.appeal_reason, **who),
        appealed_at=shanghai_iso(card.appealed_at),
        decided_at=shanghai_iso(card.decided_at),
        decision_note=redact(card.decision_note, **who),
        supervision_id=card.supervision_id,
        assist_id=card.assist_id,
        rectification_id=card.rectification_id,
    )


def _scope(actor: Principal, department: str | None) -> str | None:
    authz.require(actor, May.read_cards)
    if actor.role is Role.department:
        if department and department != actor.department:
            raise forbidden("a department key sees its own cards only")
        return actor.department
    if actor.units is not None and department is not None and department not in actor.units:
        raise forbidden(f"department {department} is outside this key's unit")
    return department


async def list_cards(
    session: AsyncSession,
    actor: Principal,
    *,
    department: str | None,
    month: str | None,
    colour: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[CardOut], str | None]:
    department = _scope(actor, department)
    stmt = select(Card, *CASE_COLUMNS).outerjoin(Case, Case.id == Card.case_id)
    if actor.units is not None:
        stmt = stmt.where(Card.department.in_(sorted(actor.units)))
    for column, value in (
        (Card.department, department),
        (Card.month, month),
        (Card.colour, colour),
        (Card.status, status),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if cursor:
        (before,) = pagination.decode_cursor(cursor, pagination.row_id)
        stmt = stmt.where(Card.id < before)
    stmt = stmt.order_by(Card.id.desc()).limit(limit + 1)
    rows, next_cursor = pagination.page(
        list((await session.execute(stmt)).all()), limit, lambda row: (row[0].id,)
    )
    return [_out(row) for row in rows], next_cursor


async def score(session: AsyncSession, actor: Principal, department: str, month: str) -> Score:
    department = _scope(actor, department) or department
    rows = await session.execute(
        select(Card.colour, func.count(), func.coalesce(func.sum(Card.points), 0))
        .where(Card.department == department, Card.month == month, Card.status != "revoked")
        .group_by(Card.colour)
    )
    by_colour = {colour: (int(n), int(points)) for colour, n, points in rows.tuples()}
    deducted = sum(points for _, points in by_colour.values())
    return Score(
        department=department,
        month=month,
        base=BASE_SCORE,
        deducted=deducted,
        score=BASE_SCORE - deducted,
        yellow=by_colour.get("yellow", (0, 0))[0],
        red=by_colour.get("red", (0, 0))[0],
    )


async def of_month(
    session: AsyncSession, month: str, units: frozenset[str] | None = None
) -> list[CardOut]:
    """Every card counted in an assessment month, by department then issue time: the list the
    monthly report hands to the government, appeals and rulings included; `units`: the cards of
    those departments only (a unit's report)."""
    stmt = (
        select(Card, *CASE_COLUMNS)
        .outerjoin(Case, Case.id == Card.case_id)
        .where(Card.month == month)
        .order_by(Card.department, Card.issued_at, Card.id)
    )
    if units is not None:
        stmt = stmt.where(Card.department.in_(sorted(units)))
    return [_out(row) for row in await session.execute(stmt)]


def _out(row: Any) -> CardOut:
    """A row of (Card, *CASE_COLUMNS); the case's columns are None for a monthly red card."""
    return card_out(row[0], row if row.case_no is not None else None)


async def _locked(session: AsyncSession, card_id: int) -> tuple[Card, Case | None]:
    card = await session.get(Card, card_id, with_for_update=True)
    if card is None:
        raise not_found(f"card {card_id}")
    case = await session.get(Case, card.case_id) if card.case_id else None
    return card, case


async def appeal(
    session: AsyncSession, card_id: int, data: Appeal, *, actor: Principal, now: datetime
) -> tuple[Card, Case | None]:
    """申诉: the carded department contests it, once, while it is active."""
    card, case = await _locked(session, card_id)
    if actor.role is not Role.department or actor.department != card.department:
        raise forbidden("only the department that got the card may appeal it")
    if card.status != "active":
        raise conflict(
            f"card {card_id} is {card.status}; only an active card can be appealed",
            card_status=card.status,
        )
    card.status, card.appeal_reason, card.appealed_at = "appealed", data.reason, now
    if case is not None:
        note(
            session,
            case,
            action=Note.card_appealed,
            actor=actor,
            at=card.appealed_at,
            reason=data.reason,
            data={"card_id": card.id},
        )
    return card, case


async def rule(
    session: AsyncSession, card_id: int, data: Ruling, *, actor: Principal, now: datetime
) -> tuple[Card, Case | None]:
    """A supervisor upholds the card, or revokes it and so gives the points back."""
    if not authz.may(actor, May.rule_on_appeals):
        raise forbidden("only a supervisor may rule on an appeal")
    card, case = await _locked(session, card_id)
    if card.status != "appealed":
        raise conflict(
            f"card {card_id} is {card.status}; only an appealed card can be ruled on",
            card_status=card.status,
        )
    card.status = "upheld" if data.uphold else "revoked"
    card.decided_at, card.decided_by_key_id, card.decision_note = now, actor.key_id, data.note
    if case is not None:
        note(
            session,
            case,
            action=Note.card_upheld if data.uphold else Note.card_revoked,
            actor=actor,
            at=card.decided_at,
            reason=data.note,
            data={"card_id": card.id, "points": card.points},
        )
    return card, case
