"""Verified API keys remembered for a few seconds in each process.

Why: every request looked its key up in a transaction of its own, one more round trip in front
of every registration. A key that verifies is kept for `ttl` seconds (by its SHA-256, never the
secret); a revoked key, or one whose department was deactivated, stops working when its entry
expires, within `ttl` in every process. Unknown keys are not remembered: a key issued a moment
ago works at once.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.apikey import service as keys
from shared.principal import Principal

MAX_ENTRIES = 10_000


class KeyCache:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], ttl: float) -> None:
        self._sessionmaker, self._ttl = sessionmaker, ttl
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    async def authenticate(self, secret: str) -> Principal | None:
        digest = keys.hash_key(secret)
        now = time.monotonic()
        found = self._entries.get(digest)
        if found is not None and found[0] > now:
            return found[1]
        async with self._sessionmaker() as session:
            principal = await keys.authenticate(session, secret)
        if principal is None:
            self._entries.pop(digest, None)
            return None
        if self._ttl > 0:
            self._entries[digest] = (now + self._ttl, principal)
            self._entries.move_to_end(digest)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return principal
