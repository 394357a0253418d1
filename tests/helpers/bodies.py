"""Case bodies as the callers send them, and the sample departments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from services.department.schemas import DepartmentIn

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_departments() -> list[DepartmentIn]:
    import json

    return [
        DepartmentIn.model_validate(d)
        for d in json.loads((EXAMPLES / "departments.sample.json").read_text())
    ]


def case_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "window",
        "intake_department": "GZ-BDC",
        "district": "越秀区",
        "title": "房屋转移登记因违章注记无法办理",
        "description": (
            "香港居民黄女士继承父亲的房屋后拟转让,因历史原因房屋存在违章注记,转移登记无法办理。"
        ),
        "applicant": {"name": "黄丽华", "phone": "13800138001", "type": "individual"},
    }
    body.update(overrides)
    return body


def body_for(role: str, **overrides: Any) -> dict[str, Any]:
    """`case_body` as a key of `role` may send it: a channel's key registers its own channel's
    cases, and only the window side names the intake (first-responsible) department."""
    channel = {"portal": "portal", "hotline": "hotline"}.get(role)
    if channel is None:
        return case_body(**overrides)
    return case_body(**{"channel": channel, "intake_department": None, **overrides})


ESTATE = case_body(
    title="抵押登记注销拖延", description="抵押登记注销一直没办好", intake_department=None
)
"""A complaint the sample rule table routes to GZ-BDC (rule `estate`)."""


async def registered(intake: httpx.AsyncClient, headers: dict[str, str]) -> str:
    """The number of a new case (`case_body`) registered with `headers`."""
    r = await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    assert r.status_code in (200, 201), r.text
    return str(r.json()["case_no"])
