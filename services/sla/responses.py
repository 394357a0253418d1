"""What the cards' calls answer: a card as every reader sees it, a department's monthly score."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CardOut(BaseModel):
    id: int
    case_no: str | None = Field(description="None for a department's monthly red card")
    department: str
    colour: str = Field(examples=["yellow", "red"])
    deadline: str = Field(
        examples=["sign", "handle", "drag", "monthly", "supervision", "assist", "rectification"]
    )
    due_at: str | None
    month: str = Field(examples=["2026-11"])
    points: int
    status: str = Field(examples=["active", "appealed", "upheld", "revoked"])
    issued_at: str | None
    appeal_reason: str | None = Field(
        description="the department's words, with the applicant's name and numbers masked"
    )
    appealed_at: str | None
    decided_at: str | None
    decision_note: str | None = Field(
        description="the supervisor's words, with the applicant's name and numbers masked"
    )
    supervision_id: int | None = Field(default=None, description="deadline `supervision`")
    assist_id: int | None = Field(default=None, description="deadline `assist`")
    rectification_id: int | None = Field(default=None, description="deadline `rectification`")


class Score(BaseModel):
    department: str
    month: str
    base: int
    deducted: int
    score: int
    yellow: int
    red: int
