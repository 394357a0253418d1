"""Contract fuzzing: schemathesis (PyPI) generates valid and invalid requests from each API's own
OpenAPI document and sends them over real HTTP to the running apps, on the real database with
the sample departments and rules loaded. Any 5xx fails, and so does any answer the document does
not describe (status, media type or body schema). `make fuzz` runs it (CI does too); it
is not part of `make test` because it takes minutes.

The number of examples per operation and the seed are fixed (FUZZ_EXAMPLES, FUZZ_SEED), so a
run is bounded and a failure can be reproduced; set another seed to explore further.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from intake_api.app import create_app as create_intake
from routing_api.app import create_app as create_routing
from shared.settings import Settings
from tests.helpers.bodies import ESTATE
from tests.helpers.keys import KeyFactory
from tests.helpers.serving import serve

pytestmark = [pytest.mark.fuzz, pytest.mark.usefixtures("sample_departments")]

EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "30"))
SEED = int(os.environ.get("FUZZ_SEED", "20261123"))
CHECKS = os.environ.get(
    "FUZZ_CHECKS",
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance",
)
"""No 5xx, and every answer is one the document promises: a documented status, its media type,
a body its schema accepts (so a generated client can parse whatever it gets)."""


def _schemathesis(base: str, key: str, report: Path) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    return subprocess.run(
        [
            str(st),
            "run",
            f"{base}/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            "2",
            "--request-timeout",
            "30",
            "--generation-database",
            "none",
            "--no-color",
            "--suppress-health-check",
            "all",
            "-H",
            f"Authorization: Bearer {key}",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )


@pytest.mark.parametrize(
    ("api", "role"),
    [
        # Routing as the admin, which may call nearly all of it; intake as a service-hall
        # window, which registers and reads cases, so the response checks see stored cases.
        ("routing", "admin"),
        ("intake", "window"),
        # The calls only they may make: the audit trail's filters, and unmasking with a reason
        # (and every case read masked).
        ("routing", "auditor"),
        ("intake", "supervisor"),
        # The keys (三员分立: only the security administrator issues, revokes and binds them).
        ("routing", "security_admin"),
        # 督办, 催办, the handover and the duty's figures: the coordinator's calls.
        ("routing", "coordinator"),
    ],
)
async def test_no_server_errors(
    api: str,
    role: str,
    settings: Settings,
    make_key: KeyFactory,
    routing: Any,
    intake: Any,
    tmp_path: Path,
) -> None:
    import asyncio

    from tests.helpers.rules import publish

    admin = await make_key("admin")
    await publish(routing, admin)
    caller = admin if role == "admin" else await make_key(role)
    if role != "window":  # a case to read, unmask and find on the trail
        r = await intake.post("/api/v1/cases", json=ESTATE, headers=await make_key("window"))
        assert r.status_code == 201, r.text
    key = caller["Authorization"].removeprefix("Bearer ")
    factory = create_routing if api == "routing" else create_intake
    fuzzed = settings.model_copy(update={"track_rate_limit_per_minute": 100_000})
    with serve(factory(fuzzed)) as url:
        result = await asyncio.to_thread(_schemathesis, url, key, tmp_path / "junit.xml")
    print(result.stdout[-3_000:])
    failures, tool_errors = _outcomes(tmp_path / "junit.xml")
    assert not failures, result.stdout[result.stdout.find("=== FAILURES") :][-20_000:]
    assert not tool_errors, "\n".join(tool_errors)


KNOWN_TOOL_BUG = "AST constructor recursion depth mismatch"
"""CPython 3.11.7's ast.parse can fail this way inside hypothesis (while it describes a lambda,
python/cpython#106905, fixed in 3.11.8); the operation it hit is then partly untested. Counted
and shown, not failed on: it says nothing about our server. Every other tool error fails."""


def _outcomes(junit: Path) -> tuple[list[str], list[str]]:
    """(failed checks, tool errors other than the known CPython bug) from schemathesis' report."""
    failures, errors = [], []
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        for failure in case.iter("failure"):
            failures.append(f"{case.get('name')}: {(failure.text or '')[:2000]}")
        for error in case.iter("error"):
            text = error.text or ""
            if KNOWN_TOOL_BUG in text:
                print(f"schemathesis hit the CPython 3.11.7 ast bug on {case.get('name')}")
            else:
                errors.append(f"{case.get('name')}: {text[:2000]}")
    return failures, errors
