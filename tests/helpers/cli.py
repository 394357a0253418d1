"""The `gaodedim` CLI run as an operator runs it, in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_into_closed_pipe(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The command with its output piped into a reader that is already gone (`| true`)."""
    command = " ".join([sys.executable, "-m", "cli", *args])
    return subprocess.run(
        f"{command} | true",
        shell=True,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def files_in(folder: Path) -> list[Path]:
    return list(folder.iterdir())
