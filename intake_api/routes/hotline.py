"""`POST /webhooks/hotline`: 12345 work orders in, signed with HOTLINE_WEBHOOK_SECRET.

The signature is checked on the raw body before anything is parsed, so an unsigned request
learns nothing about validation. The body's schema is in the OpenAPI document all the same.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from services.case import presenter, service
from services.case.responses import (
    CaseOut,
    HotlineCaseOut,
    HotlineLinkedOut,
    HotlineOrder,
    LinkedOut,
)
from services.hotline import service as hotline
from services.hotline.schemas import EXAMPLE, HotlineOrderIn
from shared.database import transaction
from shared.enums import Channel
from shared.urlguard import require_callable
from web import contract
from web.deps import Sessionmaker, settings_of
from web.registration import register
from web.signed import header_parameters, parsed, signed_body

router = APIRouter(tags=["hotline"], responses=contract.problems("400", "401", "413", "422", "503"))


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON schema with its $defs inlined, for the OpenAPI request body."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)  # type: ignore[no-any-return]


OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": _inline(HotlineOrderIn.model_json_schema()),
                "example": EXAMPLE,
            }
        },
    },
    "parameters": header_parameters("X-Hotline"),
}


ORDER = TypeAdapter(HotlineOrderIn)


@router.post(
    "/webhooks/hotline",
    response_model=HotlineCaseOut,
    openapi_extra=OPENAPI,
    status_code=201,
    responses={
        201: {"model": HotlineCaseOut, "description": "the order created this case"},
        200: {
            "model": HotlineCaseOut | HotlineLinkedOut,
            "description": "the order was seen before: a supplement, a resend, or a repeat",
        },
        401: {"description": "no signature, a bad one, or one older than five minutes"},
        503: {"description": "HOTLINE_WEBHOOK_SECRET is not set"},
    },
)
async def receive_order(request: Request, sessions: Sessionmaker) -> JSONResponse:
    settings = settings_of(request)
    body = await signed_body(
        request,
        settings.hotline_webhook_secret,
        setting="HOTLINE_WEBHOOK_SECRET",
        prefix="X-Hotline",
    )
    order = parsed(ORDER, body)
    require_callable(str(order.callback_url), settings.callback_targets, "callback_url")

    async def receive(session: AsyncSession) -> hotline.Outcome:
        return await hotline.receive(
            session,
            order,
            body,
            now=request.app.state.clock(),
            numbers=request.app.state.case_numbers,
            repeats=service.RepeatPolicy.of(settings.repeat_window, settings.repeat_similarity),
        )

    registration = await register(
        request,
        sessions,
        receive,
        to_route=lambda outcome: outcome.case.case_no if outcome.created else None,
    )
    outcome = registration.stored
    out: CaseOut | LinkedOut
    if registration.routed is not None:  # routing's answer is the case as it now stands
        out = presenter.seen_by(registration.routed, hotline.HOTLINE)
    else:
        async with transaction(sessions) as session:
            case = await service.get_visible(
                session, outcome.case.case_no, actor=hotline.SYSTEM_VIEW
            )
            if outcome.repeat and case.channel != Channel.hotline:
                out = presenter.linked_out(case)  # another channel's case: linked, not shown
            else:
                out = presenter.case_out(case, hotline.HOTLINE)
    order_out = HotlineOrder(
        order_id=order.order_id,
        created=outcome.created,
        supplement=outcome.supplement,
        repeat=outcome.repeat,
    )
    return JSONResponse(
        {**out.body(), **order_out.body()}, status_code=201 if outcome.created else 200
    )
