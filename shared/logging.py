"""Structured JSON logs (structlog) for every logger in the process: ours, uvicorn's, arq's and
SQLAlchemy's go through one pipeline, so a process writes one format.

Personal data never reaches a log line, whatever fails:
- exceptions are logged as their type, the database's error code and the frames (file, line,
  function), never their message: a database error's message can quote the row it refused
  (a name, a phone, an ID number), and SQLAlchemy appends the statement's parameters;
- every string is scrubbed of what looks like a mainland mobile number or a resident ID
  number, as a second line of defence for a message someone writes carelessly later;
- callers log case numbers, routes and statuses, never bodies, headers or query strings.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import datetime
from types import TracebackType
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger

from shared.text import ID_NUMBER_IN_TEXT, MOBILE_IN_TEXT, TRACKING_IN_TEXT, mask_code
from shared.timeutil import SHANGHAI

FOREIGN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "arq", "sqlalchemy", "asyncio")
"""Libraries that install handlers of their own (uvicorn's CLI does); they are made to propagate
to the root handler below instead, so their lines are JSON and scrubbed like ours."""


def scrub(text: str) -> str:
    # ID numbers first: a mobile-shaped run of digits may sit inside a spaced-out ID number.
    text = MOBILE_IN_TEXT.sub("<phone>", ID_NUMBER_IN_TEXT.sub("<id-number>", text))
    return TRACKING_IN_TEXT.sub(lambda m: m.group(1) + (mask_code(m.group(2)) or ""), text)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {
            k: _masked_code(v) if k == "tracking_code" else _scrub_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub_value(v) for v in value]
    return value


def _masked_code(value: Any) -> Any:
    return mask_code(value) if isinstance(value, str) else value


def _exception_record(
    kind: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> dict[str, Any]:
    """What an operator needs to find the fault, and nothing a row could have put there."""
    record: dict[str, Any] = {
        "type": f"{kind.__module__}.{kind.__qualname__}",
        "frames": [
            f"{frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(tb)[-12:]
        ],
    }
    causes: list[str] = []
    seen: BaseException | None = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    while seen is not None and len(causes) < 5:  # SQLAlchemy wraps the adapter wraps the driver
        causes.append(f"{type(seen).__module__}.{type(seen).__qualname__}")
        sqlstate = getattr(seen, "sqlstate", None)
        if isinstance(sqlstate, str):
            record["sqlstate"] = sqlstate
        seen = seen.__cause__ or seen.__context__
    if causes:
        record["causes"] = causes
    return record


class _CurrentStderr:
    """sys.stderr as it is when a line is written, not when logging was configured (a test
    runner or a daemon may swap it, and a handler holding the old one writes to a closed file)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def safe_exc_info(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Replace `exc_info` (and any rendered `exception`) by `_exception_record`."""
    info = event.pop("exc_info", None)
    event.pop("exception", None)
    if info is True:
        info = sys.exc_info()
    if isinstance(info, BaseException):
        info = (type(info), info, info.__traceback__)
    if isinstance(info, tuple) and info[0] is not None:
        event["exception"] = _exception_record(info[0], info[1], info[2])
    return event


def scrub_event(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    scrubbed: EventDict = _scrub_value(dict(event))
    return scrubbed


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def in_shanghai(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """A console line's time as the people reading it live it (JSON keeps UTC, with its
    offset, for machines)."""
    stamp = event.get("timestamp")
    if isinstance(stamp, str):
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return event
        event["timestamp"] = moment.astimezone(SHANGHAI).isoformat(timespec="seconds")
    return event


def configure(level: str = "INFO", stream: TextIO | None = None, fmt: str = "auto") -> None:
    """One format for every line a process writes, ours and its libraries' alike: JSON, or
    (`fmt` "console", or "auto" on a terminal) structlog's readable console lines. The processes
    `gaodedim run` starts share its terminal, so they all choose the same."""
    out: Any = stream or _CurrentStderr()
    target = stream or sys.stderr
    console = fmt == "console" or (fmt == "auto" and target.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if console
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    local: list[Any] = [in_shanghai] if console else []
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_shared_processors(), structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                safe_exc_info,
                scrub_event,
                *local,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in FOREIGN_LOGGERS:
        foreign = logging.getLogger(name)
        foreign.handlers = []
        foreign.propagate = True
        foreign.setLevel(logging.NOTSET)  # uvicorn sets its own levels; LOG_LEVEL decides
    # uvicorn's access log repeats what the request metrics count, two lines per hand-over, even
    # when it is started with --no-access-log (the line then propagates here): kept to warnings.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # SQLAlchemy's engine logger would print statements and parameters at INFO (and its mapper
    # some 900 lines of configuration per process), httpx and httpcore every URL called (a
    # tracking look-up's digits, a callback's query): never.
    for chatty in ("sqlalchemy", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # arq writes two lines per job run (some 35 a minute with the crons idle); our jobs log
    # what they did, when they did something (sla_worker/worker.py).
    for chatty in ("arq.worker", "arq.jobs"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*_shared_processors(), safe_exc_info, scrub_event, *local, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
