"""What a case must look like coming in. Strict: a string is not a bool, an unknown field is
refused, every text has a length limit. The APIs use these models as their request bodies."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from services.validation import id_number_problem, is_valid_phone, normalise_phone
from shared.enums import ApplicantType, Category, Channel, Kind, Satisfaction, Trigger

DESCRIPTION_MAX = 5000


def _phone(value: str) -> str:
    value = normalise_phone(value)
    if not is_valid_phone(value):
        raise ValueError("not a valid mainland phone number (mobile 1xxxxxxxxxx or 0xx-xxxxxxxx)")
    return value


def _id_number(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip().upper()
    problem = id_number_problem(value)
    if problem:
        raise ValueError(f"not a valid resident ID number: {problem}")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(_phone)]
IdNumber = Annotated[str, StringConstraints(max_length=18), AfterValidator(_id_number)]
DepartmentCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Applicant(Strict):
    name: Annotated[Text, Field(max_length=50)] | None = None
    phone: Phone
    id_number: IdNumber | None = None
    type: ApplicantType = ApplicantType.individual
    org_name: Annotated[Text, Field(max_length=200)] | None = None
    wechat_openid: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{6,64}$")] | None = (
        Field(
            default=None,
            description="the applicant's openid in the city's WeChat mini program: notices go "
            "there as subscribe messages (SMS when WeChat will not take one)",
        )
    )

    @model_validator(mode="after")
    def _enterprise_has_name(self) -> Applicant:
        if self.type is ApplicantType.enterprise and not self.org_name:
            raise ValueError("org_name is required for an enterprise applicant")
        return self


class Location(Strict):
    lat: Annotated[float, Field(ge=-90, le=90, strict=False)]
    long: Annotated[float, Field(ge=-180, le=180, strict=False)]
    address: Annotated[Text, Field(max_length=200)] | None = None
    public: bool = False
    """The place is a public one (a road, a service hall), so public feeds may show the address
    and coordinates; otherwise they show the district only."""


class CaseCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channel": "window",
                    "intake_department": "GZ-BDC",
                    "district": "越秀区",
                    "title": "房屋转移登记因违章注记无法办理",
                    "description": "房屋存在违章注记,三十多年前的罚款单据找不到,转移登记无法办理。",
                    "category": "materials",
                    "trigger": "materials_refused",
                    "applicant": {"name": "黄丽华", "phone": "13800138001", "type": "individual"},
                }
            ]
        }
    )

    channel: Channel
    description: Annotated[Text, Field(max_length=DESCRIPTION_MAX)]
    title: Annotated[Text, Field(max_length=200)] | None = None
    category: Category | None = None
    trigger: Trigger | None = None
    kind: Kind | None = None
    matter_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")] | None = None
    district: Annotated[Text, Field(max_length=64)] | None = None
    urgent: StrictBool = False
    vulnerable: StrictBool = False
    intake_department: DepartmentCode | None = None
    applicant: Applicant
    attachments: Annotated[list[HttpUrl], Field(max_length=20)] = Field(default_factory=list)
    location: Location | None = None
    notices: StrictBool | None = Field(
        default=None,
        description="notices to the applicant: false, none at all (the person said so); true "
        "on a hotline case, the hotline asks us to notify its caller too (otherwise its own "
        "callback tells it); none, the channel's default",
    )
    hold: StrictBool = False
    """The window is still trying to settle it on the spot: routing waits for a resolution,
    a referral or a hand-over, and takes the case itself when WINDOW_HOLD runs out."""

    @field_validator("hold")
    @classmethod
    def _hold_at_a_window(cls, hold: bool, info: ValidationInfo) -> bool:
        if hold and info.data.get("channel") is not Channel.window:
            raise ValueError("only a case registered at a window (channel 'window') can be held")
        return hold


class ResolveOnSpot(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"note": "当场一次性告知继承登记所需材料清单,已预约补件"},
                {"note": "按标准答复当场解释", "answer_id": "BDC-ZYDJ#illegal-mark"},
            ]
        }
    )

    note: Annotated[Text, Field(max_length=2000)]
    answer_id: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}#[A-Za-z0-9_-]{1,32}$")]
        | None
    ) = Field(
        default=None,
        description="a standard answer of the matter catalogue the window gave, `<matter "
        "code>#<answer id>` (办事指南); kept with the step and shown on the tracking card",
    )


class OutOfScope(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "referred_to": "越秀区人民法院",
                    "explanation": "房产继承纠纷属司法程序,已告知起诉途径",
                }
            ]
        }
    )

    referred_to: Annotated[Text, Field(max_length=200)]
    explanation: Annotated[Text, Field(max_length=2000)]


class Feedback(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"satisfaction": "satisfied", "resolved": True, "comment": "一次办好"},
                {"satisfaction": "very_unsatisfied", "resolved": False},
            ]
        }
    )

    satisfaction: Satisfaction = Field(
        description="the national 好差评 scale: very_satisfied 非常满意, satisfied 满意, "
        "basically_satisfied 基本满意, unsatisfied 不满意, very_unsatisfied 非常不满意 (the "
        "first three count as satisfied); unsatisfied goes to 不满意甄别 (`rating_review`)"
    )
    resolved: StrictBool | None = Field(
        default=None,
        description="解决率: did the matter get solved, in the applicant's words (none: not said)",
    )
    comment: Annotated[Text, Field(max_length=1000)] | None = None


def _words(reason: str) -> str:
    """A stated reason is words the auditor can read: at least four letters or digits, not
    dots, dashes or invisible characters (issue 26 #8)."""
    seen = sum(1 for c in reason if unicodedata.category(c)[0] in "LN")
    if seen < 4:
        raise ValueError("say why in words: at least four letters or digits")
    return reason


class Unmask(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "申诉复核需核实申请人身份(督查2026-118号)"}]}
    )

    reason: Annotated[Text, Field(min_length=4, max_length=500), AfterValidator(_words)]


class NoticeChoice(Strict):
    """The applicant's choice of notices for one case, proven as tracking proves it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone_last4": "8001", "notices": False}]}
    )

    phone_last4: Annotated[
        str,
        Field(
            pattern=r"^[0-9]{4}$",
            description="last four digits of the phone given at registration",
        ),
    ]
    notices: StrictBool = Field(description="false: no more notices of this case; true: again")
