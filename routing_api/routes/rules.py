"""The rule table: draft, publish, versions, and dry runs (explain, simulate)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from routing_api.deps import Calendar
from services.authz import May
from services.routing import service
from services.rules import responses, versions
from services.rules.schemas import CaseFacts, RuleTable
from shared.database import transaction
from shared.errors import conflict, invalid
from shared.principal import Principal
from web.auth import allowed
from web.deps import Now, Sessionmaker
from web.params import INT32_MAX

router = APIRouter(prefix="/api/v1", tags=["rules"])
Editor = Annotated[Principal, allowed(May.configure)]
Reader = Annotated[Principal, allowed(May.read_rules)]


@router.get("/rules", response_model=responses.RulesOut)
async def get_rules(_: Reader, sessions: Sessionmaker) -> responses.RulesOut:
    async with transaction(sessions) as session:
        draft = await versions.draft(session)
        number = await versions.latest_version(session)
        published = await versions.version(session, number) if number else None
    return responses.RulesOut(draft=draft, current_version=number, current=published)


@router.put("/rules", response_model=responses.DraftSaved)
async def put_draft(body: RuleTable, actor: Editor, sessions: Sessionmaker) -> responses.DraftSaved:
    """Save the draft; refused whole (422 naming the rule and field) if anything is wrong."""
    async with transaction(sessions) as session:
        await versions.save_draft(session, body, actor=actor)
    return responses.DraftSaved(draft=body, rules=len(body.rules))


@router.post("/rules/publish", status_code=201, response_model=responses.Published)
async def publish(actor: Editor, sessions: Sessionmaker) -> responses.Published:
    async with transaction(sessions) as session:
        number = await versions.publish(session, actor=actor)
    return responses.Published(version=number)


@router.get(
    "/rules/versions/{number}",
    response_model=responses.VersionOut,
)
async def get_version(
    number: Annotated[int, Path(ge=1, le=INT32_MAX)], _: Reader, sessions: Sessionmaker
) -> responses.VersionOut:
    async with transaction(sessions) as session:
        table = await versions.version(session, number)
    return responses.VersionOut(version=number, table=table)


class ExplainBody(CaseFacts):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channel": "window",
                    "title": "个人独资企业注销登记卡在税务",
                    "description": "注销登记办不了",
                    "district": "天河区",
                }
            ]
        },
        extra="forbid",
        frozen=True,
    )
    version: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None
    draft: bool = False


@router.post("/route/explain", response_model=responses.Explanation)
async def explain(
    body: ExplainBody, _: Reader, sessions: Sessionmaker, calendar: Calendar, now: Now
) -> responses.Explanation:
    """Dry run for a case body against the latest version, a given `version`, or the draft."""
    async with transaction(sessions) as session:
        if body.draft:
            table = await versions.draft(session)
            if table is None:
                raise conflict("there is no draft")
            label: Any = "draft"
        else:
            number = body.version or await versions.latest_version(session)
            if number is None:
                raise conflict("no rule table has been published yet")
            table, label = await versions.version(session, number), number
    facts = CaseFacts.model_validate(body.model_dump(exclude={"version", "draft"}))
    return service.explain(table, facts, calendar, now, label=label)


class SimulateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"limit": 1000}]})
    table: RuleTable | None = None
    limit: Annotated[int, Field(ge=1, le=50_000)] = 1000


@router.post("/route/simulate", response_model=responses.Simulation)
async def simulate(body: SimulateBody, _: Editor, sessions: Sessionmaker) -> responses.Simulation:
    """Replay a table (the body's, else the draft) over the newest stored cases."""
    async with transaction(sessions) as session:
        table = body.table or await versions.draft(session)
        if table is None:
            raise invalid("table", "give a table or save a draft first")
        await versions.check(session, table)
        return await service.simulate(session, table, limit=body.limit)
