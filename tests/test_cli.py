from __future__ import annotations

import getpass
import json
import socket
import subprocess

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.apikey import service as keys
from shared.models import AuditEntry
from tests.helpers.bodies import EXAMPLES
from tests.helpers.cli import files_in, run_cli, run_into_closed_pipe
from tests.helpers.db import count


def _create_key(
    database_url: str, department: str, holder: str
) -> subprocess.CompletedProcess[str]:
    """A department key from the shell, for `department`, held by `holder`."""
    role = ["--role", "department", "--department", department]
    return run_cli(database_url, "keys", "create", *role, "--holder", holder)


async def test_import_departments_and_manage_keys(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    r = run_cli(database_url, "departments", "import", str(EXAMPLES / "departments.sample.json"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"created": 21, "updated": 0}
    assert await count(sessionmaker, "departments") == 21

    r = _create_key(database_url, "GZ-BDC", "李明")
    assert r.returncode == 0, r.stderr
    issued = json.loads(r.stdout)
    async with sessionmaker() as session:
        principal = await keys.authenticate(session, issued["key"])
    assert principal is not None
    assert principal.department == "GZ-BDC"

    assert run_cli(database_url, "keys", "revoke", issued["id"]).returncode == 0
    async with sessionmaker() as session:
        assert await keys.authenticate(session, issued["key"]) is None

    bad = _create_key(database_url, "NOPE", "x")
    assert bad.returncode == 2
    assert "unknown department code" in bad.stderr


async def test_import_reports_bad_files(database_url: str, tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "bad.json"
    path.write_text(json.dumps([{"code": "A", "name": "a", "parent": "NOPE"}]))
    r = run_cli(database_url, "departments", "import", str(path))
    assert r.returncode == 2
    assert "[0].parent: unknown parent department 'NOPE'" in r.stderr


async def test_import_and_publish_a_rule_table(database_url: str, tmp_path: object) -> None:
    from pathlib import Path

    assert (
        run_cli(
            database_url, "departments", "import", str(EXAMPLES / "departments.sample.json")
        ).returncode
        == 0
    )
    r = run_cli(database_url, "rules", "import", str(EXAMPLES / "rules.sample.json"), "--publish")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"draft": "saved", "rules": 18, "version": 1}

    table = json.loads((EXAMPLES / "rules.sample.json").read_text())
    table["rules"][3]["lead_department"] = "NOPE"
    bad = Path(str(tmp_path)) / "rules.json"
    bad.write_text(json.dumps(table))
    r = run_cli(database_url, "rules", "import", str(bad))
    assert r.returncode == 2
    assert "rules[3].lead_department: unknown department 'NOPE'" in r.stderr


async def test_load_a_calendar_year(database_url: str, tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "2030.json"
    path.write_text(
        json.dumps({"holidays": ["2030-01-01", "2030-02-04"], "workdays": ["2030-02-09"]})
    )
    r = run_cli(database_url, "calendar", "load", "2030", str(path))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"year": 2030, "cases_recomputed": 0}
    path.write_text(json.dumps({"holidays": ["2031-01-01"]}))
    bad = run_cli(database_url, "calendar", "load", "2030", str(path))
    assert bad.returncode == 2
    assert "holidays[0]: 2031-01-01 is not in 2030" in bad.stderr


async def test_the_monthly_report_as_a_workbook_and_as_json(
    database_url: str, tmp_path: object, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from pathlib import Path

    from openpyxl import load_workbook

    from shared.database import transaction
    from shared.models import Case
    from shared.timeutil import to_shanghai
    from tests.helpers.clock import TEST_NOW

    async with transaction(sessionmaker) as session:
        session.add(
            Case(
                case_no="R-1",
                tracking_code="R0000001",
                status="resolved_on_spot",
                channel="window",
                description="当场解决",
                resolution_note="已告知",
                category="consultation",
                applicant_phone="13800138001",
                created_at=TEST_NOW,
                updated_at=TEST_NOW,
            )
        )
    month = to_shanghai(TEST_NOW).strftime("%Y-%m")
    async with sessionmaker() as session:  # the trail is append-only: earlier tests' rows stay
        before = await session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))
    out, as_json = (Path(str(tmp_path)) / f"report.{ext}" for ext in ("xlsx", "json"))
    for path in (out, as_json):
        r = run_cli(database_url, "report", "monthly", "--month", month, "--out", str(path))
        assert r.returncode == 0, r.stderr
    book = load_workbook(out)
    overview = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=3, values_only=True)}
    assert (overview["受理总量"], overview["当场解决"], overview["当场解决率(%)"]) == (1, 1, 100)
    assert list(book["问题类别"].iter_rows(values_only=True))[2][:2] == ("咨询无果", 1)
    assert json.loads(as_json.read_text())["summary"]["resolved_on_spot"] == 1
    bad = run_cli(database_url, "report", "monthly", "--month", "2026-13", "--out", str(out))
    assert bad.returncode == 2
    assert "month" in bad.stderr
    # Each export left its row, keyless: the account and host that ran it stand for the key.
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)
            )
        ).scalars()
        trail = [(e.key_id, e.role, e.operation, e.case_nos, e.address) for e in rows]
    whoami = f"{getpass.getuser()}@{socket.gethostname()}"
    assert trail == [
        (None, "system", f"gaodedim report monthly {month} xlsx", [], whoami),
        (None, "system", f"gaodedim report monthly {month} json", [], whoami),
    ]


async def test_every_refusal_is_reported_the_same_way(database_url: str, tmp_path: object) -> None:
    """A missing file, a file that does not validate, a year's dates in the wrong year and a
    refused key: `error: …` once, then a line per field; exit 2; never a traceback."""
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "table.json").write_text(json.dumps({"rules": [{"id": 1}], "version": "x"}))
    (folder / "year.json").write_text(json.dumps({"holidays": ["2027-01-01"]}))
    runs = {
        "missing": run_cli(database_url, "departments", "import", str(folder / "nope.json")),
        "invalid": run_cli(database_url, "rules", "import", str(folder / "table.json")),
        "wrong year": run_cli(database_url, "calendar", "load", "2028", str(folder / "year.json")),
        "no department": run_cli(
            database_url, "keys", "create", "--role", "department", "--holder", "x"
        ),
    }
    for name, run in runs.items():
        lines = run.stderr.strip().splitlines()
        assert run.returncode == 2, (name, run.stderr)
        assert "Traceback" not in run.stderr, name
        assert [line for line in lines if line.startswith("error: ")] == [lines[0]], name
        assert all(line.startswith("  ") for line in lines[1:]), (name, lines)
    assert "nope.json" in runs["missing"].stderr
    assert "  holidays[0]: 2027-01-01 is not in 2028" in runs["wrong year"].stderr
    assert len(runs["invalid"].stderr.strip().splitlines()) > 1  # one line per field


async def test_list_departments_show_rules_and_the_version(database_url: str) -> None:
    assert run_cli(database_url, "rules", "show").returncode == 2  # nothing published yet
    imported = run_cli(
        database_url, "departments", "import", str(EXAMPLES / "departments.sample.json")
    )
    assert imported.returncode == 0, imported.stderr
    listed = [
        json.loads(line)
        for line in run_cli(database_url, "departments", "list").stdout.splitlines()
    ]
    assert len(listed) == 21
    by_code = {d["code"]: d for d in listed}
    assert by_code["GZ-BDC"]["name"] == "广州市不动产登记中心"
    assert [d["code"] for d in listed] == sorted(by_code)
    run_cli(database_url, "rules", "import", str(EXAMPLES / "rules.sample.json"), "--publish")
    latest = json.loads(run_cli(database_url, "rules", "show").stdout)
    first = json.loads(run_cli(database_url, "rules", "show", "--version", "1").stdout)
    draft = json.loads(run_cli(database_url, "rules", "show", "--draft").stdout)
    assert latest == first == draft
    assert len(latest["rules"]) == 18
    version = run_cli(database_url, "--version")
    assert version.returncode == 0
    assert version.stdout.startswith("gaodedim ")


async def test_the_cli_refuses_plainly_before_doing_anything(
    database_url: str, tmp_path: object, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Issue 31: each refusal is one line, exit 2, no traceback, and says what was expected."""
    from pathlib import Path

    folder = Path(str(tmp_path))
    refusals = {
        "window without hall": (
            ["keys", "create", "--role", "window", "--holder", "x"],
            "--department",
        ),
        "not a month": (
            ["report", "monthly", "--month", "2026-13", "--out", str(folder / "r.xlsx")],
            "YYYY-MM",
        ),
        "no such folder": (
            ["report", "monthly", "--month", "2026-11", "--out", str(folder / "no" / "r.xlsx")],
            "does not exist",
        ),
        "not a format": (
            ["report", "monthly", "--month", "2026-11", "--out", str(folder / "r.csv")],
            ".xlsx",
        ),
        "wrong kind of file": (
            ["departments", "import", str(EXAMPLES / "rules.sample.json")],
            "is not a JSON list of departments",
        ),
    }

    async def exports() -> int:
        async with sessionmaker() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.operation.like("gaodedim report%"))
            )
        return int(found or 0)

    before = await exports()
    for name, (args, says) in refusals.items():
        run = run_cli(database_url, *args)
        lines = run.stderr.strip().splitlines()
        assert (run.returncode, len(lines)) == (2, 1), (name, run.stderr)
        assert lines[0].startswith("error: "), (name, lines)
        assert says in lines[0], (name, lines)
    assert files_in(folder) == []  # nothing written for a refused report
    assert await exports() == before  # no audit row for a file never written
    unbound = run_cli(
        database_url, "keys", "create", "--role", "window", "--unbound", "--holder", "x"
    )
    assert unbound.returncode == 0, unbound.stderr
    missing = run_cli(database_url, "keys")
    assert missing.returncode == 2
    assert "keys_command" not in missing.stderr
    assert "{create,revoke,list}" in missing.stderr


async def test_keys_list_migrate_and_a_closed_pipe(
    database_url: str, sample_departments: None
) -> None:
    created = run_cli(
        database_url, "keys", "create", "--role", "department", "--department", "GZ-BDC",
        "--holder", "李明", "--label", "desk 3",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    (listed,) = [
        json.loads(line) for line in run_cli(database_url, "keys", "list").stdout.splitlines()
    ]
    assert (listed["label"], listed["role"], listed["department"], listed["issued_by"]) == (
        "desk 3",
        "department",
        "GZ-BDC",
        "system",
    )
    assert listed["created_at"].endswith("+08:00")  # shown in Shanghai time, as the API shows
    migrated = run_cli(database_url, "migrate")
    assert migrated.returncode == 0
    assert migrated.stdout.startswith("nothing to apply: the database is at ")
    piped = run_into_closed_pipe(database_url, "departments", "list")
    assert "Traceback" not in piped.stderr
    assert "BrokenPipeError" not in piped.stderr
