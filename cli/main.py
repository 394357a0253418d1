"""`gaodedim`: the operators' command line.

Runs the service on a desk machine (`run`), migrates the database, issues and revokes API
keys, imports and lists departments, imports, publishes and shows the rule table, loads a
year's calendar, writes the monthly report, and sweeps deadlines or refreshes the figures on
demand. Without DATABASE_URL it uses the running `gaodedim run`'s database (or starts one).

examples:
  gaodedim departments import examples/departments.sample.json
  gaodedim rules import examples/rules.sample.json --publish
  gaodedim matters import examples/matters.sample.json
  gaodedim keys create --role security_admin --holder "陈静 (信息中心)"
  gaodedim keys create --role department --department GZ-BDC --holder 李明 --label "BDC desk 3"
  gaodedim calendar load 2027 calendar-2027.json
  gaodedim report monthly --month 2026-11 --out 2026-11.xlsx
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cli.local import AlreadyRunning
from shared import audit
from shared.enums import Role
from shared.errors import DomainError, FieldError
from shared.principal import SYSTEM
from shared.settings import Settings, get_settings
from shared.timeutil import shanghai_iso, utcnow
from shared.version import package_version

T = TypeVar("T")


@contextmanager
def _database_url(settings: Settings) -> Iterator[str]:
    """DATABASE_URL; without it, a desk machine's embedded database (the `local` extra), which
    a production install does not have and never needs."""
    if settings.database_url:
        yield settings.database_url
        return
    from cli.local.localdb import database_url

    with database_url(settings) as url:
        yield url


def _with_sessionmaker(
    settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]
) -> T:
    """Run `work` against the configured (or the running embedded) database, migrated first."""
    from shared.database import make_engine, make_sessionmaker
    from shared.migrate import upgrade

    with _database_url(settings) as url:
        upgrade(url)

        async def go() -> T:
            engine = make_engine(settings.model_copy(update={"database_url": url}), pool_size=1)
            try:
                return await work(make_sessionmaker(engine))
            finally:
                await engine.dispose()

        return asyncio.run(go())


def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`work` in one transaction, committed when it returns."""
    from shared.database import transaction

    async def in_transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> T:
        async with transaction(sessionmaker) as session:
            return await work(session)

    return _with_sessionmaker(settings, in_transaction)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from cli.local.supervisor import run

    return run(settings, with_worker=not args.no_worker)


def cmd_migrate(_: argparse.Namespace, settings: Settings) -> int:
    from shared.migrate import current, known_revisions, pending, upgrade

    with _database_url(settings) as url:
        todo = pending(current(url))
        upgrade(url)
    head = known_revisions()[0]
    if todo:
        print(f"applied {len(todo)} migration(s): {', '.join(todo)}; the database is at {head}")
    else:
        print(f"nothing to apply: the database is at {head}")
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from services.apikey import service as keys

    if args.role == Role.window.value and not args.department and not args.unbound:
        raise ValueError(
            "a window key belongs to its service hall (it sees that hall's applicants in clear): "
            "give --department HALL, or --unbound for a key of no hall"
        )

    async def work(session: AsyncSession) -> dict[str, Any]:
        issued = await keys.issue(
            session,
            role=Role(args.role),
            holder=args.holder,
            issuer=SYSTEM,
            department=args.department,
            label=args.label,
        )
        return {
            "id": str(issued.id),
            "key": issued.key,
            "role": issued.role.value,
            "department": issued.department,
            "holder": args.holder,
        }

    print(json.dumps(_with_session(settings, work), ensure_ascii=False))
    print("store the key now: it is not shown again", file=sys.stderr)
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from services.apikey import service as keys

    async def work(session: AsyncSession) -> None:
        await keys.revoke(session, uuid.UUID(args.id), now=utcnow(), actor=SYSTEM)

    _with_session(settings, work)
    print(f"revoked {args.id}")
    return 0


def cmd_keys_list(_: argparse.Namespace, settings: Settings) -> int:
    from services.apikey import service as keys

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [
            {
                "id": str(k.id),
                "prefix": k.prefix,
                "role": k.role,
                "department": k.department_code,
                "label": k.label,
                "holder": k.holder,
                "issued_by": k.issued_by_role,
                "created_at": shanghai_iso(k.created_at),
                "revoked_at": shanghai_iso(k.revoked_at),
                "revoked": k.revoked_at is not None,
            }
            for k in await keys.list_keys(session)
        ]

    for row in _with_session(settings, work):
        print(json.dumps(row, ensure_ascii=False))
    return 0


def cmd_departments_import(args: argparse.Namespace, settings: Settings) -> int:
    from services.department import service
    from services.department.schemas import DepartmentIn

    items = TypeAdapter(list[DepartmentIn]).validate_json(_read_kind(args.file, "departments"))

    async def work(session: AsyncSession) -> dict[str, int]:
        return await service.import_all(session, items)

    print(json.dumps(_with_session(settings, work)))
    return 0


def cmd_rules_import(args: argparse.Namespace, settings: Settings) -> int:
    from services.rules import versions
    from services.rules.schemas import RuleTable

    table = RuleTable.model_validate_json(_read_kind(args.file, "rules"))

    async def work(session: AsyncSession) -> dict[str, Any]:
        await versions.save_draft(session, table, actor=SYSTEM)
        result: dict[str, Any] = {"draft": "saved", "rules": len(table.rules)}
        if args.publish:
            result["version"] = await versions.publish(session, actor=SYSTEM)
        return result

    print(json.dumps(_with_session(settings, work)))
    return 0


def cmd_matters_import(args: argparse.Namespace, settings: Settings) -> int:
    from services.matter import catalogue
    from services.matter.schemas import Catalogue

    document = Catalogue.model_validate_json(_read_kind(args.file, "matters"))

    async def work(session: AsyncSession) -> dict[str, Any]:
        saved = await catalogue.publish(session, document, actor=SYSTEM, now=utcnow())
        return saved.model_dump()

    print(json.dumps(_with_session(settings, work)))
    return 0


def cmd_departments_list(_: argparse.Namespace, settings: Settings) -> int:
    from services.department import repository
    from services.department.service import department_out

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [department_out(d).model_dump() for d in await repository.all_departments(session)]

    for row in _with_session(settings, work):
        print(json.dumps(row, ensure_ascii=False))
    return 0


def cmd_rules_show(args: argparse.Namespace, settings: Settings) -> int:
    from services.rules import versions
    from shared.errors import not_found

    async def work(session: AsyncSession) -> dict[str, Any]:
        if args.draft:
            table = await versions.draft(session)
            if table is None:
                raise not_found("a saved draft")
        else:
            number = args.table_version or await versions.latest_version(session)
            if number is None:
                raise not_found("a published rule table")
            table = await versions.version(session, number)
        return versions.table_out(table)

    print(json.dumps(_with_session(settings, work), ensure_ascii=False, indent=2))
    return 0


def cmd_sla_sweep(args: argparse.Namespace, settings: Settings) -> int:
    """One sweep now (or at --now, for drills and tests); the worker does this every 15 s."""
    from datetime import datetime

    from services.sla.runner import run_sweep
    from services.sla.sweep import summary

    now = datetime.fromisoformat(args.now) if args.now else utcnow()
    if now.tzinfo is None:
        raise ValueError("--now needs an offset, e.g. 2026-11-23T10:00:00+08:00")

    async def work(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        return summary(await run_sweep(sessionmaker, now=now, batch=args.batch))

    print(json.dumps(_with_sessionmaker(settings, work)))
    return 0


def cmd_calendar_load(args: argparse.Namespace, settings: Settings) -> int:
    """Load a year's schedule: {"holidays": [...], "workdays": [...]} (ISO dates)."""
    from services.clock import years
    from services.sla.recompute import recompute_year

    data = years.YearIn.model_validate_json(_read_kind(args.file, "calendar"))
    problems = data.check_year(args.year)
    if problems:
        raise DomainError(
            detail=f"{args.file} does not describe {args.year}",
            errors=[FieldError(name, message) for name, message in problems],
        )

    async def work(session: AsyncSession) -> dict[str, Any]:
        await years.save_year(session, args.year, data, actor=SYSTEM)
        changed = await recompute_year(session, args.year, await years.load(session))
        return {"year": args.year, "cases_recomputed": changed}

    print(json.dumps(_with_session(settings, work)))
    return 0


def _operator() -> str:
    """Who runs this command, for the audit trail: the account and the host."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # a container's uid with no passwd entry
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"


MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _report_target(month: str, out: str) -> Path:
    """`--month` and `--out` checked before anything is read: a real month, a folder that
    exists, a file name saying the format."""
    if not MONTH.match(month):
        raise ValueError(f"--month {month!r} is not a month: YYYY-MM, e.g. 2026-11")
    target = Path(out)
    if target.suffix not in (".xlsx", ".json"):
        raise ValueError(f"--out {out!r}: name a .xlsx (a workbook) or a .json file")
    if not target.parent.is_dir():
        raise ValueError(f"--out {out!r}: the folder {str(target.parent)!r} does not exist")
    return target


def cmd_report_monthly(args: argparse.Namespace, settings: Settings) -> int:
    from services.reports import monthly
    from shared import audit

    target = _report_target(args.month, args.out)
    workbook = target.suffix == ".xlsx"

    async def build(session: AsyncSession) -> bytes:
        report = await monthly.build(session, args.month, now=utcnow())
        if workbook:
            return monthly.to_xlsx(report)
        return report.model_dump_json(indent=2).encode()

    content = _with_session(settings, build)
    # Written beside the target first: the audit row is for a file that exists, and the file
    # appears only once its row is committed (never a file without its row, nor the reverse).
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(content)
    except OSError as exc:
        raise ValueError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    what = f"gaodedim report monthly {args.month} {'xlsx' if workbook else 'json'}"

    async def audited(session: AsyncSession) -> None:
        await audit.record_export(session, what, address=_operator())

    try:
        _with_session(settings, audited)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    print(f"wrote {args.out}")
    return 0


def cmd_stats_refresh(_: argparse.Namespace, settings: Settings) -> int:
    """Fold the days changed since the last fold into the rollups (the worker does this too)."""
    from services.stats import rollup

    days = _with_sessionmaker(settings, rollup.refresh_all)
    print(json.dumps({"days_refreshed": days}))
    return 0


class Unreadable(Exception):
    """A file named on the command line cannot be read."""


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc.strerror or exc}") from exc


KINDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "departments": (
        "a JSON list of departments, like examples/departments.sample.json",
        lambda v: isinstance(v, list),
    ),
    "rules": (
        'a rule table, a JSON object with "rules", like examples/rules.sample.json',
        lambda v: isinstance(v, dict) and "rules" in v,
    ),
    "matters": (
        'a matter catalogue, a JSON object with "matters", like examples/matters.sample.json',
        lambda v: isinstance(v, dict) and "matters" in v,
    ),
    "calendar": (
        'a year\'s calendar, a JSON object with "holidays" and "workdays"',
        lambda v: isinstance(v, dict) and bool({"holidays", "workdays"} & set(v)),
    ),
}


def _read_kind(path: str, kind: str) -> bytes:
    """The file, if it is the kind of file the command takes (else says which it expected,
    before any field-by-field complaint about a file that was never meant for it)."""
    data = _read(path)
    expected, holds = KINDS[kind]
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable(f"{path} is not JSON ({exc}); expected {expected}") from exc
    if not holds(value):
        raise Unreadable(f"{path} is not {expected}")
    return data


def _report(detail: str, errors: list[tuple[str, str]]) -> int:
    """Every refusal the same way on stderr: what went wrong, then one line per field."""
    print(f"error: {detail}", file=sys.stderr)
    for name, message in errors:
        if detail != f"{name}: {message}":  # said once, not again as its own field line
            print(f"  {name}: {message}", file=sys.stderr)
    return 2


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _named(sub: Any) -> None:
    """argparse names a missing sub-command by its `dest` (`keys_command`); name the choices."""
    sub.metavar = "{" + ",".join(sub.choices) + "}"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gaodedim", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start both APIs and the worker (embedded servers by default)")
    run.add_argument("--no-worker", action="store_true", help="start the two APIs only")
    run.set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="apply all database migrations").set_defaults(func=cmd_migrate)

    keys = sub.add_parser("keys", help="API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", help="issue a key; prints it once")
    create.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role if r is not Role.system],
        help='what the key may do (docs/API.md, "Roles", says what each may do)',
    )
    create.add_argument(
        "--department",
        help="department code: a department key's department, or a window key's service hall",
    )
    create.add_argument(
        "--holder",
        required=True,
        help="the person or system the key is given to (on the key and in the audit trail)",
    )
    create.add_argument("--label", help="what the key is for, for the key list (e.g. a desk)")
    create.add_argument(
        "--unbound",
        action="store_true",
        help="a window key of no service hall (every applicant masked); without it a window "
        "key needs --department",
    )
    create.set_defaults(func=cmd_keys_create)
    revoke = keys.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id", help="the key's id, as `keys create` or `keys list` printed it")
    revoke.set_defaults(func=cmd_keys_revoke)
    keys.add_parser("list", help="list keys (never their secrets)").set_defaults(func=cmd_keys_list)

    deps = sub.add_parser("departments", help="departments").add_subparsers(
        dest="dep_command", required=True
    )
    imp = deps.add_parser("import", help="import departments from a JSON list")
    imp.add_argument("file", help="a JSON list like examples/departments.sample.json")
    imp.set_defaults(func=cmd_departments_import)
    deps.add_parser("list", help="every department, a JSON line each").set_defaults(
        func=cmd_departments_list
    )
    rules = sub.add_parser("rules", help="the routing rule table").add_subparsers(
        dest="rules_command", required=True
    )
    rimp = rules.add_parser("import", help="save a rule table JSON file as the draft")
    rimp.add_argument("file", help="a rule table like examples/rules.sample.json")
    rimp.add_argument("--publish", action="store_true", help="and publish it as a new version")
    rimp.set_defaults(func=cmd_rules_import)
    show = rules.add_parser("show", help="print a rule table as JSON (the latest published one)")
    which = show.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, dest="table_version", help="a published version")
    which.add_argument("--draft", action="store_true", help="the saved draft")
    show.set_defaults(func=cmd_rules_show)

    matters = sub.add_parser("matters", help="the matter catalogue (办事指南)").add_subparsers(
        dest="matters_command", required=True
    )
    mimp = matters.add_parser("import", help="import the whole catalogue as a new version")
    mimp.add_argument("file", help="a catalogue like examples/matters.sample.json")
    mimp.set_defaults(func=cmd_matters_import)

    cal = sub.add_parser("calendar", help="the working-day calendar").add_subparsers(
        dest="calendar_command", required=True
    )
    load = cal.add_parser("load", help="load a year's holidays and make-up working days")
    load.add_argument("year", type=int, help="the year, e.g. 2027")
    load.add_argument("file", help='JSON: {"holidays": [dates], "workdays": [make-up dates]}')
    load.set_defaults(func=cmd_calendar_load)

    report = sub.add_parser("report", help="reports").add_subparsers(
        dest="report_command", required=True
    )
    month = report.add_parser("monthly", help="the monthly report as .xlsx or .json")
    month.add_argument("--month", required=True, help="YYYY-MM")
    month.add_argument("--out", required=True, help="a .xlsx or .json file")
    month.set_defaults(func=cmd_report_monthly)

    sla = sub.add_parser("sla", help="deadlines and cards").add_subparsers(
        dest="sla_command", required=True
    )
    sweep = sla.add_parser("sweep", help="issue the warnings, cards and auto-closes that are due")
    sweep.add_argument("--now", help="RFC 3339 time to sweep at (default: now)")
    sweep.add_argument("--batch", type=int, default=500, help="cases per transaction")
    sweep.set_defaults(func=cmd_sla_sweep)

    stats = sub.add_parser("stats", help="dashboard figures").add_subparsers(
        dest="stats_command", required=True
    )
    stats.add_parser("refresh", help="bring the daily rollups up to date now").set_defaults(
        func=cmd_stats_refresh
    )
    for action in p._subparsers._group_actions if p._subparsers else []:
        _named(action)
        for child in dict(action.choices or {}).values():
            for inner in child._subparsers._group_actions if child._subparsers else []:
                _named(inner)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at the interpreter's exit
        return code
    except BrokenPipeError:
        # The reader went away (`gaodedim keys list | head -1`): nothing more to say, and no
        # traceback when Python flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    if args.command != "run":
        # What the command changes (keys, departments, rules, the calendar) is audited as the
        # shell's: role `system`, the operator's account and host.
        words = [args.command] + [
            str(v) for k, v in vars(args).items() if k.endswith("_command") and v
        ]
        audit.at_shell(_operator(), " ".join(["gaodedim", *words]))
    try:
        return int(args.func(args, get_settings()))
    except DomainError as exc:
        return _report(exc.detail, [(e.field, e.message) for e in exc.errors])
    except ValidationError as exc:
        return _report("the input is not valid", [(_loc(e["loc"]), e["msg"]) for e in exc.errors()])
    except Unreadable as exc:
        return _report(str(exc), [])
    except AlreadyRunning as exc:
        _report(str(exc), [])
        return 3
    except ValueError as exc:
        return _report(str(exc), [])


if __name__ == "__main__":
    sys.exit(main())
