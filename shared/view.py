"""The base of every response model: the OpenAPI documents promise these shapes and a generated
client types them. The domain's presenters build them and the handlers return them, so mypy
checks what goes out and pydantic checks it again on the way."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Item = TypeVar("Item")


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
