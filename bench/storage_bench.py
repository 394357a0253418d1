"""What a case costs on disk, for the capacity plan (docs/CAPACITY.md): cases walked through
their whole life by the real apps (registered at a window, routed, signed, replied, rated), then
the bytes of every table and index measured. The first batch pays for empty pages and index
roots; the figure is the growth from the first batch to the second, per case, after VACUUM FULL
(live rows; a busy table carries some dead ones on top until autovacuum reuses their space).

Run: `.venv/bin/python bench/storage_bench.py [first] [second]` (default 300 and 1,500 cases).
Redis is not needed: the apps start without it and nothing here is rate limited.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _db import fresh_database
from sqlalchemy import text

from intake_api.app import create_app as create_intake
from routing_api.app import create_app as create_routing
from services.apikey import service as apikeys
from services.department import service as departments
from services.department.schemas import DepartmentIn
from shared.database import make_engine, make_sessionmaker, transaction
from shared.enums import Role
from shared.principal import SYSTEM
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIRST = int(sys.argv[1]) if len(sys.argv) > 1 else 300
SECOND = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
SERVICE_KEY = "bench-service-key-0123456789abcdef"

SIZES = """
SELECT c.relname, pg_total_relation_size(c.oid) AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
"""


async def sizes(url: str) -> dict[str, int]:
    engine = make_engine(Settings(_env_file=None, database_url=url))
    async with engine.connect() as conn:
        # Live rows only: the dead versions each action leaves are autovacuum's to reclaim,
        # and a short run gives it no time to.
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
            text("VACUUM FULL")
        )
        rows = (await conn.execute(text(SIZES))).all()
    await engine.dispose()
    return {name: int(n) for name, n in rows}


async def walk(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, keys: dict[str, Any], i: int
) -> None:
    body = {
        "channel": "window",
        "intake_department": "GZ-BDC",
        "district": "越秀区",
        "title": f"房屋转移登记因违章注记无法办理 {i}",
        "description": f"房屋存在违章注记,三十多年前的罚款单据找不到,转移登记无法办理。编号{i}",
        "applicant": {"name": "黄丽华", "phone": f"138{i:08d}", "type": "individual"},
    }
    r = await intake.post(
        "/api/v1/cases", json=body, headers={**keys["window"], "Idempotency-Key": f"s-{i}"}
    )
    assert r.status_code == 201, r.text
    case = r.json()
    no, lead = case["case_no"], case["lead_department"]
    assert lead, case
    dept = keys[lead]
    for path, payload in (
        ("sign", {}),
        ("reply", {"reply": "已协调规划部门出具历史处理证明,可办理转移登记"}),
    ):
        r = await routing.post(f"/api/v1/cases/{no}/{path}", json=payload, headers=dept)
        assert r.status_code == 200, r.text
    r = await intake.post(
        f"/api/v1/cases/{no}/feedback", json={"satisfaction": "satisfied"}, headers=keys["window"]
    )
    assert r.status_code == 200, r.text


async def run(url: str) -> None:
    settings = Settings(
        _env_file=None,
        database_url=url,
        redis_url=None,
        service_key=SERVICE_KEY,
        log_level="WARNING",
    )
    sessionmaker = make_sessionmaker(make_engine(settings))
    listed = json.loads((ROOT / "examples" / "departments.sample.json").read_text())
    async with transaction(sessionmaker) as session:
        await departments.import_all(session, [DepartmentIn.model_validate(d) for d in listed])
        keys: dict[str, Any] = {}
        for role in ("window", "admin"):
            issued = await apikeys.issue(
                session, holder="test", issuer=SYSTEM, role=Role(role), department=None
            )
            keys[role] = {"Authorization": f"Bearer {issued.key}"}
        for d in listed:
            issued = await apikeys.issue(
                session, holder="test", issuer=SYSTEM, role=Role.department, department=d["code"]
            )
            keys[d["code"]] = {"Authorization": f"Bearer {issued.key}"}
    routing_app, intake_app = create_routing(settings), create_intake(settings)
    async with (
        routing_app.router.lifespan_context(routing_app),
        intake_app.router.lifespan_context(intake_app),
    ):
        to_routing = httpx.ASGITransport(app=routing_app)
        await intake_app.state.routing_client.aclose()
        intake_app.state.routing_client = httpx.AsyncClient(
            transport=to_routing,
            base_url="http://routing",
            headers={"Authorization": f"Bearer {SERVICE_KEY}"},
        )
        async with (
            httpx.AsyncClient(transport=to_routing, base_url="http://routing") as routing,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=intake_app), base_url="http://intake"
            ) as intake,
        ):
            table = json.loads((ROOT / "examples" / "rules.sample.json").read_text())
            assert (
                await routing.put("/api/v1/rules", json=table, headers=keys["admin"])
            ).status_code == 200
            assert (
                await routing.post("/api/v1/rules/publish", headers=keys["admin"])
            ).status_code == 201
            done = 0
            before: dict[str, int] = {}
            for target in (FIRST, SECOND):
                while done < target:
                    await asyncio.gather(
                        *(
                            walk(intake, routing, keys, done + k)
                            for k in range(min(20, target - done))
                        )
                    )
                    done += min(20, target - done)
                if target == FIRST:
                    before = await sizes(url)
            after = await sizes(url)
    grown = {name: after[name] - before.get(name, 0) for name in after}
    cases = SECOND - FIRST
    print(f"{cases} cases walked from registration to a satisfied close, growth per case:")
    for name, delta in sorted(grown.items(), key=lambda kv: -kv[1]):
        if delta:
            print(f"  {name:28} {delta / cases:8.0f} bytes")
    total = sum(grown.values()) / cases
    print(f"  {'all tables and indexes':28} {total:8.0f} bytes = {total / 1024:.1f} KiB per case")


def main() -> None:
    with fresh_database("gaodedim_storage_bench") as url:
        asyncio.run(run(url))


if __name__ == "__main__":
    main()
