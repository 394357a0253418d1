"""`python -m sla_worker`: run the arq worker against REDIS_URL, read when it starts."""

from __future__ import annotations

from arq.worker import run_worker

from shared.queue import redis_settings
from shared.settings import get_settings
from sla_worker.worker import WorkerSettings


def main() -> None:
    settings = get_settings()
    if not settings.redis_url:
        raise SystemExit("REDIS_URL is not set (make run starts an embedded Redis)")
    run_worker(WorkerSettings, redis_settings=redis_settings(settings.redis_url))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
