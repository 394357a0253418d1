"""Policy durations: "N unit", natural (seconds … days) or working (working_hours, working_days)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

NATURAL_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
WORKING_UNITS = ("working_hours", "working_days")
_PATTERN = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s+([a-z_]+)\s*$")

Unit = Literal["seconds", "minutes", "hours", "days", "working_hours", "working_days"]


@dataclass(frozen=True)
class Duration:
    amount: float
    unit: str

    @property
    def is_working(self) -> bool:
        return self.unit in WORKING_UNITS

    def natural(self) -> timedelta:
        return timedelta(seconds=self.amount * NATURAL_UNITS[self.unit])

    def __str__(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount} {self.unit}"


def parse_duration(text: str) -> Duration:
    match = _PATTERN.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"'{text}' is not a duration like '5 working_days' or '30 minutes'")
    amount, unit = float(match.group(1)), match.group(2)
    if unit not in NATURAL_UNITS and unit not in WORKING_UNITS:
        allowed = ", ".join([*NATURAL_UNITS, *WORKING_UNITS])
        raise ValueError(f"unknown unit '{unit}'; one of {allowed}")
    if amount <= 0:
        raise ValueError("a duration must be positive")
    return Duration(amount, unit)


def _coerce(value: object) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise ValueError("a duration is a string like '5 working_days'")
    return parse_duration(value)


DURATION_SCHEMA = {
    "type": "string",
    "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s+"
    r"(seconds|minutes|hours|days|working_hours|working_days)\s*$",
    "description": "N and a unit: seconds, minutes, hours, days (natural time) or working_hours, "
    "working_days (the calendar's working time)",
    "examples": ["5 working_days", "2 working_hours", "30 minutes"],
}
"""What a client sends and receives: the text, in both directions (not the parsed object)."""

DurationField = Annotated[
    Duration,
    BeforeValidator(_coerce),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(DURATION_SCHEMA),
]
