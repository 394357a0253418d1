"""Bodies of the 督办 and 催办 calls."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, field_validator

from services.case.schemas import Strict, Text
from shared.durations import Duration, DurationField, parse_duration

LIMITS: dict[str, tuple[float, float]] = {
    "working_days": (0.125, 30),
    "working_hours": (1, 240),
    "days": (0.125, 45),
    "hours": (1, 1080),
}
"""An order is a push, not a second deadline: an hour at the least, a month at the most."""


class Supervise(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "重办两次仍未解决,请于两个工作日内反馈办理进展",
                    "respond_within": "2 working_days",
                }
            ]
        }
    )

    reason: Annotated[Text, Field(max_length=2000)]
    respond_within: DurationField = Field(
        default_factory=lambda: parse_duration("2 working_days"),
        description="how long the department has to answer, from the order, in working time "
        "(`2 working_days`, `4 working_hours`) or natural time; at least an hour, at most "
        "30 working days; `2 working_days` when left out",
    )

    @field_validator("respond_within")
    @classmethod
    def _bounded(cls, value: Duration) -> Duration:
        if value.unit not in LIMITS:
            raise ValueError("in working_days, working_hours, days or hours")
        lowest, highest = LIMITS[value.unit]
        if not lowest <= value.amount <= highest:
            raise ValueError(f"between {lowest:g} and {highest:g} {value.unit}")
        return value


class Respond(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"progress": "已约谈规划部门,12月9日前出具历史处理证明,届时办结并答复申请人"}
            ]
        }
    )

    progress: Annotated[Text, Field(max_length=4000)]


class Remind(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "申请人第三次来电询问进度,请尽快办理"}]}
    )

    note: Annotated[Text, Field(max_length=2000)]
