"""The citizen's own look-up: no key, minimal data, the same 404 for every kind of miss."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from services.case import codes, service
from services.case.views import TrackingOut
from shared.database import transaction
from shared.errors import DomainError
from shared.web import contract, ratelimit
from shared.web.deps import Sessionmaker, settings_of

router = APIRouter(
    prefix="/api/v1/track",
    tags=["tracking"],
    responses=contract.problems("404", "413", "422", "429", "503"),
)


@router.get("/{tracking_code}", response_model=TrackingOut)
async def track(
    request: Request,
    sessions: Sessionmaker,
    tracking_code: Annotated[str, Path(min_length=4, max_length=32)],
    phone_last4: Annotated[
        str,
        Query(
            pattern=r"^[0-9]{4}$", description="last four digits of the phone given at registration"
        ),
    ],
) -> dict[str, Any]:
    settings = settings_of(request)
    limiter = ratelimit.Limiter(
        request.app.state.redis, settings.redis_timeout_seconds, settings.rate_limit_fail_open
    )
    code = codes.normalise_tracking_code(tracking_code)
    limit = settings.track_rate_limit_per_minute
    client = request.client.host if request.client else "unknown"
    await limiter.hit(f"track:ip:{client}", limit=limit)
    # A code guessed from many addresses is still limited: digits are only 10,000. Every
    # spelling of the code counts as the code.
    await limiter.hit(f"track:code:{code}", limit=limit)
    lockout = {"window_seconds": settings.track_lockout_seconds}
    await limiter.check_locked(
        f"track:fail:{code}", failures=settings.track_lockout_failures, **lockout
    )
    async with transaction(sessions) as session:
        found = await service.track(session, code, phone_last4)
    if found is None:
        # Counted for codes that exist and codes that do not alike: the lock says nothing.
        await limiter.fail(f"track:fail:{code}", **lockout)
        raise DomainError(
            detail="no case matches this tracking code and phone number",
            status=404,
            title="Not found",
            type="/problems/not-found",
        )
    return found
