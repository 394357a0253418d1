"""Bodies of the department and coordinator actions."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, StringConstraints, model_validator

from services.case.schemas import DepartmentCode, Strict, Text
from shared.durations import DurationField

Reason = Annotated[Text, Field(max_length=2000)]


class Sign(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "已签收,经办人王工 020-83190000"}]}
    )

    note: Reason | None = None


class Return(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "该事项属规划部门职责,请改派市规划和自然资源局"}]
        }
    )

    reason: Reason


class Transfer(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"to_department": "GZ-GHZY", "reason": "违章注记的历史处理证明由规划部门出具"}
            ]
        }
    )

    to_department: DepartmentCode
    reason: Reason


class Suspend(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "等待申请人补交购房合同原件",
                    "required_materials": ["购房合同原件", "身份证复印件"],
                }
            ]
        }
    )

    reason: Reason
    required_materials: Annotated[
        list[Annotated[Text, Field(max_length=200)]], Field(max_length=50)
    ] = Field(default_factory=list)


class Resume(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "申请人已补交材料"}]})

    note: Reason | None = None


class Reply(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reply": "已协调规划部门出具历史处理证明,可办理转移登记"}]}
    )

    reply: Annotated[Text, Field(max_length=5000)]


class Assign(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "department": "GZ-BDC",
                    "co_departments": ["GZ-GHZY"],
                    "reason": "退单两次,由不动产登记中心牵头办理",
                }
            ]
        }
    )

    department: DepartmentCode
    co_departments: Annotated[list[DepartmentCode], Field(max_length=20)] = Field(
        default_factory=list
    )
    sla_policy: Annotated[str, Field(max_length=32)] | None = None
    reason: Reason


class ExtensionRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"extend_by": "3 working_days", "reason": "需调取三十年前的档案"}]
        }
    )

    extend_by: DurationField
    reason: Reason


class ExtensionDecision(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"approve": True, "note": "同意延期3个工作日"}]}
    )

    approve: StrictBool
    note: Reason | None = None


class AddCoDepartment(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"department": "GZ-CGJ", "reason": "违章建筑的历史处罚记录由城管部门提供"}]
        }
    )

    department: DepartmentCode
    reason: Reason


class AssistOpinion(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"opinion": "经查,该房屋1992年违章已处罚结案,可出具处理证明"}]
        }
    )

    opinion: Annotated[Text, Field(max_length=5000)]


class WaiveAssist(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "城管部门已口头确认,不再等待书面意见"}]}
    )

    reason: Reason


class ApproveReply(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "答复依据充分,同意答复"}]})

    note: Reason | None = None


class SendBack(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "答复未说明历史处理证明何时出具,请补充办理时限后再答复"}]
        }
    )

    reason: Reason


class RatingDecision(StrEnum):
    reopen = "reopen"
    """重办: the rating was fair; the lead handles the case again, with a new deadline."""
    uphold = "uphold"
    """The answer stands (a lawful refusal, a mistaken or malicious rating): the case closes."""


class RatingReviewDecision(Strict):
    """不满意甄别: a coordinator's decision on an unsatisfied rating. Upholding needs the reason
    the applicant is told; reopening may say why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "decision": "uphold",
                    "reason": "申请人不符合公租房保障条件，答复依据充分，已电话解释",
                },
                {"decision": "reopen", "reason": "答复未回应证明何时出具"},
            ]
        }
    )

    decision: RatingDecision
    reason: Reason | None = None

    @model_validator(mode="after")
    def _upheld_says_why(self) -> RatingReviewDecision:
        if self.decision is RatingDecision.uphold and not self.reason:
            raise ValueError("reason: upholding an answer says why (the applicant is told)")
        return self


CaseNos = Annotated[
    list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,40}$")]],
    Field(min_length=1, max_length=50),
]


class Merge(Strict):
    """并单: the cases to follow this one, and why they are one matter."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_nos": ["GZ-20261118-000002", "GZ-20261118-000005"],
                    "reason": "同一小区加装电梯意见征询,同一街道办理",
                }
            ]
        }
    )

    case_nos: CaseNos
    reason: Reason


class Unmerge(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"case_nos": ["GZ-20261118-000005"], "reason": "该户诉求另涉物业纠纷"}]
        }
    )

    case_nos: CaseNos
    reason: Reason


class HandedOver(Strict):
    case_no: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,40}$")]
    request_id: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="the registration's own request id, for the log lines"
    )


class RouteGroup(Strict):
    """Cases intake stored at about the same time, handed over in one call (issue 32)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cases": [
                        {"case_no": "GZ-20261118-000001", "request_id": "desk-3-req-0042"},
                        {"case_no": "GZ-20261118-000002", "request_id": "portal-7f3a"},
                    ]
                }
            ]
        }
    )

    cases: Annotated[list[HandedOver], Field(min_length=1, max_length=100)]
