"""A value a hot path may trust for a few seconds instead of asking the database every time."""

from __future__ import annotations

import time
from typing import Generic, TypeVar

T = TypeVar("T")


class Recent(Generic[T]):
    """The last answer to one question (the latest rule table, the calendar's stamp) and when it
    was read. Several processes share the database, so a change made through one is seen by the
    others within `max_age`; the process that made it calls `forget` and sees it at once."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._read_at = float("-inf")

    def get(self, max_age: float) -> T | None:
        if self._value is not None and time.monotonic() - self._read_at < max_age:
            return self._value
        return None

    def put(self, value: T) -> T:
        self._value, self._read_at = value, time.monotonic()
        return value

    def forget(self) -> None:
        self._value, self._read_at = None, float("-inf")
