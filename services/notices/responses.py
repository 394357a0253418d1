"""What the notices' administration, the window's reply inbox and the SMS providers' pushes
are answered."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.view import View


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


class Received(BaseModel):
    """What Alibaba Cloud's push expects back; it reads only that `code` is a number."""

    code: int = 0
    msg: str = "接收成功"
