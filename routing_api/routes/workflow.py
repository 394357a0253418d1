"""Routing a case and the department and coordinator actions on it."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Request

from routing_api.deps import Calendar, Policy
from services.authz import May
from services.case import merging, presenter, rating_review, review, workflow
from services.case import workflow_schemas as asked
from services.case.responses import (
    CaseOut,
    ExtensionDecided,
    ExtensionOut,
    GroupMemberOut,
    MergeOut,
    Routed,
    RoutedGroup,
)
from services.routing import service as routing
from shared.database import transaction
from shared.models import Case
from shared.principal import Principal
from web.auth import allowed
from web.cases import act_on_case
from web.deps import Now, Sessionmaker, settings_of
from web.params import RowId

router = APIRouter(prefix="/api/v1", tags=["workflow"])
log = structlog.get_logger("gaodedim.routing")
CaseNo = Annotated[str, Path(max_length=40)]
Department = Annotated[Principal, allowed(May.handle_cases)]
Coordinator = Annotated[Principal, allowed(May.coordinate)]
Reviewer = Annotated[Principal, allowed(May.review_replies)]
RatingReviewer = Annotated[Principal, allowed(May.review_ratings)]
LeadOrCoordinator = Annotated[Principal, allowed(May.handle_cases, May.coordinate)]
"""The roles that may ever call the route; the service decides per case (which department
leads it)."""
Router = Annotated[Principal, allowed(May.route)]


@router.post("/cases/{case_no}/route", response_model=Routed, response_model_exclude_unset=True)
async def route(
    request: Request,
    case_no: CaseNo,
    actor: Router,
    sessions: Sessionmaker,
    calendar: Calendar,
    now: Now,
) -> Routed:
    """Route a registered case with the latest table. Safe to repeat: a routed case is returned
    unchanged with `routed: false`, so a retried hand-over never routes twice."""
    async with transaction(sessions) as session:
        case, routed = await routing.route_case(
            session,
            case_no,
            actor=actor,
            now=now,
            calendar=calendar,
            table_max_age=settings_of(request).config_cache_seconds,
        )
    return _routed(case, actor, routed)


def _routed(case: Case, actor: Principal, routed: bool) -> Routed:
    """Routing's answer for one case, alone or in a group."""
    out = presenter.case_out(case, actor)
    # Built from the case's answer as it stands (every intake registration comes this way):
    # already checked, so not validated twice.
    return Routed.model_construct(out.model_fields_set | {"routed"}, **dict(out), routed=routed)


@router.post("/cases/route", response_model=RoutedGroup)
async def route_group(
    request: Request,
    body: asked.RouteGroup,
    actor: Router,
    sessions: Sessionmaker,
    calendar: Calendar,
    now: Now,
) -> RoutedGroup:
    """Route the cases intake stored at about the same time, in one transaction (issue 32).
    Each case is answered on its own: routed, routed already (`routed: false`), or not routed
    now with the reason (it stays registered; its outbox message routes it later). 409 when no
    rule table is published (none is routed)."""
    async with transaction(sessions) as session:
        outcomes = await routing.route_group(
            session,
            [member.case_no for member in body.cases],
            actor=actor,
            now=now,
            calendar=calendar,
            table_max_age=settings_of(request).config_cache_seconds,
        )
    asked_by = {member.case_no: member.request_id for member in body.cases}
    items = []
    for outcome in outcomes:
        # Each registration's own request id on routing's line for its case (one id across
        # intake, routing and the worker, also when its hand-over shared a call).
        log.info(
            "handed_over_in_group",
            case_no=outcome.case_no,
            registration_request_id=asked_by.get(outcome.case_no),
            routed=outcome.routed,
            error=outcome.error,
        )
        case = None if outcome.case is None else _routed(outcome.case, actor, outcome.routed)
        items.append(GroupMemberOut(case_no=outcome.case_no, case=case, error=outcome.error))
    return RoutedGroup(items=items)


@router.post("/cases/{case_no}/sign", response_model=CaseOut, response_model_exclude_unset=True)
async def sign(
    case_no: CaseNo, body: asked.Sign, actor: Department, sessions: Sessionmaker, now: Now
) -> CaseOut:
    return await act_on_case(sessions, workflow.sign, case_no, body, actor, now)


@router.post("/cases/{case_no}/return", response_model=CaseOut, response_model_exclude_unset=True)
async def return_case(
    case_no: CaseNo,
    body: asked.Return,
    actor: Department,
    sessions: Sessionmaker,
    policy: Policy,
    now: Now,
) -> CaseOut:
    return await act_on_case(
        sessions, partial(workflow.return_case, policy=policy), case_no, body, actor, now
    )


@router.post("/cases/{case_no}/transfer", response_model=CaseOut, response_model_exclude_unset=True)
async def transfer(
    case_no: CaseNo,
    body: asked.Transfer,
    actor: LeadOrCoordinator,
    sessions: Sessionmaker,
    calendar: Calendar,
    now: Now,
) -> CaseOut:
    return await act_on_case(
        sessions, partial(workflow.transfer, calendar=calendar), case_no, body, actor, now
    )


@router.post("/cases/{case_no}/suspend", response_model=CaseOut, response_model_exclude_unset=True)
async def suspend(
    case_no: CaseNo, body: asked.Suspend, actor: Department, sessions: Sessionmaker, now: Now
) -> CaseOut:
    return await act_on_case(sessions, workflow.suspend, case_no, body, actor, now)


@router.post("/cases/{case_no}/resume", response_model=CaseOut, response_model_exclude_unset=True)
async def resume(
    case_no: CaseNo,
    body: asked.Resume,
    actor: Department,
    sessions: Sessionmaker,
    calendar: Calendar,
    now: Now,
) -> CaseOut:
    return await act_on_case(
        sessions, partial(workflow.resume, calendar=calendar), case_no, body, actor, now
    )


@router.post("/cases/{case_no}/reply", response_model=CaseOut, response_model_exclude_unset=True)
async def reply(
    case_no: CaseNo, body: asked.Reply, actor: Department, sessions: Sessionmaker, now: Now
) -> CaseOut:
    return await act_on_case(sessions, workflow.reply, case_no, body, actor, now)


@router.post(
    "/cases/{case_no}/reply/approve", response_model=CaseOut, response_model_exclude_unset=True
)
async def approve_reply(
    case_no: CaseNo, body: asked.ApproveReply, actor: Reviewer, sessions: Sessionmaker, now: Now
) -> CaseOut:
    """答复审核: the reply goes to the citizen (`replied`)."""
    return await act_on_case(sessions, review.approve, case_no, body, actor, now)


@router.post(
    "/cases/{case_no}/reply/send-back", response_model=CaseOut, response_model_exclude_unset=True
)
async def send_back_reply(
    case_no: CaseNo, body: asked.SendBack, actor: Reviewer, sessions: Sessionmaker, now: Now
) -> CaseOut:
    """答复审核: back to the lead with the reason (`signed`); its deadline keeps running."""
    return await act_on_case(sessions, review.send_back, case_no, body, actor, now)


@router.post("/cases/{case_no}/merge", response_model=MergeOut)
async def merge_cases(
    case_no: CaseNo, body: asked.Merge, actor: Coordinator, sessions: Sessionmaker, now: Now
) -> MergeOut:
    """并单: the cases follow this one (its department, its clock, its reply)."""
    async with transaction(sessions) as session:
        lead, members = await merging.merge(session, case_no, body, actor=actor, now=now)
        return MergeOut(
            lead=presenter.case_out(lead, actor),
            cases=[presenter.case_out(m, actor) for m in members],
        )


@router.post("/cases/{case_no}/unmerge", response_model=MergeOut)
async def unmerge_cases(
    case_no: CaseNo,
    body: asked.Unmerge,
    actor: Coordinator,
    sessions: Sessionmaker,
    calendar: Calendar,
    now: Now,
) -> MergeOut:
    """Out of the group before its reply: each a new assignment to the department."""
    async with transaction(sessions) as session:
        lead, members = await merging.unmerge(
            session, case_no, body, actor=actor, now=now, calendar=calendar
        )
        return MergeOut(
            lead=presenter.case_out(lead, actor),
            cases=[presenter.case_out(m, actor) for m in members],
        )


@router.post(
    "/cases/{case_no}/rating-review", response_model=CaseOut, response_model_exclude_unset=True
)
async def decide_rating_review(
    case_no: CaseNo,
    body: asked.RatingReviewDecision,
    actor: RatingReviewer,
    sessions: Sessionmaker,
    now: Now,
) -> CaseOut:
    """不满意甄别: `reopen` (重办, a new handling deadline) or `uphold` (the answer stands, the
    case closes, the applicant is told why). Only while the case is `rating_review`: 409 after."""
    return await act_on_case(sessions, rating_review.decide, case_no, body, actor, now)


@router.post("/cases/{case_no}/assign", response_model=CaseOut, response_model_exclude_unset=True)
async def assign(
    case_no: CaseNo,
    body: asked.Assign,
    actor: Coordinator,
    sessions: Sessionmaker,
    policy: Policy,
    now: Now,
) -> CaseOut:
    return await act_on_case(
        sessions, partial(workflow.assign, policy=policy), case_no, body, actor, now
    )


@router.post("/cases/{case_no}/extensions", status_code=201, response_model=ExtensionOut)
async def request_extension(
    case_no: CaseNo,
    body: asked.ExtensionRequest,
    actor: Department,
    sessions: Sessionmaker,
    now: Now,
) -> ExtensionOut:
    async with transaction(sessions) as session:
        ext, case = await workflow.request_extension(session, case_no, body, actor=actor, now=now)
    return presenter.extension_out(ext, case, actor)


@router.post(
    "/extensions/{extension_id}/decision",
    response_model=ExtensionDecided,
    response_model_exclude_unset=True,
)
async def decide_extension(
    extension_id: RowId,
    body: asked.ExtensionDecision,
    actor: Coordinator,
    sessions: Sessionmaker,
    calendar: Calendar,
    now: Now,
) -> ExtensionDecided:
    async with transaction(sessions) as session:
        ext, case = await workflow.decide_extension(
            session, extension_id, body, actor=actor, now=now, calendar=calendar
        )
    return ExtensionDecided(
        extension=presenter.extension_out(ext, case, actor), case=presenter.case_out(case, actor)
    )
