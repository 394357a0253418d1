"""The notices' words as data: an administrator saves a new version, the next notice uses it.

Versions are only ever added, so a notice kept in `notices` names the words it came from, and
going back is saving the older text again. A preview renders a text with a sample case, so the
length (what each SMS costs) is seen before anyone is sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from string import Template

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.notices import templates
from services.notices.responses import PreviewOut, TemplateOut
from shared import audit
from shared.errors import conflict, invalid
from shared.models import NoticeTemplate
from shared.timeutil import shanghai_iso

EVENTS = tuple(templates.DEFAULTS)
MAX_TEXT = 300
"""Five SMS parts at most: a notice longer than that is a letter."""

SAMPLE = {
    "signature": "办不成事窗口",
    "case_no": "GZ-20261123-000042",
    "tracking_code": "K7M2Q9XD",
    "department": "区市场监督管理局",
    "due": "11月30日17:30",
    "reason": "需补充营业执照副本",
    "reply": templates.quoted(
        "经核查，您反映的营业执照变更登记已于今日办结，请携带身份证原件领取。"
    ),
    "code": "4821",
}
"""A made-up case the preview fills a text with: realistic lengths, nobody's data."""


@dataclass(frozen=True)
class Wording:
    event: str
    text: str
    version: int | None
    """None: the built-in text, no administrator has saved one."""
    saved_at: datetime | None = None
    saved_by: str | None = None


def problem(text: str) -> str | None:
    """Why a text cannot be a notice's template, or None."""
    shape = Template(text)
    if not shape.is_valid():
        return "has a `$` that starts no placeholder (write `$$` for a dollar sign)"
    unknown = sorted(set(shape.get_identifiers()) - templates.PLACEHOLDERS)
    if unknown:
        known = ", ".join(f"${name}" for name in sorted(templates.PLACEHOLDERS))
        return f"names no placeholder we fill: ${unknown[0]} (known: {known})"
    return None


def require_valid(text: str) -> None:
    why = problem(text)
    if why is not None:
        raise invalid("text", why)


def preview(text: str) -> PreviewOut:
    """The text as the sample case's applicant would read it, and what it costs."""
    rendered = templates.render(text, SAMPLE)
    return PreviewOut(
        text=rendered, characters=len(rendered), segments=templates.segments(rendered)
    )


def template_out(wording: Wording) -> TemplateOut:
    return TemplateOut(
        event=wording.event,
        text=wording.text,
        version=wording.version,
        saved_at=shanghai_iso(wording.saved_at),
        saved_by=wording.saved_by,
        preview=preview(wording.text),
    )


async def current(session: AsyncSession, event: str) -> Wording:
    stmt = (
        select(NoticeTemplate)
        .where(NoticeTemplate.event == event)
        .order_by(NoticeTemplate.version.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        return Wording(event, templates.DEFAULTS[event], None)
    return Wording(event, row.text, row.version, row.saved_at, row.saved_by)


async def versions(session: AsyncSession, event: str) -> list[NoticeTemplate]:
    stmt = (
        select(NoticeTemplate)
        .where(NoticeTemplate.event == event)
        .order_by(NoticeTemplate.version.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def save(
    session: AsyncSession, event: str, text: str, *, by: str | None, now: datetime
) -> Wording:
    """A new version. Two administrators saving at once: one wins, the other is told to look
    again (409) rather than silently overwritten."""
    require_valid(text)
    latest = await session.scalar(
        select(func.max(NoticeTemplate.version)).where(NoticeTemplate.event == event)
    )
    row = NoticeTemplate(
        event=event, version=(latest or 0) + 1, text=text, saved_at=now, saved_by=by
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise conflict(
            f"the {event} notice was saved by someone else just now; read it again"
        ) from None
    audit.changed(f"notice template {event}: version {row.version} saved")
    return Wording(event, row.text, row.version, row.saved_at, row.saved_by)
