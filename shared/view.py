"""The base of every response model: the OpenAPI documents promise these shapes and a generated
client types them. The domain's presenters build them and the handlers return them, so mypy
checks what goes out and pydantic checks it again on the way."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from shared.timeutil import shanghai_iso

Item = TypeVar("Item")


def _shown(value: object) -> object:
    return shanghai_iso(value) if isinstance(value, datetime) else value


ShownTime = Annotated[str | None, BeforeValidator(_shown)]
"""A moment as every answer shows it (RFC 3339 in Shanghai time, `2026-11-18T10:00:00+08:00`),
so a model read from a row's attributes (`from_attributes`) takes the row's aware datetime as
it is; the documents still say `string`."""


class View(BaseModel):
    # A member added to a view before its model learns of it is kept, not silently dropped.
    model_config = ConfigDict(extra="allow")

    def body(self) -> dict[str, Any]:
        """The answer as JSON goes out (what an idempotency record stores, or a hand-made
        response sends): the members set, as a handler annotated with the model sends them."""
        return self.model_dump(mode="json", exclude_unset=True)


class Items(View, Generic[Item]):
    """A bounded list that is not paged (figures per department, category or day): all of it."""

    items: list[Item]


class Page(BaseModel, Generic[Item]):
    """Every list: a page of items, and the cursor of the next page (None on the last)."""

    items: list[Item]
    next_cursor: str | None = Field(description="hand it back as `cursor`, as it came")
    limit: int
