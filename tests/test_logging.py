"""One log format per process: our lines and uvicorn's, arq's and the supervisor's alike, JSON
or (on a terminal) console lines, never both; SQLAlchemy's configuration chatter never."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from shared.logging import configure


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    configure("INFO")  # back to stderr, as the app factories leave it


def _write_one_of_each() -> None:
    structlog.get_logger("gaodedim.test").info("ours", case_no="GZ-20261123-000001")
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    logging.getLogger("arq.worker").info("  0.01s ← cron:sla_sweep ● 0")  # idle: never shown
    logging.getLogger("arq.worker").warning("job sla_sweep timed out")  # a problem: shown
    logging.getLogger("gaodedim.supervisor").info("ready")
    logging.getLogger("sqlalchemy.orm.mapper.Mapper").info("(Case|cases) initialize prop id")
    logging.getLogger("sqlalchemy.pool.impl.AsyncAdaptedQueuePool").info("Pool recreating")


@pytest.mark.usefixtures("restore_logging")
def test_every_line_is_json_off_a_terminal() -> None:
    out = io.StringIO()
    configure("INFO", stream=out, fmt="auto")
    _write_one_of_each()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == [
        "ours",
        "Application startup complete.",
        "job sla_sweep timed out",
        "ready",
    ]
    assert lines[1]["logger"] == "uvicorn.error"


@pytest.mark.usefixtures("restore_logging")
def test_a_terminal_gets_console_lines_only() -> None:
    out = Terminal()
    configure("INFO", stream=out, fmt="auto")
    _write_one_of_each()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert all(not line.startswith("{") for line in lines)
    assert all("+08:00" in line for line in lines)  # the console shows Shanghai time
    assert "Application startup complete." in lines[1]
    forced = io.StringIO()
    configure("INFO", stream=forced, fmt="console")
    structlog.get_logger("gaodedim.test").info("ours")
    assert not forced.getvalue().startswith("{")
