"""The notices' words: read by those who configure, saved as a new version, previewed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from services.authz import May
from services.notices import catalogue
from services.notices.responses import PreviewOut, TemplateHistoryOut, TemplateOut
from services.notices.schemas import Event, PreviewIn, TemplateIn
from shared.database import transaction
from shared.principal import Principal
from shared.view import Items
from web.auth import allowed
from web.deps import Now, Sessionmaker

router = APIRouter(prefix="/api/v1/notice-templates", tags=["notices"])
Editor = Annotated[Principal, allowed(May.configure)]


@router.get("", response_model=Items[TemplateOut])
async def list_notice_templates(_: Editor, sessions: Sessionmaker) -> Items[TemplateOut]:
    """The text each notice is sent with now, in the order a case meets them."""
    async with transaction(sessions) as session:
        current = [await catalogue.current(session, event) for event in catalogue.EVENTS]
    return Items[TemplateOut](items=[catalogue.template_out(w) for w in current])


@router.get("/{event}", response_model=TemplateHistoryOut)
async def get_notice_template(
    event: Event, _: Editor, sessions: Sessionmaker
) -> TemplateHistoryOut:
    async with transaction(sessions) as session:
        current = await catalogue.current(session, event)
        saved = await catalogue.versions(session, event)
    versions = [
        catalogue.Wording(r.event, r.text, r.version, r.saved_at, r.saved_by) for r in saved
    ]
    return TemplateHistoryOut(
        event=event,
        current=catalogue.template_out(current),
        versions=[catalogue.template_out(v) for v in versions],
    )


@router.put("/{event}", response_model=TemplateOut)
async def save_notice_template(
    event: Event, body: TemplateIn, editor: Editor, sessions: Sessionmaker, now: Now
) -> TemplateOut:
    """A new version, used from the next notice on; the old ones stay, to read and restore."""
    by = str(editor.key_id) if editor.key_id else None
    async with transaction(sessions) as session:
        saved = await catalogue.save(session, event, body.text, by=by, now=now)
    return catalogue.template_out(saved)


@router.post("/{event}/preview", response_model=PreviewOut)
async def preview_notice_template(
    event: Event, body: PreviewIn, _: Editor, sessions: Sessionmaker
) -> PreviewOut:
    """A text (or the one in use) filled in for a made-up case: nothing is saved or sent."""
    if body.text is None:
        async with transaction(sessions) as session:
            text = (await catalogue.current(session, event)).text
    else:
        text = body.text
        catalogue.require_valid(text)
    return catalogue.preview(text)
