"""Cards over HTTP: who sees them, the monthly score, appeal and ruling (revoking restores)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sla.runner import run_sweep
from tests.helpers.bodies import ESTATE
from tests.helpers.cases import stored_case
from tests.helpers.keys import KeyFactory
from tests.helpers.rules import publish

pytestmark = pytest.mark.usefixtures("sample_departments")


async def test_cards_score_appeal_and_ruling(
    intake: httpx.AsyncClient,
    routing: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = await make_key("admin")
    await publish(routing, admin)
    window, bdc, swj = (
        await make_key("window"),
        await make_key("department", "GZ-BDC"),
        await make_key("department", "GZ-SWJ"),
    )
    supervisor = await make_key("supervisor")
    no = (await intake.post("/api/v1/cases", json=ESTATE, headers=window)).json()["case_no"]
    row = await stored_case(sessionmaker, no)
    assert row.sign_due_at is not None
    await run_sweep(sessionmaker, now=row.sign_due_at + timedelta(seconds=1))

    listed = (await routing.get("/api/v1/cards", headers=bdc)).json()["items"]
    assert [(c["case_no"], c["colour"], c["deadline"], c["points"]) for c in listed] == [
        (no, "yellow", "sign", 1)
    ]
    card = listed[0]
    assert (await routing.get("/api/v1/cards", headers=swj)).json()["items"] == []
    assert (
        await routing.get("/api/v1/cards", params={"department": "GZ-BDC"}, headers=swj)
    ).status_code == 403
    assert (await routing.get("/api/v1/cards", headers=window)).status_code == 403

    month = card["month"]
    params = {"department": "GZ-BDC", "month": month}
    score = (await routing.get("/api/v1/cards/score", params=params, headers=supervisor)).json()
    assert (score["score"], score["deducted"], score["yellow"]) == (99, 1, 1)
    bad = await routing.get(
        "/api/v1/cards/score",
        params={"department": "GZ-BDC", "month": "2026-13"},
        headers=supervisor,
    )
    assert bad.status_code == 422

    assert (
        await routing.post(f"/api/v1/cards/{card['id']}/appeal", json={"reason": "x"}, headers=swj)
    ).status_code == 403
    # A department may quote the applicant in its appeal; a card is read by every supervisor and
    # dashboard and goes into the monthly report, so the applicant is masked there for everyone.
    r = await routing.post(
        f"/api/v1/cards/{card['id']}/appeal",
        json={"reason": "系统故障导致无法签收,已电话13800138001告知黄丽华"},
        headers=bdc,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "appealed"
    assert r.json()["appeal_reason"] == "系统故障导致无法签收,已电话138****8001告知黄*华"
    again = await routing.post(
        f"/api/v1/cards/{card['id']}/appeal", json={"reason": "again"}, headers=bdc
    )
    assert again.status_code == 409
    assert (again.json()["status"], again.json()["card_status"]) == (409, "appealed")
    assert (
        await routing.post(
            f"/api/v1/cards/{card['id']}/decision", json={"uphold": False}, headers=bdc
        )
    ).status_code == 403
    r = await routing.post(
        f"/api/v1/cards/{card['id']}/decision",
        json={"uphold": False, "note": "核实系统故障,黄丽华(11010519491231002X)未受影响"},
        headers=supervisor,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "revoked"
    assert r.json()["decision_note"] == "核实系统故障,黄*华(110***********002X)未受影响"
    for reader in (bdc, supervisor):
        (listed,) = (await routing.get("/api/v1/cards", headers=reader)).json()["items"]
        assert (listed["appeal_reason"], listed["decision_note"]) == (
            r.json()["appeal_reason"],
            r.json()["decision_note"],
        )
    report = await routing.get(
        "/api/v1/reports/monthly", params={"month": month}, headers=supervisor
    )
    (appealed,) = report.json()["appeals"]
    assert (appealed["case_no"], appealed["appeal_reason"]) == (no, r.json()["appeal_reason"])
    for secret in ("黄丽华", "13800138001", "11010519491231002X"):
        assert secret not in report.text
    score = (await routing.get("/api/v1/cards/score", params=params, headers=supervisor)).json()
    assert (score["score"], score["deducted"]) == (100, 0)  # revoking gave the point back
    history = (await intake.get(f"/api/v1/cases/{no}", headers=window)).json()["history"]
    assert [e["action"] for e in history][-3:] == ["yellow_card", "card_appealed", "card_revoked"]
