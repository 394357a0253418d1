"""A fixed-window rate limit in Redis, shared by every API process."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from shared.errors import DomainError


async def hit(redis: Redis, bucket: str, *, limit: int, window_seconds: int = 60) -> None:
    """Count one request in `bucket`; a 429 with Retry-After once `limit` is passed."""
    window = int(time.time()) // window_seconds
    key = f"gaodedim:ratelimit:{bucket}:{window}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_seconds + 1)
        count, _ = await pipe.execute()
    if int(count) > limit:
        retry = window_seconds - int(time.time()) % window_seconds
        raise DomainError(
            detail="too many look-ups; try again shortly",
            status=429,
            title="Too many requests",
            type="/problems/rate-limited",
            headers={"Retry-After": str(retry)},
        )
