"""The monthly report, as JSON or as an Excel workbook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services import authz
from services.authz import May
from services.reports import monthly
from services.reports.responses import MonthlyReport
from shared import audit
from shared.database import transaction
from shared.principal import Principal
from web.auth import allowed
from web.deps import Now, ReadSessionmaker
from web.params import Month

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


async def city_reader(principal: Annotated[Principal, allowed(May.read_reports)]) -> Principal:
    authz.require_whole_city(principal, "the monthly report")
    return principal


Reader = Annotated[Principal, Depends(city_reader)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/monthly",
    response_model=MonthlyReport,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def monthly_report(
    _: Reader,
    sessions: ReadSessionmaker,
    month: Month,
    now: Now,
    format: Annotated[str, Query(pattern="^(json|xlsx)$")] = "json",
) -> Response | MonthlyReport:
    async with transaction(sessions) as session:
        report = await monthly.build(session, month, now=now)
    # Written on the primary by the web edge before the first byte (the figures may come
    # from a replica, which takes no writes).
    audit.exported(f"monthly report {month} {format}")
    if format == "xlsx":
        return Response(
            monthly.to_xlsx(report),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="gaodedim-{month}.xlsx"'},
        )
    return report
