"""A unit's shifts as the coordinator enters them: Shanghai days and wall-clock times."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator

from services.case.schemas import Phone, Strict, Text
from shared.enums import Duty

EXAMPLE: dict[str, Any] = {
    "shifts": [
        {
            "date": "2026-12-07",
            "from": "08:30",
            "to": "17:30",
            "name": "王主任",
            "duty": "leader",
            "phone": "13800138000",
        },
        {
            "date": "2026-12-07",
            "from": "17:30",
            "to": "08:30",
            "name": "李科长",
            "duty": "chief",
            "phone": "020-83000000",
        },
    ]
}


class ShiftIn(Strict):
    model_config = ConfigDict(populate_by_name=False)

    date: Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
    starts: time = Field(alias="from", description="Shanghai wall-clock time, `HH:MM`")
    ends: time = Field(
        alias="to", description="Shanghai time; at or before `from`: the next morning"
    )
    name: Annotated[Text, Field(max_length=100)]
    duty: Duty = Field(description="值班领导 `leader`, 总值班 `chief`, 巡值 `patrol`")
    phone: Phone

    @model_validator(mode="after")
    def _whole_minutes(self) -> ShiftIn:
        for value in (self.starts, self.ends):
            if value.second or value.microsecond or value.tzinfo:
                raise ValueError("times are Shanghai wall-clock minutes, `HH:MM`")
        return self


class Roster(Strict):
    """The shifts of the days they name: each named day's shifts are replaced as a whole (a day
    given with no shift is not cleared: send the day's shifts again without the one to drop)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    shifts: Annotated[list[ShiftIn], Field(min_length=1, max_length=500)]
