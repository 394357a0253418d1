"""Keys as the servers' shell issues them (the `issue` and `make_key` fixtures' answers)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    """A real key as the servers' shell issues it: its id (to find its rows on the audit
    trail), its holder, and the Authorization header that uses it."""

    id: uuid.UUID
    holder: str
    headers: dict[str, str]


IssueFactory = Callable[..., Awaitable[Key]]


KeyFactory = Callable[..., Awaitable[dict[str, str]]]
