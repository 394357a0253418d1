"""A 12345 work order as the hotline pushes it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, ConfigDict, Field, HttpUrl, StrictBool, field_validator

from services.case.schemas import Phone, Strict, Text
from shared.timeutil import year_problem

EXAMPLE: dict[str, Any] = {
    "order_id": "12345-GZ-20261122-0042",
    "caller": {"name": "陈建华", "phone": "13912345678"},
    "title": "公积金提取被拒",
    "content": (
        "来电人反映:申请提取住房公积金用于租房,窗口以缺少租赁备案为由拒绝受理,"
        "但租赁备案需要房东配合,房东在外地无法到场。"
    ),
    "category": "住房公积金",
    "district": "天河区",
    "urgent": False,
    "callback_url": "https://12345.gz.gov.cn/api/orders/callback",
    "received_at": "2026-11-22T09:15:00+08:00",
}


class Caller(Strict):
    name: Annotated[Text, Field(max_length=50)] | None = None
    phone: Phone


class HotlineOrderIn(Strict):
    order_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    caller: Caller
    title: Annotated[Text, Field(max_length=200)] | None = None
    content: Annotated[Text, Field(max_length=5000)]
    category: Annotated[str, Field(max_length=100)] | None = None
    district: Annotated[Text, Field(max_length=64)] | None = None
    urgent: StrictBool = False
    vulnerable: StrictBool = False
    callback_url: HttpUrl
    received_at: AwareDatetime
    attachments: Annotated[list[HttpUrl], Field(max_length=20)] = Field(default_factory=list)
    notify_applicant: StrictBool = Field(
        default=False,
        description="the hotline asks us to send its caller our notices too (by SMS); "
        "otherwise its callback tells the hotline, which tells its caller",
    )

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [EXAMPLE]},
    )

    @field_validator("received_at")
    @classmethod
    def _sane(cls, value: datetime) -> datetime:
        problem = year_problem(value)
        if problem:
            raise ValueError(problem)
        return value
