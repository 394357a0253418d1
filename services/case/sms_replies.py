"""What an applicant texts back: a rating, TD, or words for a person.

The replied notice asks for two digits and the case's four-digit reply code in one reply
(`11 4821`, or `114821`): the first rates the answer (1 满意, 2 基本满意, 3 不满意), the second says
whether the matter was solved (1 已解决, 2 未解决: 解决率). The code lets a phone waiting on two
answers rate the right one; a bare rating (`1`, `14821`: the earlier one-digit notice) still
counts, the 解决 question then unanswered. Lengths tell the parts apart: four digits after the
rating are the code, five are the 解决 digit and the code. A rating is recorded exactly as the
window records feedback (unsatisfied goes to 不满意甄别), TD turns notices off, and anything else
(a question, a rating nobody is waiting for, a number we do not know) is kept for the window to
read, on the case it most likely concerns.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.case import service as cases
from services.case.lifecycle import AUTO_CLOSING
from services.case.schemas import Feedback
from services.validation import MOBILE, normalise_phone
from shared import metrics
from shared.enums import Satisfaction
from shared.errors import DomainError
from shared.models import Case, SmsReply
from shared.principal import SYSTEM
from shared.text import BAD_TEXT

log = structlog.get_logger("gaodedim.notices")

RATINGS = {
    "1": Satisfaction.satisfied,
    "2": Satisfaction.basically_satisfied,
    "3": Satisfaction.unsatisfied,
}
SOLVED = {"1": True, "2": False}
_APART = r"[\s,，.。:：;；!！、]"
RATING = re.compile(
    rf"([123])\s*(?:([12])(?=\s|\d|{_APART}|$))?\s*(\d{{4}})?(?!\d){_APART}*(.*)", re.S
)
"""The rating, the 解决 digit (only when a space, the code or the end follows it: `3 2天了`
is a rating and a comment), the code, the words after them."""
_OPT_OUT = re.compile(r"(TD|T|退订|退)(\d{4})?", re.I)
MAX_TEXT = 500
"""An SMS is at most a few parts; a longer push is cut, not refused (the carrier would only
send it again)."""
RECENT = 20
"""A phone's newest cases looked at: more than any person has open at once."""


@dataclass(frozen=True)
class Inbound:
    """One message as the provider pushed it."""

    phone: str
    text: str
    provider_id: str | None


@dataclass(frozen=True)
class Outcome:
    outcome: str
    """`rating`, `opt_out`, `other`; `seen` when the provider sent this message before."""
    case_no: str | None = None


def cleaned(text: str) -> str:
    """The person's words as kept: control characters gone, cut where no SMS goes."""
    return BAD_TEXT.sub("", text).strip()[:MAX_TEXT]


def read(text: str) -> str:
    """What the rules match: full-width digits and letters as ASCII (a Chinese keyboard's １
    is a 1)."""
    return unicodedata.normalize("NFKC", text)


async def receive(session: AsyncSession, message: Inbound, *, now: datetime) -> Outcome:
    """Act on one message, once: kept first (its provider id unique), then acted on in the
    same transaction, so a push sent again neither rates twice nor is lost half-done."""
    text = cleaned(message.text)
    phone = normalise_phone(message.phone)
    digits = "".join(c for c in phone if c.isdigit())
    row = {
        "provider_id": message.provider_id,
        "phone_last4": digits[-4:],
        "text": text,
        "outcome": "other",
        "received_at": now,
    }
    stmt = insert(SmsReply).values(row).on_conflict_do_nothing(index_elements=["provider_id"])
    reply_id = await session.scalar(stmt.returning(SmsReply.id))
    if reply_id is None:
        metrics.SMS_REPLIES.labels("seen").inc()
        return Outcome("seen")
    theirs = await _cases_of(session, phone) if MOBILE.match(phone) else []
    ids = {c.case_no: c.id for c in theirs}
    outcome = await _act(session, read(text), theirs, now=now)
    await session.execute(
        update(SmsReply)
        .where(SmsReply.id == reply_id)
        .values(outcome=outcome.outcome, case_id=ids.get(outcome.case_no or ""))
    )
    metrics.SMS_REPLIES.labels(outcome.outcome).inc()
    log.info("sms_reply", outcome=outcome.outcome, case_no=outcome.case_no)
    return outcome


async def _act(session: AsyncSession, text: str, theirs: list[Case], *, now: datetime) -> Outcome:
    compact = re.sub(r"\s+", "", text)
    if opt_out := _OPT_OUT.fullmatch(compact):
        return await _opt_out(session, theirs, opt_out.group(2))
    rating = RATING.fullmatch(text)
    if rating is None:
        return Outcome("other", _likeliest(theirs, None))
    digit, solved, code, comment = rating.groups()
    waiting = [
        c for c in theirs if c.status in AUTO_CLOSING and (code is None or c.reply_code == code)
    ]
    if len(waiting) != 1:
        # None waiting (rated already, or a code we never sent) or two and no code to choose.
        return Outcome("other", _likeliest(theirs, code))
    feedback = Feedback(
        satisfaction=RATINGS[digit],
        resolved=SOLVED.get(solved or ""),
        comment=comment.strip() or None,
    )
    case_no = waiting[0].case_no
    session.expire(waiting[0])  # read again under the step's lock, as it stands now
    try:
        await cases.give_feedback(session, case_no, feedback, actor=SYSTEM, now=now)
    except DomainError:  # answered again, or closed, between our read and the lock
        return Outcome("other", case_no)
    return Outcome("rating", case_no)


async def _opt_out(session: AsyncSession, theirs: list[Case], code: str | None) -> Outcome:
    """TD with a code stops that case's notices; a bare TD stops every case of the phone (what a
    person sending TD to a sender means)."""
    chosen = [c for c in theirs if code is None or c.reply_code == code]
    if not chosen:
        return Outcome("other", _likeliest(theirs, code))
    await session.execute(
        update(Case).where(Case.id.in_([c.id for c in chosen])).values(notices_opted_out=True)
    )
    return Outcome("opt_out", chosen[0].case_no)


def _likeliest(theirs: list[Case], code: str | None) -> str | None:
    """The case a message a person must read goes with: the one its code names, else the one
    waiting for a rating, else the phone's newest."""
    for matches in (
        lambda c: code is not None and c.reply_code == code,
        lambda c: c.status in AUTO_CLOSING,
        lambda c: True,
    ):
        found = next((c for c in theirs if matches(c)), None)
        if found is not None:
            return found.case_no
    return None


async def _cases_of(session: AsyncSession, phone: str) -> list[Case]:
    """The phone's newest cases, hotline cases too (a hotline caller may text the same number
    back); found through the phone's own index."""
    stmt = (
        select(Case)
        .where(Case.applicant_phone == phone)
        .order_by(Case.created_at.desc())
        .limit(RECENT)
    )
    return list((await session.execute(stmt)).scalars())
