"""A client generated from the committed OpenAPI document works: openapi-python-client (PyPI)
generates it, `mypy --strict` type-checks an integrator's code against it
(tests/client_walk/walk.py), and that code registers a case, reads it and looks it up over real
HTTP. A document whose bodies were untyped, or that drifted from the app, fails here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from intake_api.app import create_app as create_intake
from shared.settings import Settings
from tests.helpers.keys import KeyFactory
from tests.helpers.serving import serve

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

MYPY_CONFIG = """[mypy]
strict = true
python_version = 3.11

[mypy-gaodedim_intake.client]
# The generator's own template forwards `*args: object` to httpx's __exit__, which mypy
# --strict refuses whatever the document says; everything generated from the document is
# checked.
disable_error_code = arg-type
"""


def _run(*args: str, cwd: Path) -> str:
    # The generator formats its output with ruff, which it looks for on PATH.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("client")
    out = _run(
        str(BIN / "openapi-python-client"),
        "generate",
        "--path",
        str(ROOT / "docs" / "openapi" / "intake.json"),
        "--meta",
        "none",
        "--output-path",
        str(work / "gaodedim_intake"),
        cwd=work,
    )
    assert "Warning" not in out, out  # a part of the document the generator could not type
    shutil.copy(ROOT / "tests" / "client_walk" / "walk.py", work / "walk.py")
    (work / "mypy.ini").write_text(MYPY_CONFIG)
    return work


def test_an_integrators_code_type_checks_against_the_generated_client(generated: Path) -> None:
    _run(
        str(BIN / "mypy"), "--config-file", "mypy.ini", "walk.py", "gaodedim_intake", cwd=generated
    )


async def test_the_generated_client_registers_and_tracks_a_case(
    generated: Path, settings: Settings, make_key: KeyFactory, monkeypatch: Any
) -> None:
    monkeypatch.syspath_prepend(str(generated))
    from walk import walk  # type: ignore[import-not-found]

    window = await make_key("window")
    key = window["Authorization"].removeprefix("Bearer ")
    with serve(create_intake(settings)) as url:
        case, seen, missing = await walk(url, key)
    assert case.case_no.startswith("GZ-")
    assert case.applicant.phone == "13800138001"  # a window sees the applicant in full
    assert case.history
    assert case.history[0].action == "register"
    assert seen.case_no == case.case_no
    assert seen.status == case.status
    assert missing.status == 404
