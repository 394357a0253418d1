"""What the notices' administration and the window's reply inbox take and answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.notices.catalogue import MAX_TEXT

Event = Literal[
    "registered",
    "assigned",
    "transferred",
    "suspended",
    "resumed",
    "extended",
    "replied",
    "rating_review",
    "reopened",
    "upheld",
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
