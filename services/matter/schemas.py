"""The matter catalogue as an administrator imports it (`examples/matters.sample.json`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from services.case.schemas import DepartmentCode, Strict, Text

MatterCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
"""The code a registration's `matter_code` and the rule table's `matter_code_prefix` use."""
AnswerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


class StandardAnswer(Strict):
    id: AnswerId
    question: Annotated[Text, Field(max_length=200)]
    answer: Annotated[Text, Field(max_length=2000)]


class MatterIn(Strict):
    code: MatterCode
    name: Annotated[Text, Field(max_length=200)]
    department: DepartmentCode = Field(description="the department that handles the matter")
    materials: list[Annotated[Text, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=60,
        description="what to bring: told once and in full (一次性告知)",
    )
    legal_basis: Annotated[Text, Field(max_length=2000)] | None = None
    promised_days: int | None = Field(
        default=None, ge=0, le=365, description="承诺办结时限, working days (0: on the spot)"
    )
    answers: list[StandardAnswer] = Field(
        default_factory=list, max_length=50, description="standard answers to common questions"
    )

    @model_validator(mode="after")
    def _answers_once(self) -> MatterIn:
        ids = [a.id for a in self.answers]
        if len(ids) != len(set(ids)):
            raise ValueError("answers: each id once within a matter")
        return self


class Catalogue(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "matters": [
                        {
                            "code": "BDC-ZYDJ",
                            "name": "不动产转移登记(二手房买卖)",
                            "department": "GZ-BDC",
                            "materials": ["不动产登记申请书", "身份证明", "不动产权证书"],
                            "legal_basis": "《不动产登记暂行条例》第十四条",
                            "promised_days": 5,
                            "answers": [
                                {
                                    "id": "illegal-mark",
                                    "question": "房屋有历史违章注记能否办理?",
                                    "answer": "由登记中心内部核查处理结果,无需申请人另行取证。",
                                }
                            ],
                        }
                    ]
                }
            ]
        }
    )

    comment: str | None = Field(default=None, max_length=2000)
    matters: list[MatterIn] = Field(max_length=20000)

    @model_validator(mode="after")
    def _codes_once(self) -> Catalogue:
        codes = [m.code for m in self.matters]
        if len(codes) != len(set(codes)):
            raise ValueError("matters: each code once")
        return self
