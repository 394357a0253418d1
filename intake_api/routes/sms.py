"""The SMS provider's pushes: what applicants texted back, and delivery receipts.

Bodies are Alibaba Cloud's documented batch-push formats (SmsUp, SmsReport: a JSON array),
answered as it expects (`{"code": 0, "msg": "接收成功"}`; anything but 200 makes it push again).
Alibaba Cloud does not sign its pushes, so they reach us through the city's gateway, which signs
them with SMS_WEBHOOK_SECRET exactly as the hotline's orders are signed (docs/OPERATIONS.md).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from services.case import sms_replies as replies
from services.notices import receipts
from services.notices.responses import Received
from shared.database import transaction
from web import contract
from web.deps import Sessionmaker, kick_worker, settings_of
from web.signed import header_parameters, parsed, signed_body

router = APIRouter(
    prefix="/webhooks/sms",
    tags=["sms"],
    responses=contract.problems("400", "401", "413", "422", "503"),
)

Id = Annotated[str, Field(min_length=1, max_length=64)] | Annotated[int, Field(ge=0)]


class SmsUpIn(BaseModel):
    """One message an applicant sent (Alibaba Cloud SmsUp)."""

    model_config = ConfigDict(extra="ignore")

    phone_number: str = Field(max_length=32, examples=["13800138000"])
    content: str = Field(max_length=2000, examples=["14821"])
    send_time: str | None = Field(default=None, max_length=32)
    dest_code: str | None = Field(default=None, max_length=32)
    sign_name: str | None = Field(default=None, max_length=64)
    sequence_id: Id = Field(description="the provider's id of the message: a resend keeps it")


class SmsReportIn(BaseModel):
    """One delivery receipt (Alibaba Cloud SmsReport)."""

    model_config = ConfigDict(extra="ignore")

    phone_number: str | None = Field(default=None, max_length=32)
    success: bool
    err_code: str | None = Field(default=None, max_length=32, examples=["DELIVERED"])
    err_msg: str | None = Field(default=None, max_length=200)
    biz_id: str = Field(min_length=1, max_length=64, description="SendSms's BizId")
    send_time: str | None = Field(default=None, max_length=32)
    report_time: str | None = Field(default=None, max_length=32)
    sms_size: str | int | None = None
    out_id: str | None = Field(default=None, max_length=64)


T = TypeVar("T")
Replies = TypeAdapter(list[SmsUpIn])
Reports = TypeAdapter(list[SmsReportIn])
BATCH = 500
"""More messages than one push carries."""


REPLY_EXAMPLE = [
    {
        "phone_number": "13800138001",
        "content": "34821 还是没收到证书",
        "send_time": "2026-11-23 10:00:00",
        "dest_code": "1234",
        "sequence_id": 1234567890,
    }
]
RECEIPT_EXAMPLE = [
    {
        "phone_number": "13800138001",
        "send_time": "2026-11-23 10:00:00",
        "report_time": "2026-11-23 10:00:05",
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": "1",
        "biz_id": "900619746936498440^0",
        "out_id": "",
    }
]


def _openapi(model: type[BaseModel], example: list[dict[str, Any]]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": schema, "maxItems": BATCH},
                    "example": example,
                }
            },
        },
        "parameters": header_parameters("X-Sms"),
    }


def _batch(adapter: TypeAdapter[list[T]], body: bytes) -> list[T]:
    items = parsed(adapter, body)
    if len(items) > BATCH:
        raise RequestValidationError(
            [{"type": "too_long", "loc": ("body",), "msg": f"at most {BATCH} messages a push"}]
        )
    return items


async def _body(request: Request) -> bytes:
    secret = settings_of(request).sms_webhook_secret
    return await signed_body(request, secret, setting="SMS_WEBHOOK_SECRET", prefix="X-Sms")


@router.post(
    "/replies",
    response_model=Received,
    openapi_extra=_openapi(SmsUpIn, REPLY_EXAMPLE),
    responses={401: {"description": "no signature, a bad one, or one older than five minutes"}},
)
async def receive_replies(request: Request, sessions: Sessionmaker) -> Received:
    """1, 2 or 3 with the case's reply code (14821; a bare 1 when the phone has one case
    waiting) records the applicant's feedback exactly as the window's does, and 3 reopens the
    case; TD stops notices; anything else is kept for the window to read. Each message acts
    once, in its own transaction: a push sent again is acknowledged and changes nothing."""
    messages = _batch(Replies, await _body(request))
    for message in messages:
        inbound = replies.Inbound(
            phone=message.phone_number,
            text=message.content,
            provider_id=str(message.sequence_id),
        )
        async with transaction(sessions) as session:
            await replies.receive(session, inbound, now=request.app.state.clock())
    await kick_worker(request)
    return Received()


@router.post(
    "/receipts",
    response_model=Received,
    openapi_extra=_openapi(SmsReportIn, RECEIPT_EXAMPLE),
    responses={401: {"description": "no signature, a bad one, or one older than five minutes"}},
)
async def receive_receipts(request: Request, sessions: Sessionmaker) -> Received:
    """Whether each notice reached the phone, kept on the notice the window reads."""
    reports = _batch(Reports, await _body(request))
    now = request.app.state.clock()
    async with transaction(sessions) as session:
        for report in reports:
            await receipts.record(
                session, report.biz_id, delivered=report.success, code=report.err_code, at=now
            )
    return Received()
