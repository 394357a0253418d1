"""Separation of duties (issue 16): configuration (the rule table, departments, the calendar, the
notice templates) by admins only; appeals ruled by supervisors only."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.keys import KeyFactory

CONFIGURING: list[tuple[str, str, dict[str, object] | None]] = [
    ("PUT", "/api/v1/rules", {}),
    ("POST", "/api/v1/rules/publish", None),
    ("POST", "/api/v1/route/simulate", {}),
    ("POST", "/api/v1/departments", {}),
    ("PUT", "/api/v1/departments/GZ-BDC", {}),
    ("DELETE", "/api/v1/departments/GZ-NONE", None),
    ("PUT", "/api/v1/calendar/2027", {}),
    ("PUT", "/api/v1/notice-templates/closed", {}),
    ("POST", "/api/v1/notice-templates/closed/preview", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), CONFIGURING)
async def test_only_admins_configure(
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    method: str,
    path: str,
    body: dict[str, object] | None,
) -> None:
    for role in ("supervisor", "coordinator", "dashboard", "window"):
        r = await routing.request(method, path, json=body, headers=await make_key(role))
        assert r.status_code == 403, (role, r.text)
    r = await routing.request(method, path, json=body, headers=await make_key("admin"))
    assert r.status_code not in (401, 403), r.text


async def test_only_supervisors_rule_on_appeals(
    routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    decision = {"uphold": True, "note": "维持"}
    r = await routing.post(
        "/api/v1/cards/999999/decision", json=decision, headers=await make_key("admin")
    )
    assert r.status_code == 403  # whoever configures the rules does not judge their cards
    r = await routing.post(
        "/api/v1/cards/999999/decision", json=decision, headers=await make_key("supervisor")
    )
    assert r.status_code == 404  # allowed; there is no such card
