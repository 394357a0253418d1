"""What the notices' administration and the window's reply inbox take and answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.notices.catalogue import MAX_TEXT
from shared.view import View

Event = Literal[
    "registered",
    "assigned",
    "transferred",
    "suspended",
    "resumed",
    "extended",
    "replied",
    "reopened",
    "closed",
]
"""The notices there are (services/notices/templates.DEFAULTS, tested to match)."""

TemplateText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)
]


class TemplateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"text": "【$signature】您的诉求$case_no已办结，感谢您的监督。"}]
        },
    )

    text: TemplateText = Field(
        description="Chinese text with `$placeholders`: $signature $case_no $tracking_code "
        "$department $due $reason $reply $code"
    )


class PreviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "【$signature】您的诉求$case_no已答复：$reply 满意请回复1$code。"}
            ]
        },
    )

    text: TemplateText | None = Field(
        default=None, description="a text to try before saving it; none: the one in use"
    )


class PreviewOut(View):
    """The text filled in for a made-up case, and what it costs."""

    text: str
    characters: int
    segments: int = Field(description="SMS parts (70 characters, or 67 a part)")


class TemplateOut(View):
    event: str = Field(examples=["replied"])
    text: str
    version: int | None = Field(description="none: the built-in text, never saved over")
    saved_at: str | None
    saved_by: str | None = Field(description="the id of the key that saved it")
    preview: PreviewOut


class TemplateHistoryOut(View):
    event: str
    current: TemplateOut
    versions: list[TemplateOut] = Field(description="every saved version, newest first")


class SmsReplyOut(View):
    """A message an applicant texted back, as the window reads it."""

    id: int
    received_at: str | None
    case_no: str | None = Field(description="the case it most likely concerns, if any")
    phone_last4: str
    text: str
    outcome: str = Field(examples=["rating", "opt_out", "other"])
    read_at: str | None
