"""Each intake call's success path, and the life-cycle moves the window makes."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.case import codes
from shared.models import Case, IdempotencyRecord
from tests.helpers.bodies import body_for, case_body, registered
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")

CASE_NO = re.compile(r"^GZ-\d{8}-\d{6}$")


async def test_register_with_every_field_returns_the_contract_shape(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    headers = await make_key("window")
    body = case_body(
        category="policy",
        trigger="not_told_once",
        kind="hard",
        matter_code="BDC.ZYDJ-01",
        urgent=False,
        vulnerable=True,
        applicant={
            "name": "鲁晓敏",
            "phone": "13700137003",
            "id_number": "11010519491231002X",
            "type": "enterprise",
            "org_name": "中山市三乡某贸易有限公司",
        },
        attachments=["https://files.example.gov.cn/a.pdf"],
        location={"lat": 23.129, "long": 113.264, "address": "海珠中路"},
    )
    r = await intake.post("/api/v1/cases", json=body, headers=headers)
    assert r.status_code == 201, r.text
    case = r.json()
    assert CASE_NO.match(case["case_no"])
    assert r.headers["location"] == f"/api/v1/cases/{case['case_no']}"
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{8}", case["tracking_code"])
    assert case["status"] == "registered"
    assert case["channel"] == "window"
    assert case["first_responsible_department"] == "GZ-BDC"
    assert case["lead_department"] is None
    assert case["co_departments"] == []
    assert case["routing"] is None
    assert case["deadlines"] == {"sign_due_at": None, "handle_due_at": None}
    card = case["tracking_card"]
    assert card["code"] == case["tracking_code"]
    assert card["handler_contact"] == "020-83190000"
    assert "广州市不动产登记中心" in card["next_window"]
    assert card["required_materials"] == []
    assert case["created_at"].endswith("+08:00")
    assert case["location"] == {"lat": 23.129, "long": 113.264, "address": "海珠中路"}
    assert case["applicant"]["org_name"] == "中山市三乡某贸易有限公司"
    assert case["attachments"] == ["https://files.example.gov.cn/a.pdf"]


async def test_case_numbers_count_up_within_a_day(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    headers = await make_key("portal")
    numbers = [
        (await intake.post("/api/v1/cases", json=body_for("portal"), headers=headers)).json()[
            "case_no"
        ]
        for _ in range(3)
    ]
    tails = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert tails == [tails[0], tails[0] + 1, tails[0] + 2]
    assert len({n.split("-")[1] for n in numbers}) == 1


async def test_get_case_shows_history(intake: httpx.AsyncClient, make_key: KeyFactory) -> None:
    headers = await make_key("window")
    case_no = await registered(intake, headers)
    r = await intake.get(f"/api/v1/cases/{case_no}", headers=headers)
    assert r.status_code == 200
    history = r.json()["history"]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in history] == [
        ("register", None, "registered")
    ]
    assert history[0]["actor"]["role"] == "window"
    assert (
        await intake.get("/api/v1/cases/GZ-20000101-000001", headers=headers)
    ).status_code == 404


async def test_resolve_on_spot_then_feedback_closes(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    window = await make_key("window")
    case_no = await registered(intake, window)
    r = await intake.post(
        f"/api/v1/cases/{case_no}/resolve-on-spot", json={"note": "当场出具证明"}, headers=window
    )
    assert r.status_code == 200
    assert r.json()["status"] == "resolved_on_spot"
    assert r.json()["resolution"]["note"] == "当场出具证明"
    r = await intake.post(
        f"/api/v1/cases/{case_no}/feedback", json={"satisfaction": "satisfied"}, headers=window
    )
    assert r.json()["status"] == "closed"
    assert r.json()["closed_at"] is not None
    history = (await intake.get(f"/api/v1/cases/{case_no}", headers=window)).json()["history"]
    assert [e["action"] for e in history] == ["register", "resolve_on_spot", "feedback_satisfied"]
    assert history[1]["reason"] == "当场出具证明"
    assert history[2]["data"] == {"satisfaction": "satisfied"}


async def test_out_of_scope_requires_referral_and_explanation(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    window = await make_key("window")
    case_no = await registered(intake, window)
    r = await intake.post(
        f"/api/v1/cases/{case_no}/out-of-scope", json={"referred_to": "人民法院"}, headers=window
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "explanation", "message": "Field required"}]
    r = await intake.post(
        f"/api/v1/cases/{case_no}/out-of-scope",
        json={"referred_to": "人民法院", "explanation": "属于民事纠纷,需通过诉讼解决"},
        headers=window,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "out_of_scope"
    assert r.json()["resolution"]["referred_to"] == "人民法院"


async def test_unsatisfied_feedback_goes_to_review(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    """不满意甄别: the window's 非常不满意 waits for a coordinator; nothing is redone yet."""
    window = await make_key("window")
    case_no = await registered(intake, window)
    await intake.post(
        f"/api/v1/cases/{case_no}/resolve-on-spot", json={"note": "已解释"}, headers=window
    )
    r = await intake.post(
        f"/api/v1/cases/{case_no}/feedback",
        json={"satisfaction": "very_unsatisfied", "resolved": False, "comment": "没解决"},
        headers=window,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "rating_review"
    assert r.json()["reopen_count"] == 0
    feedback = r.json()["feedback"]
    assert (feedback["satisfaction"], feedback["resolved"], feedback["rating_outcome"]) == (
        "very_unsatisfied",
        False,
        "pending",
    )
    assert feedback["rating_review_due_at"] is not None
    again = await intake.post(
        f"/api/v1/cases/{case_no}/feedback", json={"satisfaction": "satisfied"}, headers=window
    )
    assert (again.status_code, again.json()["allowed_actions"]) == (409, ["reopen", "uphold"])
    bad = await intake.post(
        f"/api/v1/cases/{case_no}/feedback",
        json={"satisfaction": "satisfied", "resolved": "yes"},
        headers=window,
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "resolved")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("resolve-on-spot", {"note": "again"}),
        ("out-of-scope", {"referred_to": "x", "explanation": "y"}),
    ],
)
async def test_illegal_transition_is_409_with_allowed_actions(
    intake: httpx.AsyncClient, make_key: KeyFactory, path: str, body: dict[str, str]
) -> None:
    window = await make_key("window")
    case_no = await registered(intake, window)
    await intake.post(
        f"/api/v1/cases/{case_no}/resolve-on-spot", json={"note": "done"}, headers=window
    )
    await intake.post(
        f"/api/v1/cases/{case_no}/feedback", json={"satisfaction": "satisfied"}, headers=window
    )
    r = await intake.post(f"/api/v1/cases/{case_no}/{path}", json=body, headers=window)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["current_status"] == "closed"
    assert r.json()["allowed_actions"] == []
    history = (await intake.get(f"/api/v1/cases/{case_no}", headers=window)).json()["history"]
    assert len(history) == 3


async def test_feedback_on_a_registered_case_is_refused(
    intake: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    window = await make_key("window")
    case_no = await registered(intake, window)
    r = await intake.post(
        f"/api/v1/cases/{case_no}/feedback", json={"satisfaction": "satisfied"}, headers=window
    )
    assert r.status_code == 409
    assert r.json()["allowed_actions"] == [
        "assign",
        "refer_out_of_scope",
        "resolve_on_spot",
        "route",
    ]


async def test_list_filters_and_paginates(intake: httpx.AsyncClient, make_key: KeyFactory) -> None:
    window, coordinator = await make_key("window"), await make_key("coordinator")
    created = []
    for i in range(7):
        channel = "hotline" if i % 2 else "window"
        created.append(
            (
                await intake.post(
                    "/api/v1/cases", json=case_body(channel=channel), headers=coordinator
                )
            ).json()
        )
    await intake.post(
        f"/api/v1/cases/{created[0]['case_no']}/resolve-on-spot",
        json={"note": "ok"},
        headers=coordinator,  # the coordinator's registration: no window's to act on
    )

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await intake.get("/api/v1/cases", params=params, headers=window)).json()
        assert len(page["items"]) <= 3
        seen += [c["case_no"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["case_no"] for c in reversed(created)]

    hotline = (
        await intake.get("/api/v1/cases", params={"channel": "hotline"}, headers=window)
    ).json()["items"]
    assert len(hotline) == 3
    assert all(c["channel"] == "hotline" for c in hotline)
    solved = (
        await intake.get("/api/v1/cases", params={"status": "resolved_on_spot"}, headers=window)
    ).json()
    assert [c["case_no"] for c in solved["items"]] == [created[0]["case_no"]]
    both = (
        await intake.get(
            "/api/v1/cases", params={"status": "resolved_on_spot,registered"}, headers=window
        )
    ).json()
    assert len(both["items"]) == 7
    dept = (
        await intake.get("/api/v1/cases", params={"department": "GZ-BDC"}, headers=window)
    ).json()
    assert len(dept["items"]) == 7
    other = (
        await intake.get("/api/v1/cases", params={"department": "GZ-SWJ"}, headers=window)
    ).json()
    assert other["items"] == []
    assert (await intake.get("/api/v1/cases", params={"overdue": "true"}, headers=window)).json()[
        "items"
    ] == []
    today = created[0]["created_at"][:10]
    dated = (
        await intake.get(
            "/api/v1/cases", params={"created_from": today, "created_to": today}, headers=window
        )
    ).json()
    assert len(dated["items"]) == 7
    before = (
        await intake.get("/api/v1/cases", params={"created_to": "2020-01-01"}, headers=window)
    ).json()
    assert before["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"status": "lost"}, "status"),
        ({"channel": "fax"}, "channel"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"overdue": "maybe"}, "overdue"),
    ],
)
async def test_list_bad_parameters_name_the_field(
    intake: httpx.AsyncClient, make_key: KeyFactory, params: dict[str, Any], field: str
) -> None:
    r = await intake.get("/api/v1/cases", params=params, headers=await make_key("window"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field


async def test_two_intake_processes_number_cases_without_waiting_on_each_other(
    settings: Any, make_key: KeyFactory, sessionmaker: Any
) -> None:
    """Two intake apps (each with its own reserved blocks, as two processes have) registering at
    once: every case number is unique, each app's numbers increase, and the gaps stay within
    one block per app."""
    import asyncio

    from intake_api.app import create_app

    window = await make_key("window")
    apps = [create_app(settings.model_copy(update={"case_number_block": 7})) for _ in range(2)]
    numbers: list[list[int]] = [[], []]

    async def register(i: int, client: httpx.AsyncClient) -> None:
        for n in range(25):
            r = await client.post(
                "/api/v1/cases",
                json=case_body(applicant={"phone": f"139{i}{n:07d}"}),
                headers=window,
            )
            assert r.status_code == 201, r.text
            numbers[i].append(int(r.json()["case_no"].rsplit("-", 1)[1]))

    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://t")
            for a in apps
        ]
        await asyncio.gather(*(register(i, c) for i, c in enumerate(clients)))
        for c in clients:
            await c.aclose()
    every = numbers[0] + numbers[1]
    assert len(set(every)) == 50
    assert all(ns == sorted(ns) for ns in numbers)  # one client's cases, one after another
    assert max(every) <= 50 + 2 * 7


async def test_a_tracking_code_clash_reruns_the_registration(
    intake: httpx.AsyncClient,
    make_key: KeyFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Codes are not looked up before use; the unique constraint catches a clash and the whole
    registration runs again with a new code (nothing of the failed try is left)."""
    drawn = iter(["CLASH234", "CLASH234", "FRESH567"])
    monkeypatch.setattr(codes, "new_tracking_code", lambda: next(drawn))
    headers = await make_key("window")
    first = await intake.post("/api/v1/cases", json=case_body(), headers=headers)
    second = await intake.post(
        "/api/v1/cases",
        json=case_body(applicant={"name": "李四", "phone": "13700137000"}),
        headers={**headers, "Idempotency-Key": "clash"},
    )
    assert first.status_code == second.status_code == 201, second.text
    async with sessionmaker() as session:
        stored = dict(
            (await session.execute(select(Case.case_no, Case.tracking_code))).tuples().all()
        )
        records = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
    assert stored == {first.json()["case_no"]: "CLASH234", second.json()["case_no"]: "FRESH567"}
    assert records == 1
