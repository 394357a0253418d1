"""How a case is shown: to staff (with masking by role) and to the citizen (minimal)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.case import access
from services.case.lifecycle import allowed_actions
from services.case.responses import (
    Actor,
    ApplicantOut,
    AssistOut,
    CaseOut,
    Deadlines,
    EscalationOut,
    EventOut,
    ExtensionOut,
    FeedbackOut,
    LinkedOut,
    LocationOut,
    NoticeOut,
    Resolution,
    Step,
    SupervisionOut,
    TrackingCardOut,
    TrackingOut,
)
from services.case.routing_record import RoutingRecord
from services.notices.responses import SmsReplyOut
from services.privacy import (
    applicant_of,
    each_text,
    found_in,
    mask_address,
    mask_id_number,
    mask_name,
    mask_phone,
    redact,
)
from shared import audit
from shared.enums import CaseStatus, Note
from shared.models import Case, CaseEvent, Extension, Notice
from shared.principal import Principal
from shared.text import mask_code
from shared.timeutil import shanghai_iso

STATUS_LABELS = {
    CaseStatus.registered: "已登记",
    CaseStatus.assigned: "已派单",
    CaseStatus.signed: "办理中",
    CaseStatus.suspended: "已挂起(待补充材料)",
    CaseStatus.returned: "退单待协调",
    CaseStatus.replied: "已答复",
    CaseStatus.reviewing: "答复审核中",
    CaseStatus.rating_review: "不满意甄别中",
    CaseStatus.merged: "已并案办理",
    CaseStatus.reopened: "重办中",
    CaseStatus.resolved_on_spot: "当场解决",
    CaseStatus.out_of_scope: "非政务服务范围(已解释并转介)",
    CaseStatus.closed: "已办结",
}


PERSONAL = ("name", "phone", "id_number")
"""The applicant's fields masked for those without need-to-know, and audited when shown."""


def _for(out: CaseOut, clear: bool) -> CaseOut:
    """The case's answer as a reader sees it: in clear (and noted for the audit trail), or with
    the personal fields masked; `masked` names what was withheld, so a screen can say so."""
    fields = _personal_fields(out)
    if clear:
        audit.disclosed(out.case_no, fields)
        out.masked = []
        return out
    applicant = out.applicant
    location = out.location
    masked = _redacted(out)
    if masked.tracking_card.code:
        masked.tracking_card = masked.tracking_card.model_copy(
            update={"code": mask_code(masked.tracking_card.code)}
        )
    masked.applicant = applicant.model_copy(
        update={
            "name": mask_name(applicant.name),
            "phone": mask_phone(applicant.phone),
            "id_number": mask_id_number(applicant.id_number),
        }
    )
    if "address" in fields and location:
        masked.location = LocationOut(
            address=mask_address(location.address), lat=None, long=None, public=False
        )
    masked.attachments = []
    masked.tracking_code = mask_code(out.tracking_code) or ""
    masked.masked = fields
    return masked


def _redacted(out: CaseOut) -> CaseOut:
    """Where people write whatever they like (staff too: "已电话联系黄丽华13800138001"): masked
    readers see the applicant's name, phone and ID number, and anything shaped like a phone or
    ID number, masked there as well: the title, description, reply, tracking card, resolution,
    the feedback's comment, the history's reasons and data, and the notices' texts."""
    a = out.applicant

    def clean(text: str | None) -> str | None:
        return redact(text, name=a.name, phone=a.phone, id_number=a.id_number)

    def clean_all(value: Any) -> Any:
        return each_text(value, clean)

    return out.model_copy(
        update={
            "title": clean(out.title),
            "description": clean(out.description) or "",
            "reply": clean(out.reply),
            "tracking_card": TrackingCardOut.model_validate(
                clean_all(out.tracking_card.model_dump(exclude_unset=True))
            ),
            "resolution": Resolution(
                note=clean(out.resolution.note),
                referred_to=clean(out.resolution.referred_to),
                explanation=clean(out.resolution.explanation),
            ),
            "feedback": out.feedback.model_copy(update={"comment": clean(out.feedback.comment)}),
        }
        | (
            {
                "history": [
                    e.model_copy(update={"reason": clean(e.reason), "data": clean_all(e.data)})
                    for e in out.history
                ]
            }
            if out.history
            else {}
        )
        | (
            {
                "notices": [
                    n.model_copy(update={"text": clean(n.text) if n.text else n.text})
                    for n in out.notices
                ]
            }
            if out.notices
            else {}
        )
    )


def replayed(body: dict[str, Any]) -> None:
    """A stored answer sent again (an idempotent replay) discloses what it showed once more:
    it leaves its own audit row, as the first answer did."""
    if "applicant" in body and not body.get("masked"):
        audit.disclosed(str(body.get("case_no")), _personal_fields(CaseOut.model_validate(body)))


def _personal_fields(out: CaseOut) -> list[str]:
    """What of this answer a reader without need to know is not shown in clear: the
    applicant's fields, a private place (its address and coordinates: a home) and the
    attachments (an ID card's photo, a contract). Each is named in the answer's `masked` or,
    when shown, on the audit row."""
    applicant = out.applicant
    fields = [name for name in PERSONAL if getattr(applicant, name)]
    if out.location and not out.location.public:
        fields.append("address")
    if out.attachments:
        fields.append("attachments")
    if out.tracking_code:
        # The citizen's credential for the keyless look-up (issue 26 #2): with it and the
        # phone's last four digits anyone reads where the case stands and changes its notices.
        fields.append("tracking_code")
    return fields


def event_out(event: CaseEvent) -> EventOut:
    return EventOut(
        id=event.id,
        at=shanghai_iso(event.at),
        action=event.action,
        from_status=event.from_status,
        to_status=event.to_status,
        actor=Actor(role=event.actor_role, department=event.actor_department),
        reason=event.reason,
        data=event.data,
    )


def notice_out(notice: Notice) -> NoticeOut:
    """Every member is the row's column of the same name."""
    return NoticeOut.model_validate(notice, from_attributes=True)


def _actions(case: Case) -> list[str]:
    """What can be done next: the status's actions, and handing over a case held at the window."""
    status = CaseStatus(case.status)
    actions = allowed_actions(status)
    if case.held_until and status is CaseStatus.registered:
        actions.append(Note.hand_over.value)
    return actions


def seen_by(
    shown: dict[str, Any], viewer: Principal, *, registered_by_viewer: bool = False
) -> CaseOut:
    """A case shown to the service key (routing's answer to intake) as `viewer` sees it: the
    applicant masked unless they need to know, without routing's own `routed` flag."""
    out = CaseOut.model_validate({k: v for k, v in shown.items() if k != "routed"})
    clear = access.sees_shown_in_clear(viewer, shown, registered_by_viewer=registered_by_viewer)
    return _for(out, clear)


def linked_out(case: Case) -> LinkedOut:
    """A repeat (重复件) linked to a case the caller may not read (another channel's, another
    citizen's number typed twice): the caller learns that it was recorded on an open case and
    how that case stands, but none of its content, not even its tracking code."""
    status = CaseStatus(case.status)
    return LinkedOut(
        case_no=case.case_no,
        status=status.value,
        status_label=STATUS_LABELS[status],
        repeat=True,
        visible=False,
    )


def case_out(
    case: Case,
    viewer: Principal,
    events: list[CaseEvent] | None = None,
    notices: Sequence[Notice | NoticeOut] | None = None,
    sms_replies: list[SmsReplyOut] | None = None,
    *,
    unmasked: bool = False,
    supervisions: list[SupervisionOut] | None = None,
    escalations: list[EscalationOut] | None = None,
    assists: list[AssistOut] | None = None,
) -> CaseOut:
    """`history`, `notices` and `sms_replies` are in the answer only when given (one case read),
    not as nulls on every case of a list."""
    out = CaseOut(
        case_no=case.case_no,
        tracking_code=case.tracking_code,
        status=case.status,
        status_label=STATUS_LABELS[CaseStatus(case.status)],
        allowed_actions=_actions(case),
        held_until=shanghai_iso(case.held_until),
        channel=case.channel,
        title=case.title,
        description=case.description,
        category=case.category,
        trigger=case.trigger,
        kind=case.kind,
        matter_code=case.matter_code,
        district=case.district,
        urgent=case.urgent,
        vulnerable=case.vulnerable,
        intake_department=case.intake_department,
        intake_hall=case.intake_hall,
        first_responsible_department=case.first_responsible_department,
        lead_department=case.lead_department,
        co_departments=list(case.co_departments or []),
        routing=None if case.routing is None else RoutingRecord.of(case.routing),
        deadlines=Deadlines(
            sign_due_at=shanghai_iso(case.sign_due_at),
            handle_due_at=shanghai_iso(case.handle_due_at),
        ),
        tracking_card=TrackingCardOut.model_validate(case.tracking_card),
        applicant=ApplicantOut(
            name=case.applicant_name,
            phone=case.applicant_phone,
            id_number=case.applicant_id_number,
            type=case.applicant_type,
            org_name=case.applicant_org_name,
        ),
        attachments=list(case.attachments or []),
        location=None if case.location is None else LocationOut.model_validate(case.location),
        resolution=Resolution(
            note=case.resolution_note,
            referred_to=case.referred_to,
            explanation=case.explanation,
        ),
        feedback=FeedbackOut(
            satisfaction=case.satisfaction,
            comment=case.feedback_comment,
            resolved=case.resolved,
            rating_outcome=case.rating_outcome,
            rating_review_due_at=shanghai_iso(case.rating_review_due_at),
        ),
        reopen_count=case.reopen_count,
        return_count=case.return_count,
        repeat_count=case.repeat_count,
        transfer_count=case.transfer_count,
        remind_count=case.remind_count,
        assists_owed=list(case.assists_owed or []),
        sent_back_count=case.sent_back_count,
        merged_into=case.merged_into_no,
        merged_count=case.merged_count,
        escalation_level=case.escalation_level,
        assignment_final=case.assignment_final,
        reply=case.reply,
        notices_opted_out=case.notices_opted_out,
        created_at=shanghai_iso(case.created_at),
        updated_at=shanghai_iso(case.updated_at),
        closed_at=shanghai_iso(case.closed_at),
    )
    if events is not None:
        out.history = [event_out(e) for e in events]
    if notices is not None:
        out.notices = [n if isinstance(n, NoticeOut) else notice_out(n) for n in notices]
    if sms_replies is not None:
        out.sms_replies = sms_replies
    if supervisions is not None:
        out.supervisions = supervisions  # each masked as its viewer may see it
    if escalations is not None:
        out.escalations = escalations
    if assists is not None:
        out.assists = assists  # each redacted as its viewer may see it
    return _for(out, unmasked or access.sees_in_clear(viewer, case))


def tracking_out(
    case: Case, events: list[CaseEvent], department_names: dict[str, str]
) -> TrackingOut:
    """What anyone holding the code and the phone's last four digits may see: no personal data,
    no internal reasons, just where the matter stands and what to bring next time."""
    lead = case.lead_department or case.first_responsible_department
    applicant = applicant_of(case)
    # Whoever holds the code reads this: people-written words carry the applicant's data
    # redacted (a title or a material list typed with a name and a phone, issue 26 #2).
    return TrackingOut(
        tracking_code=case.tracking_code,
        case_no=case.case_no,
        status=case.status,
        status_label=STATUS_LABELS[CaseStatus(case.status)],
        title=redact(case.title, **applicant),
        handling_department=department_names.get(lead, lead) if lead else None,
        handle_due_at=shanghai_iso(case.handle_due_at),
        tracking_card=TrackingCardOut.model_validate(
            each_text(case.tracking_card, lambda text: redact(text, **applicant))
        ),
        notices=not case.notices_opted_out,
        created_at=shanghai_iso(case.created_at),
        updated_at=shanghai_iso(case.updated_at),
        timeline=[
            Step(
                at=shanghai_iso(e.at),
                status=e.to_status,
                label=STATUS_LABELS[CaseStatus(e.to_status)],
            )
            for e in events
        ],
    )


def people_words(case: Case, viewer: Principal, *texts: str | None) -> list[str | None]:
    """Staff's words on a case (a reason, an answer, an opinion) may quote the applicant: a
    reader without need to know gets them redacted (issue 26 #6); one with it gets them as
    written, and the case's audit row notes what they showed (as the case's answer notes its
    own). One rule for extensions, supervision orders and assist tasks alike."""
    applicant = applicant_of(case)
    if not access.sees_in_clear(viewer, case):
        return [redact(text, **applicant) for text in texts]
    shown = found_in(" ".join(t for t in texts if t), **applicant)
    fields = [name for name, found in shown.items() if found]
    if fields:
        audit.disclosed(case.case_no, fields)
    return list(texts)


def extension_out(ext: Extension, case: Case, viewer: Principal) -> ExtensionOut:
    """Why a department needs more time, and the decision (`people_words`)."""
    reason, note = people_words(case, viewer, ext.reason, ext.decision_note)
    return ExtensionOut(
        id=ext.id,
        case_no=case.case_no,
        department=ext.department,
        extend_by=ext.extend_by,
        status=ext.status,
        requested_at=shanghai_iso(ext.requested_at),
        decided_at=shanghai_iso(ext.decided_at),
        reason=reason or "",
        decision_note=note,
    )
