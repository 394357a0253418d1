"""Intake: register a case, read it, list, resolve on the spot, refer out of scope, feedback."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.authz import May
from services.case import access, assists, presenter, repository, service, similar
from services.case.repository import CaseFilter
from services.case.responses import CaseOut, LinkedOut
from services.case.schemas import CaseCreate, Feedback, OutOfScope, ResolveOnSpot, Unmask
from services.escalation import service as escalation
from services.supervision import service as supervision
from shared.database import transaction
from shared.durations import parse_duration
from shared.enums import CaseStatus, Channel, Kind, Level, Role, Trigger
from shared.errors import invalid
from shared.principal import Principal
from shared.timeutil import SHANGHAI, year_problem
from shared.view import Page
from web import cases as edge
from web import idempotent
from web.auth import CurrentPrincipal, allowed
from web.cases import act_on_case
from web.deps import Now, Sessionmaker, settings_of
from web.params import Cursor
from web.registration import register

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

CaseNo = Annotated[str, Path(max_length=40, description="e.g. GZ-20261122-000123")]
AtWindow = Annotated[Principal, allowed(May.act_at_window)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


@router.post(
    "",
    status_code=201,
    response_model=CaseOut,
    responses={
        201: {"model": CaseOut, "description": "stored (and routed, when routing answered)"},
        200: {"model": CaseOut | LinkedOut, "description": "a repeat (重复件), or a replay"},
    },
)
async def register_case(
    request: Request,
    body: CaseCreate,
    principal: Annotated[Principal, allowed(May.register)],
    sessions: Sessionmaker,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Store the complaint first; routing happens after, from the outbox, so none is lost."""
    settings = settings_of(request)
    registration = await register(
        request,
        sessions,
        lambda session: _store(session, request, body, principal, now, idempotency_key),
        to_route=_to_route,
        idempotency_record=lambda outcome: outcome.record_id,
    )
    outcome = registration.stored
    case_no = outcome.body["case_no"]
    if idempotency_key is not None and outcome.replayed:

        async def current(session: AsyncSession) -> tuple[bool, Any]:
            case = await service.get_visible(session, case_no, actor=principal)
            return case.status != CaseStatus.registered, _answer(
                presenter.case_out(case, principal), repeat=False
            )

        if outcome.settled:  # the stored answer itself goes out again
            presenter.replayed(outcome.body)
        outcome = await idempotent.replay(
            sessions,
            outcome,
            principal=principal,
            key=idempotency_key,
            wait_seconds=settings.routing_timeout_seconds + 2,
            current=current,
        )
    if registration.routed is not None:
        # Routing's answer is the case as it now stands: shown to this caller, no re-read, and
        # nothing more to write (a replay reads the routed case itself).
        shown = presenter.seen_by(registration.routed, principal, registered_by_viewer=True)
        outcome = replace(outcome, body=_answer(shown, repeat=False))
    return idempotent.response(outcome, {"Location": f"{request.url.path}/{case_no}"})


async def _store(
    session: AsyncSession,
    request: Request,
    body: CaseCreate,
    principal: Principal,
    now: datetime,
    idempotency_key: str | None,
) -> idempotent.Outcome:
    """Intake's one transaction: the idempotency record, the case (or the repeat it joins),
    its first event and its routing message."""
    settings = settings_of(request)

    async def create() -> tuple[int, Any]:
        case, repeat = await service.register_or_link(
            session,
            body,
            actor=principal,
            now=now,
            numbers=request.app.state.case_numbers,
            repeats=service.RepeatPolicy.of(settings.repeat_window, settings.repeat_similarity),
            hold_for=parse_duration(settings.window_hold).natural(),
        )
        if repeat and not access.can_read(principal, case):
            return 200, presenter.linked_out(case).body()
        return (200 if repeat else 201), _answer(presenter.case_out(case, principal), repeat=repeat)

    return await idempotent.run(
        session,
        principal=principal,
        key=idempotency_key,
        method="POST",
        path=request.url.path,
        body=body.model_dump(mode="json"),
        create=create,
        unsettled=_routed_at_once,
    )


def _to_route(outcome: idempotent.Outcome) -> str | None:
    """A new case not held at the window is routed at once; a replay or a repeat is not."""
    if outcome.replayed or not _routed_at_once(outcome.status, outcome.body):
        return None
    return str(outcome.body["case_no"])


def _answer(out: CaseOut, *, repeat: bool) -> dict[str, Any]:
    """The registration's answer, as its idempotency record stores it for replays."""
    out.repeat = repeat
    return out.body()


def _routed_at_once(status: int, body: Any) -> bool:
    """A new case routed right after the commit: its answer then names the department."""
    return status == 201 and not body.get("held_until")


def _moment(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    """A date (a whole Shanghai day; `end` makes it inclusive) or an RFC 3339 date-time; a time
    without an offset is read as Shanghai time, the time people at the window think in."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.min, SHANGHAI)
        else:
            parsed = datetime.fromisoformat(value)
            moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
    except ValueError as exc:
        raise invalid(field, "expected YYYY-MM-DD or an RFC 3339 date-time") from exc
    problem = year_problem(moment)
    if problem:
        raise invalid(field, problem)
    return moment + timedelta(days=1) if end and len(value) == 10 else moment


def _statuses(values: list[str] | None) -> list[CaseStatus] | None:
    if not values:
        return None
    names = [v.strip() for value in values for v in value.split(",") if v.strip()]
    try:
        return [CaseStatus(n) for n in names]
    except ValueError as exc:
        allowed = ", ".join(s.value for s in CaseStatus)
        raise invalid("status", f"unknown status; one of {allowed}") from exc


FOLLOW_UP = frozenset({Role.supervisor, Role.coordinator})
"""Who reads, in a list, which department key handled each case (能办不办 follow-up)."""


@router.get("", response_model=Page[CaseOut], response_model_exclude_unset=True)
async def list_cases(
    principal: CurrentPrincipal,
    sessions: Sessionmaker,
    now: Now,
    status: Annotated[list[str] | None, Query(description="repeat or comma-separate")] = None,
    department: Annotated[str | None, Query(max_length=32)] = None,
    channel: Channel | None = None,
    overdue: bool | None = None,
    kind: Kind | None = None,
    trigger: Trigger | None = None,
    escalated: Annotated[bool | None, Query(description="提级: raised (true) or not")] = None,
    level: Annotated[Level | None, Query(description="raised to this level")] = None,
    created_from: Annotated[str | None, Query(description="YYYY-MM-DD or RFC 3339")] = None,
    created_to: Annotated[
        str | None, Query(description="YYYY-MM-DD (inclusive) or RFC 3339")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> Page[CaseOut]:
    flt = CaseFilter(
        statuses=_statuses(status),
        department=department,
        channel=channel.value if channel else None,
        overdue=overdue,
        kind=kind.value if kind else None,
        trigger=trigger.value if trigger else None,
        escalated=escalated,
        level=level,
        created_from=_moment(created_from, "created_from"),
        created_to=_moment(created_to, "created_to", end=True),
    )
    async with transaction(sessions) as session:
        rows, next_cursor = await service.list_visible(
            session, flt, actor=principal, now=now, limit=limit, cursor=cursor
        )
        items = [presenter.case_out(c, principal) for c in rows]
        if principal.role in FOLLOW_UP:
            handlers = await repository.signers(session, [c.id for c in rows])
            for item, case in zip(items, rows, strict=True):
                item.handled_by = handlers.get(case.id)
    return Page[CaseOut](items=items, next_cursor=next_cursor, limit=limit)


@router.get("/{case_no}/similar", response_model=Page[CaseOut], response_model_exclude_unset=True)
async def similar_cases(
    case_no: CaseNo,
    principal: Annotated[Principal, allowed(May.find_similar)],
    sessions: Sessionmaker,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> Page[CaseOut]:
    """Open cases in the same district and category sharing its keywords, most first: the
    candidates for 并单, each masked as the reader may see it."""
    async with transaction(sessions) as session:
        rows = await similar.similar(session, case_no, actor=principal, limit=limit)
        items = [presenter.case_out(c, principal) for c in rows]
    return Page[CaseOut](items=items, next_cursor=None, limit=limit)


@router.get("/{case_no}", response_model=CaseOut, response_model_exclude_unset=True)
async def get_case(case_no: CaseNo, principal: CurrentPrincipal, sessions: Sessionmaker) -> CaseOut:
    async with transaction(sessions) as session:
        case = await service.get_visible(session, case_no, actor=principal)
        events = await service.history_of(session, case)
        notices = await service.notices_of(session, case)
        replies = await service.replies_of(session, case, actor=principal)
        orders = await supervision.of_case(session, case, principal)
        raised = await escalation.of_case(session, case)
        tasks = await assists.of_case(session, case, principal)
        return presenter.case_out(
            case,
            principal,
            events,
            notices,
            replies,
            supervisions=orders,
            escalations=raised,
            assists=tasks,
        )


@router.post("/{case_no}/unmask", response_model=CaseOut, response_model_exclude_unset=True)
async def unmask(
    case_no: CaseNo,
    body: Unmask,
    principal: Annotated[Principal, allowed(May.unmask)],
    sessions: Sessionmaker,
) -> CaseOut:
    """The case as get_case shows it, with the applicant in clear; the reason is kept on the
    audit row this answer writes."""
    async with transaction(sessions) as session:
        case = await service.unmask(session, case_no, body.reason, actor=principal)
        events = await service.history_of(session, case)
        return presenter.case_out(case, principal, events, unmasked=True)


@router.post(
    "/{case_no}/resolve-on-spot", response_model=CaseOut, response_model_exclude_unset=True
)
async def resolve_on_spot(
    case_no: CaseNo,
    body: ResolveOnSpot,
    principal: AtWindow,
    sessions: Sessionmaker,
    now: Now,
) -> CaseOut:
    return await act_on_case(sessions, service.resolve_on_spot, case_no, body, principal, now)


@router.post("/{case_no}/hand-over", response_model=CaseOut, response_model_exclude_unset=True)
async def hand_over(
    request: Request, case_no: CaseNo, principal: AtWindow, sessions: Sessionmaker, now: Now
) -> CaseOut:
    """A held case goes to routing now; the answer already names its department when routing
    is reachable, as at registration."""
    async with transaction(sessions) as session:
        await service.hand_over(session, case_no, actor=principal, now=now)
    routed = await edge.route_now(request, case_no)
    if routed is not None:
        return presenter.seen_by(routed, principal)
    return await _fresh(sessions, case_no, principal)


async def _fresh(sessions: Sessionmaker, case_no: str, principal: Principal) -> CaseOut:
    """The case as it stands after a hand-over that routing could not answer at once."""
    async with transaction(sessions) as session:
        case = await service.get_visible(session, case_no, actor=principal)
        return presenter.case_out(case, principal)


@router.post("/{case_no}/out-of-scope", response_model=CaseOut, response_model_exclude_unset=True)
async def out_of_scope(
    case_no: CaseNo, body: OutOfScope, principal: AtWindow, sessions: Sessionmaker, now: Now
) -> CaseOut:
    return await act_on_case(sessions, service.refer_out_of_scope, case_no, body, principal, now)


@router.post("/{case_no}/feedback", response_model=CaseOut, response_model_exclude_unset=True)
async def feedback(
    case_no: CaseNo,
    body: Feedback,
    principal: Annotated[Principal, allowed(May.give_feedback)],
    sessions: Sessionmaker,
    now: Now,
) -> CaseOut:
    return await act_on_case(sessions, service.give_feedback, case_no, body, principal, now)
