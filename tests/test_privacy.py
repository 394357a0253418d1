"""Personal data: masked for roles that do not need it, never in the logs."""

from __future__ import annotations

import io

import httpx
import pytest

from shared.logging import configure as configure_logging
from tests.conftest import KeyFactory, case_body

pytestmark = pytest.mark.usefixtures("sample_departments")

APPLICANT = {"name": "黄丽华", "phone": "13800138001", "id_number": "11010519491231002X"}


@pytest.mark.parametrize(
    ("role", "full"),
    [
        ("window", True),
        ("coordinator", True),
        ("portal", False),
        ("hotline", False),
        ("admin", False),
        ("supervisor", False),
    ],
)
async def test_masking_by_role(
    intake: httpx.AsyncClient, make_key: KeyFactory, role: str, full: bool
) -> None:
    headers = await make_key(role)
    if role == "supervisor":  # supervisors read what the window registered
        window = await make_key("window")
        case_no = (
            await intake.post("/api/v1/cases", json=case_body(applicant=APPLICANT), headers=window)
        ).json()["case_no"]
        applicant = (await intake.get(f"/api/v1/cases/{case_no}", headers=headers)).json()[
            "applicant"
        ]
    else:
        applicant = (
            await intake.post("/api/v1/cases", json=case_body(applicant=APPLICANT), headers=headers)
        ).json()["applicant"]
    if full:
        assert (applicant["name"], applicant["phone"], applicant["id_number"]) == (
            "黄丽华",
            "13800138001",
            "11010519491231002X",
        )
    else:
        assert (applicant["name"], applicant["phone"], applicant["id_number"]) == (
            "黄*华",
            "138****8001",
            "110***********002X",
        )


async def test_department_sees_full_data_of_its_case(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    window = await make_key("window")
    case_no = (
        await intake.post("/api/v1/cases", json=case_body(applicant=APPLICANT), headers=window)
    ).json()["case_no"]
    dept = await make_key("department", "GZ-BDC")
    assert (await intake.get(f"/api/v1/cases/{case_no}", headers=dept)).json()["applicant"][
        "phone"
    ] == "13800138001"


async def test_personal_data_never_reaches_the_logs(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    window = await make_key("window")
    body = case_body(applicant=APPLICANT)
    buffer = io.StringIO()
    configure_logging("DEBUG", stream=buffer)
    try:
        created = (await intake.post("/api/v1/cases", json=body, headers=window)).json()
        await intake.get(
            f"/api/v1/track/{created['tracking_code']}", params={"phone_last4": "8001"}
        )
        await intake.post(
            "/api/v1/cases",
            json=case_body(applicant={**APPLICANT, "phone": "13900000000x"}),
            headers=window,
        )
    finally:
        configure_logging("INFO")
    text = buffer.getvalue()
    assert '"route": "/api/v1/cases"' in text  # the requests were logged...
    for secret in ("黄丽华", "13800138001", "11010519491231002X", "13900000000x", "8001"):
        assert secret not in text  # ...but no personal data
