"""Whether the applicant hears of a step, and when.

Decided at the step, inside its transaction, from the case row the step already holds locked:
no query, and a notice is written exactly when the step is.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from services.validation import MOBILE
from shared.enums import Action, Note
from shared.timeutil import SHANGHAI, to_shanghai

DAILY_CAP = 5
"""Notices one case may send in a Shanghai day; a busy day's further steps are on the tracking
page, not in yet another SMS."""
QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(8, 0)
"""No SMS between these hours (Shanghai) unless the case is urgent: held, sent at 08:00."""


class Noticed(Protocol):
    """The columns of a case the rules read and the counter they keep."""

    channel: str
    status: str
    urgent: bool
    applicant_phone: str | None
    notices_opted_out: bool
    notices_asked: bool
    applicant_openid: str | None
    notices_day: date | None
    notices_that_day: int


def event_for(action: str, from_status: str | None, status: str) -> str | None:
    """The notice a step is, if it is one the applicant hears of."""
    if action == Action.register:
        return "registered"
    if action in (Action.route, Action.assign):
        return "transferred" if from_status == "assigned" else "assigned"
    if action == Note.extension_approved:
        return "extended"
    if action == Action.feedback_unsatisfied and status == "reopened":
        return "reopened"  # a rating given before 不满意甄别 existed (a replayed history)
    if action in (Action.feedback_satisfied, Action.auto_close) and status == "closed":
        return "closed"
    told: dict[str, str] = {
        Action.transfer: "transferred",
        Action.suspend: "suspended",
        Action.resume: "resumed",
        Action.reply: "replied",
        Action.approve_reply: "replied",
        Action.follow_reply: "replied",
        Action.feedback_unsatisfied: "rating_review",
        Action.reopen: "reopened",
        Action.uphold: "upheld",
    }
    return told.get(action)


def words(event: str, reason: str | None, data: Mapping[str, Any]) -> str:
    """The step's own words the applicant reads: why it was suspended, the answer; for an
    extension, why the department asked for it, not the coordinator's note on deciding."""
    if event == "extended":
        said = data.get("extension_reason")
    elif event == "replied" and "reply" in data:
        said = data["reply"]  # an approved reply: the department's words, not the reviewer's
    else:
        said = reason
    return str(said or "")


def new_reply_code() -> str:
    """Four digits the applicant adds to a rating. Not a secret (the phone is the proof); it
    only tells one phone's cases apart, and two of them waiting with the same code (1 in
    10,000) fall back to a person reading the reply."""
    return f"{secrets.randbelow(10_000):04d}"


def reachable(case: Noticed) -> bool:
    """Somewhere to send to (a mobile, or the WeChat mini program), not opted out, and not a
    hotline case unless the hotline asked (its callback otherwise tells it, and it tells its
    caller)."""
    if case.notices_opted_out or (case.channel == "hotline" and not case.notices_asked):
        return False
    return bool(case.applicant_openid) or is_mobile(case)


def is_mobile(case: Noticed) -> bool:
    return bool(MOBILE.match(case.applicant_phone or ""))


def count_one(case: Noticed, at: datetime) -> bool:
    """Count a notice against the day's cap; False once the cap is reached."""
    day = to_shanghai(at).date()
    if case.notices_day != day:
        case.notices_day, case.notices_that_day = day, 0
    if case.notices_that_day >= DAILY_CAP:
        return False
    case.notices_that_day += 1
    return True


def held_for(at: datetime, *, urgent: bool) -> timedelta | None:
    """How long a notice waits for the quiet hours to end (None: send now)."""
    local = to_shanghai(at)
    if urgent or QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    morning = local.date() + (timedelta(days=1) if local.time() >= QUIET_FROM else timedelta())
    return datetime.combine(morning, QUIET_UNTIL, tzinfo=SHANGHAI) - local


def goes_at(at: datetime, case: Noticed) -> datetime:
    """When a notice written at `at` is sent: at once, or at 08:00 after the quiet hours."""
    held = held_for(at, urgent=case.urgent)
    return at + held if held is not None else at
