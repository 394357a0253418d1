"""The citizen's own look-up: no key, minimal data, the same 404 for every kind of miss."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case import codes, service
from services.case.responses import TrackingOut
from services.case.schemas import NoticeChoice
from shared.database import transaction
from shared.errors import DomainError
from web import contract, ratelimit
from web.deps import Sessionmaker, settings_of

router = APIRouter(
    prefix="/api/v1/track",
    tags=["tracking"],
    responses=contract.problems("404", "413", "422", "429", "503"),
)


TrackingCode = Annotated[str, Path(min_length=4, max_length=32)]


@router.get("/{tracking_code}", response_model=TrackingOut)
async def track(
    request: Request,
    sessions: Sessionmaker,
    tracking_code: TrackingCode,
    phone_last4: Annotated[
        str,
        Query(
            pattern=r"^[0-9]{4}$", description="last four digits of the phone given at registration"
        ),
    ],
) -> TrackingOut:
    async def look_up(session: AsyncSession, code: str) -> TrackingOut | None:
        return await service.track(session, code, phone_last4)

    return await _proven(request, sessions, tracking_code, look_up)


@router.put(
    "/{tracking_code}/notices", response_model=TrackingOut, responses=contract.problems("400")
)
async def choose_notices(
    request: Request, sessions: Sessionmaker, tracking_code: TrackingCode, choice: NoticeChoice
) -> TrackingOut:
    """Guarded as the look-up is (the same limits, lock-out and 404): it proves the same."""

    async def choose(session: AsyncSession, code: str) -> TrackingOut | None:
        return await service.choose_notices(
            session, code, choice.phone_last4, wanted=choice.notices
        )

    return await _proven(request, sessions, tracking_code, choose)


def _bucket(code: str, secret: str | None) -> str:
    """The code's name in Redis: an HMAC under the service key every intake process shares
    (a plain hash of 31⁸ codes could be reversed by trying them all)."""
    key = (secret or "gaodedim-track").encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()[:32]


async def _proven(
    request: Request,
    sessions: async_sessionmaker[AsyncSession],
    tracking_code: str,
    act: Callable[[AsyncSession, str], Awaitable[TrackingOut | None]],
) -> TrackingOut:
    """Rate limits per address and per code, the lock-out after wrong digits, and one 404 for
    every kind of miss, around what the code and digits prove (`act`, None on a miss)."""
    settings = settings_of(request)
    limiter = ratelimit.Limiter(
        request.app.state.redis, settings.redis_timeout_seconds, settings.rate_limit_fail_open
    )
    code = codes.normalise_tracking_code(tracking_code)
    limit = settings.track_rate_limit_per_minute
    client = request.client.host if request.client else "unknown"
    await limiter.hit(f"track:ip:{client}", limit=limit)
    # A code guessed from many addresses is still limited: digits are only 10,000. Every
    # spelling of the code counts as the code; Redis keeps only a keyed hash of it (issue 26
    # #10: whoever reads Redis or its files learns no code).
    bucket = _bucket(code, settings.service_key)
    await limiter.hit(f"track:code:{bucket}", limit=limit)
    # Wrong digits lock the code for the address that tried (an hour) and, when they come from
    # many, for everyone for minutes: nobody can lock the citizen out of their own case.
    here = {"window_seconds": settings.track_lockout_seconds}
    everywhere = {"window_seconds": settings.track_code_lockout_seconds}
    await limiter.check_locked(
        f"track:fail:{bucket}:{client}", failures=settings.track_lockout_failures, **here
    )
    await limiter.check_locked(
        f"track:fail:{bucket}", failures=settings.track_code_lockout_failures, **everywhere
    )
    async with transaction(sessions) as session:
        found = await act(session, code)
    if found is None:
        # Counted for codes that exist and codes that do not alike: the lock says nothing.
        await limiter.fail(f"track:fail:{bucket}:{client}", **here)
        await limiter.fail(f"track:fail:{bucket}", **everywhere)
        raise DomainError(
            detail="no case matches this tracking code and phone number",
            status=404,
            title="Not found",
            type="/problems/not-found",
        )
    return found
