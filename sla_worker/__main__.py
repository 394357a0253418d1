"""`python -m sla_worker`: run the worker against REDIS_URL, read when it starts (arq while
Redis answers, the database alone while it does not: sla_worker.runner)."""

from __future__ import annotations

import asyncio

from shared.settings import get_settings
from sla_worker.runner import serve


def main() -> None:
    settings = get_settings()
    if not settings.redis_url:
        raise SystemExit("REDIS_URL is not set (make run starts an embedded Redis)")
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
