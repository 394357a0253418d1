"""Bodies of the 整改 calls."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from services.case.schemas import DepartmentCode, Strict, Text

CaseNo = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{1,40}$")]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Words = Annotated[Text, Field(max_length=2000)]


class Change(StrEnum):
    """What a rectification changed (从制度上理顺)."""

    policy = "policy"
    process = "process"
    system = "system"
    rule = "rule"
    training = "training"


class RectificationCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "历史违章注记导致不动产转移登记办不成",
                    "problem": "近三个月12宗转移登记因历史违章注记被拒，需规划部门出具证明，"
                    "申请人往返多次",
                    "department": "GZ-GHZY",
                    "due": 20,
                    "topic": ["违章", "注记", "转移登记"],
                    "case_nos": ["GZ-20261118-000001"],
                }
            ]
        }
    )

    title: Annotated[Text, Field(max_length=200)]
    problem: Words
    department: DepartmentCode = Field(description="the owner: the department that makes the fix")
    due: int = Field(ge=1, le=250, description="working days from now to get it done")
    topic: list[Keyword] = Field(
        default_factory=list,
        max_length=8,
        description="keywords as `GET /api/v1/stats/common-issues` gives a topic's, its first "
        "word first: cases registered after `done` that hold it (and one of the others, if "
        "any) count as its recurrence",
    )
    case_nos: list[CaseNo] = Field(
        default_factory=list, max_length=200, description="the cases that showed the problem"
    )

    @model_validator(mode="after")
    def _says_which_cases(self) -> RectificationCreate:
        if not self.topic and not self.case_nos:
            raise ValueError("topic: give a topic, the cases, or both")
        return self


class Start(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "已成立专班，牵头修订历史违章注记处理规程"}]}
    )

    note: Words | None = None


class Done(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "change": "process",
                    "note": "历史违章注记改由登记中心内部核查，不再要求申请人另行取证",
                    "document_ref": "穗规划资源规〔2026〕12号",
                }
            ]
        }
    )

    change: Change = Field(description="what was changed: policy, process, system, rule, training")
    note: Words = Field(description="what changed, in words")
    document_ref: Annotated[Text, Field(max_length=200)] = Field(
        description="the document that says so (文号, a system release, a training record)"
    )


class Verify(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "抽查12月同类案件，窗口已当场受理"}]}
    )

    note: Words | None = None


class Reopen(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "新规施行后同类案件仍有3宗，未见成效", "due": 10}]
        }
    )

    reason: Words
    due: int | None = Field(
        default=None,
        ge=1,
        le=250,
        description="a new due time, in working days from now (none: the one it had)",
    )
