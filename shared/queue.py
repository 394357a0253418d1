"""The worker's queue on Redis (arq): how the APIs and the worker reach it, and the job the APIs
enqueue to wake the worker."""

from __future__ import annotations

from arq.connections import ArqRedis, RedisSettings

from shared.settings import Settings

WORKER_KICK_JOB = "dispatch_outbox"


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 3
    return settings


def make_redis(settings: Settings) -> ArqRedis | None:
    """Connected on first use, not here: an API starts and takes cases while Redis is down (the
    worker's poll delivers what a missed wake-up would have), and every call is bounded."""
    if not settings.redis_url:
        return None
    timeout = settings.redis_timeout_seconds
    return ArqRedis.from_url(  # type: ignore[no-any-return]
        settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )
