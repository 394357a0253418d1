"""The outbox as operators see it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OutboxMessageOut(BaseModel):
    """A message as operators see it: where it stands, never its payload (which can hold a
    case's callback URL and the like), only the case, department and event it concerns."""

    id: int
    topic: str = Field(examples=["department.notify", "channel.callback", "case.registered"])
    attempts: int
    last_error: str | None
    created_at: str | None
    next_attempt_at: str | None
    delivered_at: str | None
    failed_at: str | None
    case_no: str | None
    department: str | None
    event: str | None


class Retried(BaseModel):
    id: int
    state: str = Field(examples=["pending"])
