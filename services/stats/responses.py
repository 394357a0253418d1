"""The dashboard's figures as models (see `shared.view`). Rates are percentages with one
decimal, None where there is nothing to divide by (no case timed, none rated)."""

from __future__ import annotations

from pydantic import Field

from shared.view import View

Rate = float | None


class Summary(View):
    received: int = Field(examples=[1200], description="受理总量")
    matters: int = Field(
        default=0,
        examples=[1150],
        description="the matters among them: a group of merged cases (并单) is one",
    )
    merged: int = Field(default=0, description="cases merged into another (并单)")
    resolved_on_spot: int = Field(description="当场解决")
    resolved_on_spot_rate: Rate = Field(examples=[62.5])
    out_of_scope: int = Field(description="非政务服务范围")
    in_progress: int
    closed: int
    closed_on_time: int
    closed_on_time_rate: Rate
    satisfaction_rate: Rate = Field(
        description="满意率 (raw): 非常满意, 满意 and 基本满意 among the rated, every rating "
        "counted as the applicant gave it"
    )
    satisfaction_rate_upheld_aside: Rate = Field(
        default=None,
        description="满意率 (upheld set aside): the same, leaving out the unsatisfied ratings "
        "whose answer a coordinator upheld (不满意甄别)",
    )
    upheld: int = Field(default=0, description="unsatisfied ratings whose answer was upheld")
    response_rate: Rate = Field(
        default=None,
        examples=[99.7],
        description="响应率: signed by the sign deadline, of the cases whose sign clock ended",
    )
    responded: int = 0
    response_due: int = 0
    resolution_rate: Rate = Field(
        default=None,
        examples=[92.3],
        description="解决率: said solved, of the applicants who said whether it was",
    )
    solved: int = 0
    solve_asked: int = Field(default=0, description="applicants who said whether it was solved")
    rated: int
    asked_to_rate: int = Field(description="answered or settled, so the applicant was asked")
    rating_response_rate: Rate = Field(
        description="the rated among those asked (by SMS reply or at the window)"
    )
    followed_up: int = Field(description="跟踪督办")
    followed_up_resolved: int
    repeats: int = Field(description="重复件")


class DepartmentFigures(View):
    department: str = Field(examples=["GZ-RSJ"])
    name: str | None = Field(examples=["市人力资源和社会保障局"])
    cases: int = Field(description="the period's cases it led")
    assists: int = Field(
        default=0, description="协办: the period's cases it was asked to help with"
    )
    in_progress: int
    on_time_rate: Rate
    response_rate: Rate = Field(default=None, description="响应率")
    resolution_rate: Rate = Field(default=None, description="解决率")
    satisfaction_rate: Rate = Field(default=None, description="满意率 (raw)")
    satisfaction_rate_upheld_aside: Rate = Field(
        default=None, description="满意率 (upheld answers set aside)"
    )
    yellow: int
    red: int
    deducted: int = Field(description="points the month's standing cards deduct")
    score: int = Field(description="100 less the points deducted")


class CategoryFigures(View):
    category: str | None = Field(examples=["materials"], description="None: uncategorised")
    label: str = Field(examples=["材料原因办不成"])
    cases: int
    in_progress: int
    resolved_on_spot: int


class DayFigures(View):
    date: str = Field(examples=["2026-11-23"], description="the Shanghai day of registration")
    received: int
    resolved_on_spot: int
    replied: int


class TopicExample(View):
    case_no: str
    title: str | None


class TopicDepartment(View):
    department: str
    cases: int


class Topic(View):
    """共性问题: a topic recurring among the period's cases."""

    topic: str = Field(examples=["社保 / 转移"])
    keywords: list[str]
    cases: int
    examples: list[TopicExample] = Field(description="up to five of its cases")
    departments: list[TopicDepartment] = Field(description="lead departments, most cases first")
    rectifications: list[int] = Field(
        default_factory=list,
        description="整改 already opened on this topic (their topic's first word is this "
        "topic's first keyword), by id",
    )


class OrderCounts(View):
    """督办单 issued in the period, by how they stand now: `answered_on_time` + `answered_late`
    + `open` + `overdue` (fell overdue and still unanswered) = `issued`."""

    issued: int
    answered_on_time: int
    answered_late: int
    open: int
    overdue: int = Field(description="fell overdue and still unanswered")
    on_time_rate: float | None = Field(description="answered on time of issued, %")


class LevelCount(View):
    level: str = Field(examples=["district"])
    count: int


class ReasonCount(View):
    reason: str = Field(examples=["reopened"])
    count: int


class DepartmentSupervision(OrderCounts):
    """One department's orders (those addressed to it) and the escalations of the cases it led
    when they were raised."""

    department: str = Field(examples=["YX-BJJD"])
    name: str | None
    escalations: int


class SupervisionFigures(View):
    """督办与提级: orders issued in the period and how they stand, escalations by level and
    reason, and both per department; a unit's figures are its subtree's departments', so they
    sum to their parts."""

    orders: OrderCounts
    escalations: int
    by_level: list[LevelCount]
    by_reason: list[ReasonCount]
    departments: list[DepartmentSupervision]


class ReviewCounts(View):
    """答复审核: replies submitted for review in the period and what became of them."""

    submitted: int
    approved: int
    sent_back: int
    pending: int


class DepartmentReviews(ReviewCounts):
    department: str = Field(examples=["GZ-BDC"])
    name: str | None


class RatingReviewCounts(View):
    """不满意甄别: the cases registered in the period whose latest unsatisfied rating was
    reviewed, by what became of it."""

    pending: int = Field(description="waiting for a coordinator's decision")
    reopened: int = Field(description="a coordinator had the case redone (重办)")
    upheld: int = Field(description="the answer stood; set aside in the adjusted 满意率")
    lapsed: int = Field(description="nobody decided in time: reopened by the sweep")


class DepartmentRatingReviews(RatingReviewCounts):
    department: str = Field(examples=["GZ-BDC"], description="the case's lead department")
    name: str | None


class ReviewFigures(View):
    replies: ReviewCounts
    departments: list[DepartmentReviews]
    ratings: RatingReviewCounts | None = Field(
        default=None, description="不满意甄别, all departments together"
    )
    rating_departments: list[DepartmentRatingReviews] = Field(
        default_factory=list, description="不满意甄别 per lead department"
    )


class KindCount(View):
    kind: str | None = Field(examples=["refused"], description="None: not classified")
    label: str = Field(examples=["能办不办(作风问题)"])
    cases: int
    in_progress: int


class TriggerCount(View):
    trigger: str | None = Field(examples=["materials_refused"], description="None: not given")
    label: str = Field(examples=["材料被拒收"])
    cases: int


class RefusedByDepartment(View):
    department: str | None = Field(description="the lead department (none: not yet routed)")
    name: str | None
    cases: int


class ConductFigures(View):
    """作风: the period's cases by kind (能办/难办/不能办/能办不办) and by why the citizen came;
    the `refused` ones (能办不办, 问题线索) per lead department."""

    by_kind: list[KindCount]
    by_trigger: list[TriggerCount]
    refused: list[RefusedByDepartment]


class ConductLead(View):
    """问题线索: a case whose matter could be done and was not (`kind: refused`), as the monthly
    report lists it: its title with the applicant masked, where it stands, who handles it."""

    case_no: str
    created_at: str | None
    department: str | None = Field(description="the lead department")
    department_name: str | None
    trigger: str = Field(examples=["材料被拒收"])
    category: str = Field(examples=["服务态度问题"])
    title: str | None = Field(description="the applicant's name and numbers masked")
    status: str
    handled_by: str | None = Field(description="the label of the key that signed for it")
