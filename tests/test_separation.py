"""三员分立 (issue 26): the system administrator configures, the security administrator holds
the keys, the auditor reads the trail, and none of them can make themselves another; every key
operation and every configuration change leaves one audit row naming who did it and, for a key,
whose it is.

The trail is not emptied between tests (it refuses TRUNCATE), so each test reads the rows of
the keys it issued."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.models import ApiKey, AuditEntry
from tests.helpers.cli import run_cli
from tests.helpers.keys import IssueFactory, Key
from tests.helpers.rules import SAMPLE_TABLE

pytestmark = pytest.mark.usefixtures("sample_departments")

SHELL_ONLY = ("auditor", "security_admin")
ORDINARY = ("portal", "hotline", "window", "coordinator", "supervisor", "dashboard", "admin")
ACTORS = (*ORDINARY, "department", *SHELL_ONLY)


async def trail_of(routing: httpx.AsyncClient, auditor: Key, actor: Key) -> list[dict[str, Any]]:
    r = await routing.get(
        "/api/v1/audit", params={"key_id": str(actor.id)}, headers=auditor.headers
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


@pytest.mark.parametrize("actor_role", ACTORS)
@pytest.mark.parametrize("target", [*ORDINARY, *SHELL_ONLY])
async def test_who_may_issue_which_key(
    routing: httpx.AsyncClient, issue: IssueFactory, actor_role: str, target: str
) -> None:
    """Only the security administrator issues keys over the API, and never the two shell-only
    kinds: no administrator can hand themselves the trail or another administrator's power."""
    actor = await issue(actor_role, "GZ-BDC" if actor_role == "department" else None)
    r = await routing.post(
        "/api/v1/keys", json={"role": target, "holder": "王五"}, headers=actor.headers
    )
    expected = 201 if actor_role == "security_admin" and target in ORDINARY else 403
    assert r.status_code == expected, r.text
    if expected == 403:
        assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("target", [*ORDINARY, *SHELL_ONLY])
@pytest.mark.parametrize("actor_role", ["admin", "security_admin", "supervisor"])
async def test_who_may_revoke_which_key(
    routing: httpx.AsyncClient,
    intake: httpx.AsyncClient,
    issue: IssueFactory,
    actor_role: str,
    target: str,
) -> None:
    actor, victim = await issue(actor_role), await issue(target)
    r = await routing.delete(f"/api/v1/keys/{victim.id}", headers=actor.headers)
    revoked = actor_role == "security_admin" and target in ORDINARY
    assert r.status_code == (204 if revoked else 403), r.text
    # The auditor's key still opens the trail after the attempt.
    if target == "auditor":
        assert (await routing.get("/api/v1/audit", headers=victim.headers)).status_code == 200


async def test_every_key_operation_leaves_a_row_naming_actor_and_holder(
    routing: httpx.AsyncClient,
    intake: httpx.AsyncClient,
    issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    auditor, keyholder = await issue("auditor"), await issue("security_admin")
    issued = await routing.post(
        "/api/v1/keys",
        json={"role": "supervisor", "holder": "王主任 (督查室)"},
        headers=keyholder.headers,
    )
    assert issued.status_code == 201, issued.text
    new_id, secret = issued.json()["id"], issued.json()["key"]
    # A privileged key is in the auditor's trail, with its issuer and holder, before first use.
    rows = await trail_of(routing, auditor, keyholder)
    assert len(rows) == 1
    assert rows[0]["operation"] == "POST /api/v1/keys"
    assert rows[0]["role"] == "security_admin"
    assert new_id in rows[0]["subject"]
    assert "role supervisor" in rows[0]["subject"]
    assert "王主任 (督查室)" in rows[0]["subject"]
    assert secret not in json.dumps(rows)

    window = await issue("window")
    bound = await routing.put(
        f"/api/v1/keys/{window.id}/hall", json={"department": "GZ-BDC"}, headers=keyholder.headers
    )
    assert bound.status_code == 200, bound.text
    assert (await routing.delete(f"/api/v1/keys/{new_id}", headers=keyholder.headers)).status_code
    rows = await trail_of(routing, auditor, keyholder)
    assert [r["operation"] for r in rows] == [
        "DELETE /api/v1/keys/{key_id}",
        "PUT /api/v1/keys/{key_id}/hall",
        "POST /api/v1/keys",
    ]
    assert str(window.id) in rows[1]["subject"]
    assert window.holder in rows[1]["subject"]
    assert "hall GZ-BDC" in rows[1]["subject"]
    assert new_id in rows[0]["subject"]
    assert "revoked" in rows[0]["subject"]
    # The key's record names its holder, who issued it and who revoked it.
    listed = await routing.get("/api/v1/keys", params={"limit": 200}, headers=keyholder.headers)
    mine = next(k for k in listed.json()["items"] if k["id"] == new_id)
    assert mine["holder"] == "王主任 (督查室)"
    assert (mine["issued_by_key_id"], mine["issued_by_role"]) == (
        str(keyholder.id),
        "security_admin",
    )
    assert (mine["revoked_by_key_id"], mine["revoked_by_role"]) == (
        str(keyholder.id),
        "security_admin",
    )
    # A refused operation changes nothing and writes no row.
    refused = await routing.delete(f"/api/v1/keys/{auditor.id}", headers=keyholder.headers)
    assert refused.status_code == 403
    assert len(await trail_of(routing, auditor, keyholder)) == 3
    async with sessionmaker() as session:
        row = await session.get(ApiKey, auditor.id)
        assert row is not None
        assert row.revoked_at is None


async def test_every_configuration_change_leaves_a_row(
    routing: httpx.AsyncClient, issue: IssueFactory
) -> None:
    auditor, admin = await issue("auditor"), await issue("admin")
    h = admin.headers
    steps: list[tuple[str, str, dict[str, Any], str]] = [
        ("PUT", "/api/v1/rules", {"json": SAMPLE_TABLE}, "rule table draft saved"),
        ("POST", "/api/v1/rules/publish", {}, "rule table version"),
        (
            "POST",
            "/api/v1/departments",
            {"json": {"code": "TH-TEST", "name": "天河测试局"}},
            "department TH-TEST: created",
        ),
        (
            "PUT",
            "/api/v1/departments/TH-TEST",
            {"json": {"name": "天河测试局(改)"}},
            "department TH-TEST: updated",
        ),
        ("DELETE", "/api/v1/departments/TH-TEST", {}, "department TH-TEST: deleted"),
        (
            "PUT",
            "/api/v1/calendar/2027",
            {"json": {"holidays": ["2027-01-01"]}},
            "calendar 2027",
        ),
        (
            "PUT",
            "/api/v1/notice-templates/registered",
            {"json": {"text": "【$signature】您的诉求已登记（$case_no）。"}},
            "notice template registered: version",
        ),
    ]
    for method, path, kwargs, _ in steps:
        r = await routing.request(method, path, headers=h, json=kwargs.get("json"))
        assert r.status_code < 300, (path, r.text)
    rows = list(reversed(await trail_of(routing, auditor, admin)))
    assert len(rows) == len(steps)
    for row, (method, _, _, subject) in zip(rows, steps, strict=True):
        assert row["operation"].startswith(method)
        assert row["role"] == "admin"
        assert subject in row["subject"], row


async def test_the_shell_issues_the_auditor_and_is_audited(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The two shell-only keys come from `gaodedim keys create`; its row names the shell."""
    done = run_cli(database_url, "keys", "create", "--role", "auditor", "--holder", "审计员 赵六")
    assert done.returncode == 0, done.stderr
    issued = json.loads(done.stdout)
    assert issued["role"] == "auditor"
    missing = run_cli(database_url, "keys", "create", "--role", "window")
    assert missing.returncode != 0
    assert "--holder" in missing.stderr
    rows = [json.loads(line) for line in run_cli(database_url, "keys", "list").stdout.splitlines()]
    mine = next(r for r in rows if r["id"] == issued["id"])
    assert (mine["holder"], mine["issued_by"]) == ("审计员 赵六", "system")
    async with sessionmaker() as session:
        stmt = select(AuditEntry).where(AuditEntry.subject.contains(issued["id"]))
        (row,) = (await session.execute(stmt)).scalars()
    assert (row.role, row.key_id, row.operation) == ("system", None, "gaodedim keys create")
    assert "@" in (row.address or "")
    assert "审计员 赵六" in (row.subject or "")
