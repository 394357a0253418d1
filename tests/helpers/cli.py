"""The `gaodedim` CLI run as an operator runs it, in a child process."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
