"""Rate limits and lock-outs in Redis, shared by every API process.

A bucket's window starts with its first hit and lasts `window_seconds` (SET NX EX, then INCR, in
one MULTI), so a burst cannot straddle two clock minutes to get twice the limit, and a test
never depends on the wall clock's second. Every call is bounded by `timeout`: when Redis is down
or frozen the limiter answers at once, open (let the request through, logged) or closed (503),
as RATE_LIMIT_FAIL_OPEN says; it never hangs a request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.errors import DomainError

log = structlog.get_logger("gaodedim.ratelimit")
PREFIX = "gaodedim:ratelimit:"


@dataclass(frozen=True)
class Limiter:
    redis: Redis | None
    timeout: float
    fail_open: bool

    async def _count(self, key: str, window_seconds: int, *, add: bool) -> tuple[int, int]:
        """(hits in the current window, seconds it has left); `add` counts this one."""
        if self.redis is None:
            raise RedisError("REDIS_URL is not set")
        async with asyncio.timeout(self.timeout):
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=window_seconds, nx=True)
                if add:
                    pipe.incr(key)
                else:
                    pipe.get(key)
                pipe.ttl(key)
                _, count, ttl = await pipe.execute()
        return int(count or 0), max(int(ttl), 1)

    async def _guarded(self, key: str, window_seconds: int, *, add: bool) -> tuple[int, int]:
        try:
            return await self._count(key, window_seconds, add=add)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("ratelimit_unavailable", error_type=type(exc).__name__, open=self.fail_open)
            if self.fail_open:
                return 0, 0
            raise DomainError(
                detail="the look-up service is busy; try again shortly",
                status=503,
                title="Service unavailable",
                type="/problems/unavailable",
                headers={"Retry-After": "5"},
            ) from exc

    async def hit(self, bucket: str, *, limit: int, window_seconds: int = 60) -> None:
        """Count one request in `bucket`; a 429 with Retry-After once `limit` is passed."""
        count, ttl = await self._guarded(PREFIX + bucket, window_seconds, add=True)
        if count > limit:
            raise too_many(ttl)

    async def check_locked(self, bucket: str, *, failures: int, window_seconds: int) -> None:
        """429 while `bucket` has had `failures` failures in its window (a lock-out)."""
        count, ttl = await self._guarded(PREFIX + bucket, window_seconds, add=False)
        if count >= failures:
            raise too_many(ttl)

    async def fail(self, bucket: str, *, window_seconds: int) -> None:
        await self._guarded(PREFIX + bucket, window_seconds, add=True)


def too_many(retry_after: int) -> DomainError:
    return DomainError(
        detail="too many look-ups; try again later",
        status=429,
        title="Too many requests",
        type="/problems/rate-limited",
        headers={"Retry-After": str(retry_after)},
    )
