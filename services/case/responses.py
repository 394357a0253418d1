"""The shapes `presenter.py` gives a case, as models: what the OpenAPI documents promise and a
generated client types. The presenter writes the dicts; these describe them (and a response
that drifted from its model fails the contract's tests, not a caller)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from services.case.routing_record import RoutingRecord
from services.notices.responses import SmsReplyOut
from shared.view import ShownTime, View


class StandardAnswer(View):
    """A 办事指南 answer the window cited when it settled the case on the spot."""

    answer_id: str = Field(examples=["GZ-GJJ-TQ#1"])
    question: str
    answer: str


class TrackingCardOut(View):
    """The 一跟到底 card the applicant was handed at registration."""

    code: str | None = Field(
        default=None,
        examples=["K7M2Q9"],
        description="the tracking code (masked unless the caller needs to know)",
    )
    required_materials: list[str] = Field(
        default_factory=list,
        examples=[["抵押权人注销申请书"]],
        description="what to bring, told once and in full (一次性告知)",
    )
    next_window: str | None = Field(
        default=None, examples=["广州市不动产登记中心 办不成事反映窗口(搞得掂窗口)"]
    )
    handler_contact: str | None = Field(default=None, examples=["12345"])
    standard_answer: StandardAnswer | None = Field(
        default=None, description="the answer cited when the window settled it on the spot"
    )


class LocationOut(View):
    """Where the matter is; a private place is masked (address shortened, no coordinates)."""

    address: str | None = Field(default=None, examples=["越秀区东风中路"])
    lat: float | None = Field(default=None, description="none when masked")
    long: float | None = Field(default=None, description="none when masked")
    public: bool = Field(
        default=False, description="a public place (a road, a hall): shown to every reader"
    )


class ApplicantOut(View):
    name: str | None = Field(description="masked (黄*华) unless the caller's role needs it")
    phone: str | None = Field(description="masked (138****8001) unless the role needs it")
    id_number: str | None
    type: str = Field(examples=["individual", "enterprise"])
    org_name: str | None


class Deadlines(View):
    sign_due_at: str | None
    handle_due_at: str | None


class Resolution(View):
    note: str | None
    referred_to: str | None
    explanation: str | None


class FeedbackOut(View):
    satisfaction: str | None = Field(
        examples=["unsatisfied"], description="the applicant's latest rating, as they gave it"
    )
    comment: str | None
    resolved: bool | None = Field(
        default=None, description="解决: the applicant said the matter was solved (none: not said)"
    )
    rating_outcome: str | None = Field(
        default=None,
        examples=["upheld"],
        description="不满意甄别 of the latest unsatisfied rating: pending, reopened (重办), "
        "upheld (the answer stood), lapsed (undecided in time, so reopened)",
    )
    rating_review_due_at: str | None = Field(
        default=None, description="while pending: by when a coordinator decides (Shanghai time)"
    )


class Actor(View):
    role: str
    department: str | None


class EventOut(View):
    id: int
    at: str | None
    action: str = Field(examples=["register", "route", "sign", "yellow_card"])
    from_status: str | None
    to_status: str
    actor: Actor
    reason: str | None
    data: dict[str, Any]


class NoticeOut(View):
    """A notice the applicant was sent (what they read, through which channel, when), or one
    still queued (`queued`: its words are filled in when it is sent)."""

    event: str = Field(examples=["registered", "assigned", "replied"])
    channel: str | None = Field(examples=["sms"], description="none while queued")
    text: str | None = Field(description="none while queued")
    segments: int | None = Field(
        description="SMS parts it took (70 characters, or 67 a part); none while queued"
    )
    sent_at: ShownTime
    queued: bool = Field(
        default=False,
        description="not sent yet: waiting for its turn, or held through the quiet hours",
    )
    scheduled_for: ShownTime = Field(
        default=None,
        description="while queued: when it goes (08:00 Shanghai after a night's hold)",
    )
    delivered: bool | None = Field(
        default=None, description="the carrier's receipt: reached the phone or not (none yet)"
    )
    delivery_code: str | None = Field(
        default=None,
        examples=["DELIVERED", "isv.MOBILE_NUMBER_ILLEGAL"],
        description="the receipt's code, or the provider's refusal when it would not send",
    )


class EscalationOut(View):
    """One 提级: a threshold the case crossed, the level it was raised to, and the order that
    level issued."""

    level: str = Field(examples=["district"])
    from_level: str | None = Field(examples=["street"])
    unit: str | None = Field(description="the unit of that level above the lead department")
    reason: str = Field(examples=["reopened", "transferred", "returned", "overdue", "repeats"])
    count: int | None = Field(description="the counter that crossed; none for overdue")
    department: str | None = Field(description="the lead department when it was raised")
    at: str | None
    order_no: str | None = Field(description="the 督办单 the level issued (none: nobody led)")


class AssistOut(View):
    """协办: a co-department's task on a case and its opinion (redacted for a reader without
    need to know: people's words may quote the applicant)."""

    case_no: str
    department: str = Field(examples=["GZ-GHZY"])
    status: str = Field(examples=["open", "answered", "waived"])
    reason: str | None
    requested_at: str | None
    due_at: str | None = Field(description="none when the calendar could not count it")
    opinion: str | None
    answered_at: str | None
    answered_on_time: bool | None = Field(description="none while unanswered")
    waived_reason: str | None
    waived_at: str | None
    overdue_at: str | None = Field(description="when it was found owed past its time (carded)")


class CaseOut(View):
    """A case as staff see it (the applicant masked by role); `history` when one case is read."""

    case_no: str = Field(examples=["GZ-20261123-000001"])
    tracking_code: str
    status: str = Field(examples=["assigned"])
    status_label: str = Field(examples=["已派单"])
    allowed_actions: list[str]
    held_until: str | None
    channel: str
    title: str | None
    description: str
    category: str | None
    trigger: str | None
    kind: str | None
    matter_code: str | None
    district: str | None
    urgent: bool
    vulnerable: bool
    intake_department: str | None
    intake_hall: str | None = Field(
        default=None, description="the service hall whose window registered it (its key's hall)"
    )
    first_responsible_department: str | None
    lead_department: str | None
    co_departments: list[str]
    routing: RoutingRecord | None = Field(
        description="how it came to its department: rule, SLA and card policies"
    )
    deadlines: Deadlines
    tracking_card: TrackingCardOut
    applicant: ApplicantOut
    attachments: list[str] = Field(description="empty when masked (see `masked`)")
    location: LocationOut | None = Field(
        description="a private place is masked (address shortened, no coordinates) unless the "
        "caller needs to know; a public one (a road, a hall) is shown to every reader"
    )
    masked: list[str] = Field(
        default_factory=list,
        examples=[["name", "phone", "id_number", "address", "attachments"]],
        description="the personal fields withheld from this caller (need to know): a supervisor "
        "may unmask the case with a reason; empty when shown in clear",
    )
    resolution: Resolution
    feedback: FeedbackOut
    reopen_count: int
    return_count: int
    repeat_count: int
    transfer_count: int = Field(default=0, description="转办: lead departments it was handed to")
    remind_count: int = Field(default=0, description="催办: reminders sent to its lead")
    sent_back_count: int = Field(default=0, description="答复审核: replies sent back")
    merged_into: str | None = Field(
        default=None,
        description="并单: the lead case this one follows (its department, clock, reply)",
    )
    merged_count: int = Field(default=0, description="并单: the cases following this one")
    handled_by: str | None = Field(
        default=None,
        description="in a list read by a supervisor or coordinator: the label of the department "
        "key that last signed for the case (follow-up of 能办不办)",
    )
    assists_owed: list[str] = Field(
        default_factory=list,
        description="协办: the co-departments whose opinion the lead still waits for",
    )
    escalation_level: str | None = Field(
        default=None,
        description="提级: the level the case was raised to (`district`, `city`); none while it "
        "stands at its lead department's",
    )
    assignment_final: bool
    reply: str | None
    notices_opted_out: bool = Field(description="the applicant asked for no notices of it")
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    history: list[EventOut] | None = None
    notices: list[NoticeOut] | None = Field(
        default=None, description="when one case is read: what the applicant was sent"
    )
    supervisions: list[SupervisionOut] | None = Field(
        default=None, description="when one case is read: its 督办 orders, oldest first"
    )
    sms_replies: list[SmsReplyOut] | None = Field(
        default=None,
        description="when one case is read by a role that sees personal data: what the "
        "applicant texted back",
    )
    assists: list[AssistOut] | None = Field(
        default=None, description="when one case is read: its 协办 tasks and opinions"
    )
    escalations: list[EscalationOut] | None = Field(
        default=None, description="when one case is read: each time it was raised (提级)"
    )
    repeat: bool | None = Field(
        default=None, description="on registration: true when linked to an open case (重复件)"
    )


class SupervisionOut(View):
    """A 督办单: to the lead department, copied to the unit above it, due in working time."""

    id: int
    order_no: str = Field(examples=["DB-20261207-001"])
    case_no: str = Field(examples=["GZ-20261207-000042"])
    department: str = Field(examples=["YX-BJJD"], description="the department it is addressed to")
    copied_to: str | None = Field(examples=["YX-ZWFW"], description="the unit above it")
    issuing_unit: str | None = Field(
        examples=["YX-ZWFW"], description="the unit it comes from; none: the city's centre"
    )
    level: str = Field(examples=["city", "district", "street"], description="the issuing level")
    source: str = Field(examples=["order", "escalation"])
    reason: str | None = Field(description="masked where it quotes the applicant, as on the case")
    respond_within: str = Field(examples=["2 working_days"])
    due_at: ShownTime
    status: str = Field(examples=["open", "answered", "overdue"])
    issued_at: ShownTime
    progress: str | None = Field(description="the department's answer")
    answered_at: ShownTime
    answered_on_time: bool | None = Field(description="none while unanswered")
    overdue_at: ShownTime = Field(description="when it was found unanswered past its time")
    card_id: int | None = Field(description="the card its lateness gave the department")


class LinkedOut(View):
    """A repeat recorded on a case the caller may not read: that it was, and how it stands."""

    case_no: str
    status: str
    status_label: str
    repeat: bool
    visible: bool


class ExtensionOut(View):
    """A department's request for more working days (延期), and how it was decided."""

    id: int
    case_no: str
    department: str
    extend_by: str = Field(examples=["3 working_days"], description="as requested")
    reason: str
    status: str = Field(examples=["pending", "approved", "rejected"])
    requested_at: str | None
    decided_at: str | None
    decision_note: str | None


class ExtensionDecided(View):
    extension: ExtensionOut
    case: CaseOut = Field(description="the case with its deadlines as the decision left them")


class Step(View):
    at: str | None
    status: str
    label: str = Field(examples=["已签收"])


class TrackingOut(View):
    """What the citizen sees with the tracking code: no personal data and no internal reasons."""

    tracking_code: str = Field(examples=["K7M2Q9"])
    case_no: str
    status: str
    status_label: str
    title: str | None
    handling_department: str | None = Field(description="the department's name")
    handle_due_at: str | None
    tracking_card: TrackingCardOut
    notices: bool = Field(description="whether the applicant is sent notices of each step (SMS)")
    created_at: str | None
    updated_at: str | None
    timeline: list[Step]


class HotlineOrder(View):
    """What a hotline order's answer adds to its case: 201 when the order created it, 200 when
    the order was seen before (a supplement, or the same order sent again)."""

    order_id: str
    created: bool
    supplement: bool = Field(description="the order added to a case already received (补充)")
    repeat: bool = Field(description="linked to an open case on the same matter (重复件)")


class HotlineCaseOut(CaseOut, HotlineOrder):
    """The order's case as the hotline sees it."""

    repeat: bool


class HotlineLinkedOut(LinkedOut, HotlineOrder):
    """A repeat of another channel's case: only the link and how it stands."""


class CardNote(View):
    deadline: str = Field(examples=["sign", "handle", "drag"])
    points: int | None = None


class SupervisionNote(View):
    """Which 督办单 a callback is about: its number, due time, level and department."""

    order_no: str = Field(examples=["DB-20261118-001"])
    due_at: str | None = Field(default=None, description="when the answer is due, RFC 3339")
    level: str | None = Field(default=None, examples=["district"])
    department: str | None = Field(default=None, description="the department it is addressed to")
    card_id: int | None = Field(default=None, description="on an overdue order: its card")


class EscalationNote(View):
    """A 提级: the level the case was raised to, that level's unit, and why."""

    level: str = Field(examples=["district"])
    from_level: str | None = Field(default=None, examples=["street"])
    unit: str | None = Field(default=None, examples=["YX-ZWFW"])
    reason: str = Field(examples=["reopened", "transferred", "returned", "overdue", "repeats"])
    count: int | None = Field(default=None, description="the counter that crossed")
    at: str = Field(description="RFC 3339")


class HotlineCallback(View):
    """What we POST to a hotline order's `callback_url` at every status change and card."""

    event_id: int = Field(description="the same as X-Hotline-Event-Id: deduplicate on it")
    order_id: str | None = Field(examples=["12345-GZ-20261122-0042"])
    case_no: str
    tracking_code: str
    event: str = Field(
        examples=["route", "sign", "transfer", "suspend", "reply", "yellow_card", "auto_close"],
        description="the history action; the list grows with the life cycle",
    )
    status: str = Field(examples=["assigned", "replied", "closed"])
    lead_department: str | None
    at: str | None = Field(description="when it happened, RFC 3339")
    reply: str | None = Field(description="the department's answer, once the case is replied")
    card: CardNote | None = Field(description="on a card: which deadline and how many points")
    supervision: SupervisionNote | None = Field(
        default=None,
        description="on `supervised`, `supervision_overdue` and `escalated`: the order",
    )
    escalation: EscalationNote | None = Field(
        default=None, description="on `escalated` (提级): the level and why"
    )


class DepartmentNotice(View):
    """What we POST to a department's webhook: its cases' steps, warnings and cards, and every
    step of a case it first answered for and handed on (一跟到底)."""

    event_id: int = Field(description="the same as X-Gaodedim-Event-Id: deduplicate on it")
    department: str = Field(description="the department this notice is for")
    case_no: str
    event: str = Field(
        examples=["assigned", "signed", "transferred", "replied", "warning", "yellow_card"],
        description="what happened; the list grows with the life cycle",
    )
    status: str
    lead_department: str | None
    deadline: str | None = Field(default=None, description="on a warning or card")
    due_at: str | None = Field(default=None, description="on a warning: when the deadline falls")
    card_id: int | None = Field(default=None, description="on a card")
    points: int | None = Field(default=None, description="on a card")
    order_no: str | None = Field(default=None, description="on a 督办 event: the order")
    supervision_id: int | None = Field(default=None, description="on a 督办 event")
    level: str | None = Field(default=None, description="on a 督办 event: the issuing level")
    order_status: str | None = Field(
        default=None, description="on a 督办 event: `open`, `answered` or `overdue`"
    )


class Routed(CaseOut):
    routed: bool = Field(description="false when the case had been routed already (a retry)")


class GroupMemberOut(View):
    """One case of a group hand-over: the case as routing left it, or why it was not routed
    now (it stays `registered` and its outbox message routes it later)."""

    case_no: str = Field(examples=["GZ-20261118-000001"])
    case: Routed | None = Field(description="none when this case could not be routed now")
    error: str | None = Field(default=None, examples=["case GZ-20261118-000009 not found"])


class RoutedGroup(View):
    items: list[GroupMemberOut] = Field(description="one per case asked, in the order asked")


class MergeOut(View):
    """并单: the lead case and the cases merged into it or taken out of its group."""

    lead: CaseOut
    cases: list[CaseOut]
