"""The domain's vocabulary, with DOMAIN.md's code names. Stored as text, checked by constraints."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    portal = "portal"
    window = "window"
    hotline = "hotline"
    wechat = "wechat"
    phone = "phone"


class CaseStatus(StrEnum):
    registered = "registered"
    assigned = "assigned"
    signed = "signed"
    suspended = "suspended"
    returned = "returned"
    replied = "replied"
    reviewing = "reviewing"
    """答复审核: the lead's reply waits for the hall's or a coordinator's approval."""
    rating_review = "rating_review"
    """不满意甄别: the applicant was unsatisfied; a coordinator decides whether it is redone."""
    merged = "merged"
    """并单: follows a lead case (its department, its clock); answered with its reply."""
    reopened = "reopened"
    resolved_on_spot = "resolved_on_spot"
    out_of_scope = "out_of_scope"
    closed = "closed"


class Trigger(StrEnum):
    """Why the citizen came to the window (the regulation, seed 004)."""

    not_told_once = "not_told_once"
    materials_refused = "materials_refused"
    overdue_elsewhere = "overdue_elsewhere"
    other = "other"


class Kind(StrEnum):
    """can't / hard / won't be done (seed 001); `refused` is a conduct matter supervisors see."""

    cannot = "cannot"
    hard = "hard"
    refused = "refused"


class Category(StrEnum):
    """Blockage categories (seed 002)."""

    policy = "policy"
    system = "system"
    materials = "materials"
    attitude = "attitude"
    acceptance = "acceptance"
    consultation = "consultation"
    approval = "approval"
    multi_department = "multi_department"


class ApplicantType(StrEnum):
    individual = "individual"
    enterprise = "enterprise"


class Satisfaction(StrEnum):
    """The national 好差评 scale's five levels; the first three-level data (satisfied,
    basically satisfied, unsatisfied) keeps its meaning as the middle three."""

    very_satisfied = "very_satisfied"
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    unsatisfied = "unsatisfied"
    very_unsatisfied = "very_unsatisfied"

    @property
    def unhappy(self) -> bool:
        """不满意 or 非常不满意: the rating goes to 不满意甄别; the rest count as satisfied."""
        return self in (Satisfaction.unsatisfied, Satisfaction.very_unsatisfied)


SATISFIED = ("very_satisfied", "satisfied", "basically_satisfied")
"""What 满意率 counts as satisfied (of the rated)."""
UNSATISFIED = ("unsatisfied", "very_unsatisfied")


class Level(StrEnum):
    """层级: where a department or service hall sits, from the top."""

    city = "city"
    district = "district"
    street = "street"

    @property
    def below(self) -> Level:
        """The level of a unit under this one, when nobody says otherwise."""
        return Level.street if self is not Level.city else Level.district

    @property
    def above(self) -> Level:
        """The level a case is raised to (提级): street → district → city; the city stays."""
        return Level.city if self is not Level.street else Level.district

    @property
    def rank(self) -> int:
        """0 for the city, 2 for a street: a unit at or above a level has a rank at most its."""
        return (Level.city, Level.district, Level.street).index(self)


class Duty(StrEnum):
    """值班: who is on duty for a unit, by what they do."""

    leader = "leader"
    """值班领导"""
    chief = "chief"
    """总值班"""
    patrol = "patrol"
    """巡值"""


class Role(StrEnum):
    portal = "portal"
    hotline = "hotline"
    window = "window"
    department = "department"
    coordinator = "coordinator"
    supervisor = "supervisor"
    dashboard = "dashboard"
    admin = "admin"
    auditor = "auditor"
    """Reads the audit trail of who saw personal data, and nothing else (issue 16)."""
    security_admin = "security_admin"
    """Issues, revokes and binds the other roles' keys, and nothing else (三员分立, issue 26)."""
    system = "system"
    """The project's own processes (the worker) acting on a case; never given to a client."""


class Action(StrEnum):
    """What moves a case from one status to another (`services/case/lifecycle.py`'s table)."""

    register = "register"
    route = "route"
    assign = "assign"
    resolve_on_spot = "resolve_on_spot"
    refer_out_of_scope = "refer_out_of_scope"
    sign = "sign"
    return_ = "return"
    transfer = "transfer"
    suspend = "suspend"
    resume = "resume"
    reply = "reply"
    submit_reply = "submit_reply"
    """The lead's reply where the policy has it reviewed: it waits in `reviewing`."""
    approve_reply = "approve_reply"
    send_back = "send_back"
    feedback_satisfied = "feedback_satisfied"
    feedback_unsatisfied = "feedback_unsatisfied"
    """Unsatisfied: to 不满意甄别 (`rating_review`); before it, straight to `reopened`."""
    reopen = "reopen"
    """不满意甄别 decided (or left undecided in time): 重办, a new handling deadline."""
    uphold = "uphold"
    """不满意甄别 decided: the answer stands and the case closes, explained."""
    auto_close = "auto_close"
    merge = "merge"
    """并单: joins a lead case's group (taken on the lead case)."""
    unmerge = "unmerge"
    """Leaves the group before the reply: a new assignment to the department."""
    follow_reply = "follow_reply"
    """The group's lead was answered: so is this case, with its words."""


class Note(StrEnum):
    """Steps the history records that leave the status as it is (`history.note`, the sweep):
    named once, matched by these names in the timeline, the notices and the callbacks."""

    repeat = "repeat"
    """The same caller's complaint again while the case is open (重复件)."""
    hand_over = "hand_over"
    """The window hands a held case to routing before its hold ends."""
    hotline_supplement = "hotline_supplement"
    """The 12345 hotline sent more on an order it had sent."""
    extension_requested = "extension_requested"
    extension_approved = "extension_approved"
    extension_rejected = "extension_rejected"
    warning = "warning"
    yellow_card = "yellow_card"
    red_card = "red_card"
    card_appealed = "card_appealed"
    card_upheld = "card_upheld"
    card_revoked = "card_revoked"
    deadlines_recomputed = "deadlines_recomputed"
    """A calendar change moved the open case's deadlines."""
    supervised = "supervised"
    """督办: an order to the lead department, due in working time."""
    supervision_answered = "supervision_answered"
    supervision_overdue = "supervision_overdue"
    """An order unanswered when due: the department's card, and who on duty was told."""
    reminded = "reminded"
    """催办: the lead department reminded, without a deadline."""
    assist_requested = "assist_requested"
    """协办: co-departments asked for their opinion by a time."""
    assist_answered = "assist_answered"
    assist_waived = "assist_waived"
    """A coordinator let the lead reply without a co-department's opinion."""
    urgent_after_hours = "urgent_after_hours"
    """An urgent case registered outside office hours: whoever was on duty was texted."""
    escalated = "escalated"
    """提级: a threshold crossed raised the case one level, with an order from that level."""
    merged = "merged"
    """并单: cases merged into this one (the lead of their group)."""
    unmerged = "unmerged"
    """并单: cases taken out of this one's group before its reply."""

    @classmethod
    def card(cls, colour: str) -> Note:
        return cls(f"{colour}_card")


CARDS = frozenset({Note.yellow_card, Note.red_card})
CALLED_BACK = CARDS | {Note.supervised, Note.supervision_overdue, Note.escalated}
"""Steps that leave the status as it is and that the channel which asked still hears of."""


class SupervisionStatus(StrEnum):
    """督办单: waiting for the department's answer, answered, or left unanswered past its time
    (an answer after that makes it `answered`, late)."""

    open = "open"
    answered = "answered"
    overdue = "overdue"


class SupervisionSource(StrEnum):
    order = "order"
    """Issued by a coordinator or a supervisor."""
    escalation = "escalation"
    """Issued by the level a case was raised to (提级)."""


class EscalationReason(StrEnum):
    """提级: the thresholds of the rule table's `escalation` a case may cross, each once."""

    reopened = "reopened"
    """重办 N times (the applicant unsatisfied again and again)."""
    transferred = "transferred"
    """转办 N times: nobody takes the lead."""
    returned = "returned"
    """退单 N times."""
    overdue = "overdue"
    """Handling overdue by N working days."""
    repeats = "repeats"
    """N repeat calls (重复件) about the one open case."""


class AssistStatus(StrEnum):
    """协办: a co-department's task, owed, given, or let off by a coordinator."""

    open = "open"
    answered = "answered"
    waived = "waived"


class ReplyReview(StrEnum):
    """答复审核: who approves a reply before the citizen reads it (an SLA policy's)."""

    none = "none"
    hall = "hall"
    """The window of the hall the case was registered at, or a coordinator."""
    coordinator = "coordinator"


class ReviewOutcome(StrEnum):
    pending = "pending"
    approved = "approved"
    sent_back = "sent_back"


class RatingOutcome(StrEnum):
    """不满意甄别: what became of an unsatisfied rating (the latest, on the case)."""

    pending = "pending"
    reopened = "reopened"
    """A coordinator had it redone."""
    upheld = "upheld"
    """A coordinator found the answer right (a lawful refusal, a mistaken or malicious rating):
    set aside in the adjusted 满意率."""
    lapsed = "lapsed"
    """Nobody decided in time: redone, as a reopen."""


class RectificationStatus(StrEnum):
    """整改: opened by a supervisor, under way at the owner, done (what changed, the document),
    verified by the supervisor, or reopened by them (back to `in_progress`)."""

    open = "open"
    in_progress = "in_progress"
    done = "done"
    verified = "verified"
