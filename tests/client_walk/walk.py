"""What a portal integrator writes against a client generated from docs/openapi/intake.json:
tests/test_generated_client.py type-checks this file with mypy --strict against the generated
package and runs it against the served app. Every value below is typed by the document alone."""

from __future__ import annotations

from gaodedim_intake import AuthenticatedClient, Client
from gaodedim_intake.api.cases import get_case, register_case
from gaodedim_intake.api.tracking import track
from gaodedim_intake.models import (
    Applicant,
    ApplicantType,
    CaseCreate,
    CaseOut,
    Channel,
    Problem,
    TrackingOut,
)


async def walk(base_url: str, key: str) -> tuple[CaseOut, TrackingOut, Problem]:
    staff = AuthenticatedClient(base_url=base_url, token=key)
    citizen = Client(base_url=base_url)
    body = CaseCreate(
        channel=Channel.WINDOW,
        description="房屋存在违章注记,转移登记无法办理。",
        title="房屋转移登记因违章注记无法办理",
        district="越秀区",
        applicant=Applicant(name="黄丽华", phone="13800138001", type_=ApplicantType.INDIVIDUAL),
    )
    async with staff, citizen:
        created = await register_case.asyncio(client=staff, body=body, idempotency_key="walk-1")
        assert isinstance(created, CaseOut), created
        read = await get_case.asyncio(created.case_no, client=staff)
        assert isinstance(read, CaseOut), read
        seen = await track.asyncio(created.tracking_code, client=citizen, phone_last4="8001")
        assert isinstance(seen, TrackingOut), seen
        missing = await track.asyncio(created.tracking_code, client=citizen, phone_last4="0000")
        assert isinstance(missing, Problem), missing
    return read, seen, missing
