"""12345 work orders in: one case per order, supplements appended, redeliveries ignored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.case import service as cases
from services.case.codes import CaseNumbers
from services.case.history import note
from services.case.schemas import Applicant, CaseCreate
from services.hotline.schemas import HotlineOrderIn
from shared.enums import Category, Channel, Note, Role
from shared.models import Case, HotlineOrder, HotlinePush
from shared.principal import SYSTEM, Principal

HOTLINE = Principal(role=Role.hotline)
SYSTEM_VIEW = SYSTEM
"""Reading the case back for the answer: the hotline has no key of ours to read with."""


@dataclass
class Outcome:
    case: Case
    created: bool
    supplement: bool
    repeat: bool = False


def _our_category(raw: str | None) -> Category | None:
    try:
        return Category(raw) if raw else None
    except ValueError:
        return None  # the hotline's own wording stays on the order


async def receive(
    session: AsyncSession,
    order: HotlineOrderIn,
    body: bytes,
    *,
    now: datetime,
    numbers: CaseNumbers,
    repeats: cases.RepeatPolicy,
) -> Outcome:
    """Store the order as a case, or recognise it. A lock on the order id (for this transaction)
    makes racing deliveries take turns: the second finds the case the first created."""
    body_hash = hashlib.sha256(body).hexdigest()
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"hotline:{order.order_id}")))
    )
    existing = (
        await session.execute(
            select(HotlineOrder).where(HotlineOrder.order_id == order.order_id).with_for_update()
        )
    ).scalar_one_or_none()
    if existing is None:
        return await _new_case(session, order, body_hash, repeats, now, numbers)
    case = (
        await session.execute(select(Case).where(Case.id == existing.case_id).with_for_update())
    ).scalar_one()
    pushed = await session.execute(
        insert(HotlinePush)
        .values(order_id=order.order_id, body_hash=body_hash)
        .on_conflict_do_nothing(index_elements=["order_id", "body_hash"])
        .returning(HotlinePush.id)
    )
    if pushed.scalar_one_or_none() is None:
        return Outcome(case, created=False, supplement=False)  # a redelivery: nothing to do
    case.updated_at = now
    note(
        session,
        case,
        action=Note.hotline_supplement,
        actor=HOTLINE,
        reason=order.content,
        data={
            "order_id": order.order_id,
            "title": order.title,
            "attachments": [str(u) for u in order.attachments],
        },
    )
    if order.attachments:
        case.attachments = [*case.attachments, *(str(u) for u in order.attachments)]
    return Outcome(case, created=False, supplement=True)


async def _new_case(
    session: AsyncSession,
    order: HotlineOrderIn,
    body_hash: str,
    repeats: cases.RepeatPolicy,
    now: datetime,
    numbers: CaseNumbers,
) -> Outcome:
    data = CaseCreate(
        channel=Channel.hotline,
        description=order.content,
        title=order.title,
        category=_our_category(order.category),
        district=order.district,
        urgent=order.urgent,
        vulnerable=order.vulnerable,
        applicant=Applicant(name=order.caller.name, phone=order.caller.phone),
        attachments=order.attachments,
        notices=True if order.notify_applicant else None,
    )
    case, repeat = await cases.register_or_link(
        session,
        data,
        actor=HOTLINE,
        now=now,
        numbers=numbers,
        repeats=repeats,
    )
    if not repeat or case.callback_url is None:  # a repeat keeps the first channel's address
        case.external_ref = order.order_id
        case.callback_url = str(order.callback_url)
    session.add(
        HotlineOrder(
            order_id=order.order_id,
            case_id=case.id,
            category=order.category,
            callback_url=str(order.callback_url),
            received_at=order.received_at,
        )
    )
    await session.flush()
    session.add(HotlinePush(order_id=order.order_id, body_hash=body_hash))
    return Outcome(case, created=not repeat, supplement=False, repeat=repeat)
