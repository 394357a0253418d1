"""The monthly report, as JSON or as an Excel workbook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.authz import May
from services.reports import monthly
from services.reports.responses import MonthlyReport
from services.stats import service as stats
from shared import audit
from shared.database import transaction
from shared.principal import Principal
from web.auth import allowed
from web.deps import Now, ReadSessionmaker
from web.params import Month

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


Reader = Annotated[Principal, allowed(May.read_reports)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/monthly",
    response_model=MonthlyReport,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def monthly_report(
    reader: Reader,
    sessions: ReadSessionmaker,
    month: Month,
    now: Now,
    format: Annotated[str, Query(pattern="^(json|xlsx)$")] = "json",
    unit: Annotated[
        str | None,
        Query(
            max_length=32,
            description="层级: a unit's report (its subtree's cases and cards); a key bound to "
            "a unit gets its own",
        ),
    ] = None,
) -> Response | MonthlyReport:
    async with transaction(sessions) as session:
        units = await stats.units_for(session, reader, unit)
        report = await monthly.build(session, month, now=now, units=units)
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
