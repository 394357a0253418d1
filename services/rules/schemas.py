"""The rule table, in exactly the format of `examples/rules.sample.json` (read its `comment`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from shared.durations import DurationField, parse_duration
from shared.enums import ApplicantType, Category, Channel

RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
PolicyName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Keyword = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Keywords = Annotated[list[Keyword], Field(min_length=1, max_length=200)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlaPolicy(Model):
    sign_within: DurationField
    handle_within: DurationField
    warn_at: Annotated[float, Field(gt=0, lt=1)] = 0.8
    red_after: DurationField
    reply_review: Literal["none", "hall", "coordinator"] = "none"
    """答复审核: who approves the lead's reply before the citizen reads it (`hall`: the
    registering hall's window or a coordinator)."""


class CardPolicy(Model):
    yellow_points: Annotated[int, Field(ge=0, le=100)] = 1
    red_points: Annotated[int, Field(ge=0, le=100)] = 3
    red_when_yellows_in_month: Annotated[int, Field(ge=1, le=100)] = 3
    auto_close_after: DurationField | None = None
    supervision_card: Literal["none", "yellow", "red"] = "yellow"
    """The card a 督办单 left unanswered past its time gives the department (its points as
    the colour's above); `none`: the order is marked overdue and the duty is told, no card."""


Threshold = Annotated[int, Field(ge=1, le=1000)]


class EscalationPolicy(Model):
    """提级: when a case is raised one level (street → district → city), each threshold once per
    case; `null` turns one off. Versioned with the table: a case keeps the thresholds of the
    version that routed it."""

    reopened: Threshold | None = 2
    transferred: Threshold | None = 3
    returned: Threshold | None = 2
    overdue: DurationField | None = Field(
        default_factory=lambda: parse_duration("3 working_days"),
        description="handling overdue by this much (`3 working_days` when left out)",
    )
    repeats: Threshold | None = 5
    respond_within: DurationField = Field(
        default_factory=lambda: parse_duration("2 working_days"),
        description="the order the raised level issues is due in this (`2 working_days`)",
    )


class Rule(Model):
    id: RuleId
    priority: StrictInt
    channels: list[Channel] | None = None
    categories: list[Category] | None = None
    districts: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = None
    applicant_types: list[ApplicantType] | None = None
    matter_code_prefix: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    urgent: StrictBool | None = None
    vulnerable: StrictBool | None = None
    keywords_any: Keywords | None = None
    keywords_all: Keywords | None = None
    keywords_none: Keywords | None = None
    lead_department: Code
    co_departments: list[Code] = Field(default_factory=list)
    sla_policy: PolicyName
    assist_within: DurationField | None = Field(
        default=None,
        description="协办: how long each co-department has for its opinion, in working time; "
        "left out: half the lead's handling time",
    )


class RuleTable(Model):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fallback_department": "GZ-ZWFW",
                    "sla_policies": {
                        "standard": {
                            "sign_within": "2 working_hours",
                            "handle_within": "5 working_days",
                            "warn_at": 0.8,
                            "red_after": "3 working_days",
                        }
                    },
                    "card_policy": {"auto_close_after": "7 days"},
                    "rules": [
                        {
                            "id": "estate-illegal-mark",
                            "priority": 100,
                            "keywords_all": ["违章"],
                            "keywords_any": ["不动产", "房屋", "转移登记"],
                            "lead_department": "GZ-BDC",
                            "co_departments": ["GZ-GHZY"],
                            "sla_policy": "standard",
                        }
                    ],
                }
            ]
        }
    )

    comment: str | None = None
    fallback_department: Code
    sla_policies: dict[PolicyName, SlaPolicy]
    card_policy: CardPolicy = Field(default_factory=CardPolicy)
    escalation: EscalationPolicy = Field(default_factory=EscalationPolicy)
    rules: Annotated[list[Rule], Field(max_length=50_000)]


class CaseFacts(Model):
    """What routing looks at in a case; the same from a stored case and from an explain body."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    channel: Channel | None = None
    title: str | None = None
    description: str = ""
    category: Category | None = None
    matter_code: str | None = None
    district: str | None = None
    applicant_type: ApplicantType = ApplicantType.individual
    urgent: StrictBool = False
    vulnerable: StrictBool = False
    intake_department: str | None = None
