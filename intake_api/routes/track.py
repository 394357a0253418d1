"""The citizen's own look-up: no key, minimal data, the same 404 for every kind of miss."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from services.case import service
from shared import ratelimit
from shared.app import Sessionmaker, settings_of
from shared.database import transaction
from shared.errors import DomainError

router = APIRouter(prefix="/api/v1/track", tags=["tracking"])


@router.get("/{tracking_code}", response_model=None)
async def track(
    request: Request,
    sm: Sessionmaker,
    tracking_code: Annotated[str, Path(min_length=4, max_length=32)],
    phone_last4: Annotated[
        str,
        Query(
            pattern=r"^[0-9]{4}$", description="last four digits of the phone given at registration"
        ),
    ],
) -> dict[str, Any]:
    limit = settings_of(request).track_rate_limit_per_minute
    redis = request.app.state.redis
    if redis is not None:
        client = request.client.host if request.client else "unknown"
        await ratelimit.hit(redis, f"track:ip:{client}", limit=limit)
        # A code guessed from many addresses is still limited: digits are only 10,000.
        await ratelimit.hit(redis, f"track:code:{tracking_code.upper()}", limit=limit)
    async with transaction(sm) as session:
        found = await service.track(session, tracking_code, phone_last4)
    if found is None:
        raise DomainError(
            detail="no case matches this tracking code and phone number",
            status=404,
            title="Not found",
            type="/problems/not-found",
        )
    return found
