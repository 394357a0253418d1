"""The base of every response model: the OpenAPI documents promise these shapes and a generated
client types them; the domain writes plain dicts and the edge checks them against the model on
the way out, so a response that drifted from its model fails a test, not a caller."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

Item = TypeVar("Item")


class View(BaseModel):
    # A member added to a view before its model learns of it is kept, not silently dropped.
    model_config = ConfigDict(extra="allow")


class Items(View, Generic[Item]):
    """A bounded list that is not paged (figures per department, category or day): all of it."""

    items: list[Item]
