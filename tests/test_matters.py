"""办事指南 (issue 30 #3): the catalogue imported as versions (the API and the shell), searched
in Chinese as people type it (word order, traditional characters, full-width letters), its
materials on the tracking card of a registration with a matter code (一次性告知), and a standard
answer cited when a window settles a case."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.helpers.bodies import EXAMPLES
from tests.helpers.cli import run_cli
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")

SAMPLE: dict[str, Any] = json.loads((EXAMPLES / "matters.sample.json").read_text())


async def imported(routing: httpx.AsyncClient, make_key: KeyFactory) -> dict[str, str]:
    admin = await make_key("admin")
    r = await routing.put("/api/v1/matters", json=SAMPLE, headers=admin)
    assert r.status_code == 200, r.text
    return admin


async def found(
    routing: httpx.AsyncClient, headers: dict[str, str], q: str, **more: Any
) -> list[str]:
    r = await routing.get("/api/v1/matters", params={"q": q, **more}, headers=headers)
    assert r.status_code == 200, r.text
    return [m["code"] for m in r.json()["items"]]


async def test_the_catalogue_is_imported_as_versions_by_the_admin_alone(
    routing: httpx.AsyncClient, make_key: KeyFactory, database_url: str
) -> None:
    admin = await imported(routing, make_key)
    again = await routing.put("/api/v1/matters", json=SAMPLE, headers=admin)
    assert again.json() == {"version": 2, "matters": len(SAMPLE["matters"])}
    for role in ("window", "coordinator", "supervisor"):
        r = await routing.put("/api/v1/matters", json=SAMPLE, headers=await make_key(role))
        assert r.status_code == 403, role
    unknown = {"matters": [{**SAMPLE["matters"][0], "department": "NO-SUCH"}]}
    r = await routing.put("/api/v1/matters", json=unknown, headers=admin)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "matters[0].department")
    twice = {"matters": [SAMPLE["matters"][0], SAMPLE["matters"][0]]}
    assert (await routing.put("/api/v1/matters", json=twice, headers=admin)).status_code == 422
    done = run_cli(database_url, "matters", "import", str(EXAMPLES / "matters.sample.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"version": 3, "matters": len(SAMPLE["matters"])}
    window = await make_key("window", "GZ-BDC")
    one = (await routing.get("/api/v1/matters/BDC-ZYDJ", headers=window)).json()
    assert (one["version"], one["department"], one["promised_days"]) == (3, "GZ-BDC", 5)
    assert (await routing.get("/api/v1/matters/NO-SUCH", headers=window)).status_code == 404


async def test_search_finds_a_matter_as_people_type_it(
    routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    await imported(routing, make_key)
    window = await make_key("window", "GZ-BDC")
    assert (await found(routing, window, "个体工商户营业执照注销"))[0] == "SCJG-GTZX"
    assert (await found(routing, window, "注销营业执照"))[0] == "SCJG-GTZX"  # word order
    assert (await found(routing, window, "營業執照 註銷"))[0] == "SCJG-GTZX"  # traditional
    assert (await found(routing, window, "户口迁入"))[0] == "GAJ-HKQY"
    assert (await found(routing, window, "戶口遷入"))[0] == "GAJ-HKQY"
    assert "GJJ-ZFTQ" in await found(routing, window, "公积金 租房")
    assert "GJJ-ZFTQ" in await found(routing, window, "ＧＪＪ公積金租房")  # full-width too
    # A word of the materials or of a standard answer's question finds the matter.
    assert set(await found(routing, window, "清税证明")) >= {"SWJ-QSZM", "SCJG-GTZX"}
    assert (await found(routing, window, "违章注记"))[0] == "BDC-ZYDJ"
    assert await found(routing, window, "社保卡", department="GZ-RSJ") == ["RSJ-SBK"]
    assert await found(routing, window, "%_%") == []  # typed, not wildcards
    everything = await routing.get("/api/v1/matters", params={"limit": 50}, headers=window)
    assert [m["code"] for m in everything.json()["items"]] == [m["code"] for m in SAMPLE["matters"]]
    for role, status in (
        ("hotline", 200),
        ("coordinator", 200),
        ("portal", 403),
        ("supervisor", 403),
    ):
        r = await routing.get("/api/v1/matters", params={"q": "护照"}, headers=await make_key(role))
        assert r.status_code == status, role
    long = await routing.get("/api/v1/matters", params={"q": "护" * 101}, headers=window)
    assert (long.status_code, long.json()["errors"][0]["field"]) == (422, "q")


async def test_a_matter_code_puts_its_materials_on_the_card_and_a_window_cites_an_answer(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    await imported(routing, make_key)
    window = await make_key("window", "GZ-BDC")
    body = {
        "channel": "window",
        "intake_department": "GZ-BDC",
        "matter_code": "BDC-ZYDJ",
        "hold": True,
        "description": "二手房过户被告知有违章注记,不知道还要什么材料。",
        "applicant": {"phone": "13800138001"},
    }
    r = await intake.post("/api/v1/cases", json=body, headers=window)
    assert r.status_code == 201, r.text
    case = r.json()
    materials = next(m for m in SAMPLE["matters"] if m["code"] == "BDC-ZYDJ")["materials"]
    assert case["tracking_card"]["required_materials"] == materials
    no = case["case_no"]
    bad = await intake.post(
        f"/api/v1/cases/{no}/resolve-on-spot",
        json={"note": "当场解释", "answer_id": "BDC-ZYDJ#no-such"},
        headers=window,
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "answer_id")
    r = await intake.post(
        f"/api/v1/cases/{no}/resolve-on-spot",
        json={
            "note": "按标准答复当场解释,由登记中心内部核查",
            "answer_id": "BDC-ZYDJ#illegal-mark",
        },
        headers=window,
    )
    assert r.status_code == 200, r.text
    cited = r.json()["tracking_card"]["standard_answer"]
    assert cited["answer_id"] == "BDC-ZYDJ#illegal-mark"
    assert cited["answer"].startswith("由登记中心内部核查")
    unknown = await intake.post(
        "/api/v1/cases",
        json={**body, "matter_code": "NOT-IN-CATALOGUE", "applicant": {"phone": "13900139009"}},
        headers=window,
    )
    assert unknown.json()["tracking_card"]["required_materials"] == []
