"""What the matter catalogue calls answer."""

from __future__ import annotations

from pydantic import Field

from shared.view import View


class StandardAnswerOut(View):
    id: str = Field(examples=["illegal-mark"])
    question: str
    answer: str


class MatterOut(View):
    code: str = Field(examples=["BDC-ZYDJ"])
    name: str = Field(examples=["不动产转移登记(二手房买卖)"])
    department: str = Field(examples=["GZ-BDC"])
    materials: list[str] = Field(description="what to bring, told once and in full")
    legal_basis: str | None
    promised_days: int | None = Field(description="承诺办结时限, working days")
    answers: list[StandardAnswerOut] = Field(
        description="standard answers; a window cites one as `<code>#<id>` when it settles a "
        "case on the spot"
    )
    version: int = Field(description="the catalogue version it comes from")


class CatalogueSaved(View):
    version: int = Field(examples=[3])
    matters: int = Field(examples=[40])
