from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    cast,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.enums import (
    ApplicantType,
    CaseStatus,
    Category,
    Channel,
    Kind,
    RatingOutcome,
    Satisfaction,
    Trigger,
)
from shared.models.base import Base, created_at_column, enum_check

DEPT_FK = "departments.code"


PARTITION = re.compile(r"^(cases|case_events)_(p\d{6}|before|default)$")
"""The partitions of `cases` and `case_events` (migration 0002): tables of the database that
no model declares, made by the migration and `ensure_case_partitions`."""


class Case(Base):
    """One complaint (诉求/工单). Personal data lives in the applicant_* columns only.

    Partitioned by month through its id, which carries the month of `created_at` in its high
    bits (migration 0002): the id is drawn by `cases_next_id(now)` from the registration's own
    clock, like the case number's day, so each partition holds whole days of case numbers and
    `case_no` is unique per partition."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(enum_check("status", CaseStatus), name="status"),
        CheckConstraint(enum_check("channel", Channel), name="channel"),
        CheckConstraint(f"category IS NULL OR {enum_check('category', Category)}", name="category"),
        CheckConstraint(f"trigger IS NULL OR {enum_check('trigger', Trigger)}", name="trigger"),
        CheckConstraint(f"kind IS NULL OR {enum_check('kind', Kind)}", name="kind"),
        CheckConstraint(enum_check("applicant_type", ApplicantType), name="applicant_type"),
        CheckConstraint(
            f"satisfaction IS NULL OR {enum_check('satisfaction', Satisfaction)}",
            name="satisfaction",
        ),
        CheckConstraint(
            f"rating_outcome IS NULL OR {enum_check('rating_outcome', RatingOutcome)}",
            name="rating_outcome",
        ),
        Index("ix_cases_status_created_at", "status", "created_at"),
        Index("ix_cases_created_at_id", "created_at", "id"),
        Index("ix_cases_applicant_phone_created_at", "applicant_phone", "created_at"),
        Index("ix_cases_keywords_missing", "id", postgresql_where=text("keywords IS NULL")),
        # 整改: a rectification's recurrence, the cases whose keywords hold its topic.
        Index("ix_cases_keywords", "keywords", postgresql_using="gin"),
        Index(
            "ix_cases_anonymise_due",
            "closed_at",
            postgresql_where=text("status = 'closed' AND anonymised_at IS NULL"),
        ),
        Index(
            "ix_cases_open_handle_due_at",
            "handle_due_at",
            postgresql_where=text(
                "status IN ('registered', 'assigned', 'signed', 'suspended', 'returned', "
                "'reopened', 'reviewing', 'merged')"
            ),
        ),
        Index(
            "ix_cases_escalated_created_at",
            "created_at",
            "id",
            postgresql_where=text("escalation_level IS NOT NULL"),
        ),
        CheckConstraint(
            "escalation_level IN ('city', 'district', 'street')", name="escalation_level"
        ),
        Index(
            "ix_cases_sla_next_check_at",
            "sla_next_check_at",
            postgresql_where=text("sla_next_check_at IS NOT NULL"),
        ),
        {"postgresql_partition_by": "RANGE (id)"},
    )

    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, server_default=text("cases_next_id(now())")
    )
    case_no: Mapped[str] = mapped_column(String(40))
    tracking_code: Mapped[str] = mapped_column(String(16))
    """Unique through `tracking_codes`, which also finds the case by it."""
    status: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32))
    trigger: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str | None] = mapped_column(String(16))
    matter_code: Mapped[str | None] = mapped_column(String(64))
    district: Mapped[str | None] = mapped_column(String(64))
    urgent: Mapped[bool] = mapped_column(Boolean, server_default="false")
    vulnerable: Mapped[bool] = mapped_column(Boolean, server_default="false")

    intake_department: Mapped[str | None] = mapped_column(String(32), ForeignKey(DEPT_FK))
    first_responsible_department: Mapped[str | None] = mapped_column(
        String(32), ForeignKey(DEPT_FK), index=True
    )
    lead_department: Mapped[str | None] = mapped_column(String(32), ForeignKey(DEPT_FK), index=True)
    co_departments: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")

    applicant_name: Mapped[str | None] = mapped_column(String(100))
    applicant_phone: Mapped[str | None] = mapped_column(String(32))
    applicant_id_number: Mapped[str | None] = mapped_column(String(18))
    applicant_type: Mapped[str] = mapped_column(String(16), server_default="individual")
    applicant_org_name: Mapped[str | None] = mapped_column(String(200))
    attachments: Mapped[list[str]] = mapped_column(JSONB, server_default="[]")
    location: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    routing: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    sign_due_at: Mapped[datetime | None]
    handle_due_at: Mapped[datetime | None]
    tracking_card: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")

    resolution_note: Mapped[str | None] = mapped_column(Text)
    referred_to: Mapped[str | None] = mapped_column(String(200))
    explanation: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(32))
    feedback_comment: Mapped[str | None] = mapped_column(Text)
    resolved: Mapped[bool | None]
    """解决率: the applicant said the matter was solved (True) or not (False); None: not asked
    or not said (a bare rating)."""
    responded: Mapped[bool | None]
    """响应率: the lead signed by its sign deadline (True), or missed it (False: signed late, or
    carded unsigned); None while no sign clock has ended."""
    rating_outcome: Mapped[str | None] = mapped_column(String(16))
    """不满意甄别: what became of the latest unsatisfied rating (`RatingOutcome`)."""
    rating_review_due_at: Mapped[datetime | None]
    """By when a coordinator decides an unsatisfied rating; undecided then, it reopens."""
    reopen_count: Mapped[int] = mapped_column(Integer, server_default="0")

    return_count: Mapped[int] = mapped_column(Integer, server_default="0")
    repeat_count: Mapped[int] = mapped_column(Integer, server_default="0")
    """重复件: how often the same person came back with the same matter while it was open."""
    transfer_count: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    """转办: how often the case was handed from one lead department to another."""
    remind_count: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    """催办: how often the lead department was reminded of it."""
    sent_back_count: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    """答复审核: how often the lead's reply was sent back by its reviewer."""
    assists_owed: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), server_default="{}", default=list
    )
    """协办: the co-departments whose opinion the lead still waits for (their tasks, `assists`,
    open): the reply waits for none, and they read the case in clear meanwhile."""
    merged_into: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """并单: the id of the lead case this one follows (no foreign key: `cases` is partitioned
    by id and the lead may sit in another month's partition)."""
    merged_into_no: Mapped[str | None] = mapped_column(String(40))
    merged_count: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    """并单: the cases following this one."""
    escalation_level: Mapped[str | None] = mapped_column(String(16))
    """提级: the level the case was last raised to; none while it stands at its lead's."""
    escalated: Mapped[list[str]] = mapped_column(
        ARRAY(String(16)), server_default="{}", default=list
    )
    """The thresholds the case was raised for, each once (`escalations` holds the record and
    its unique key); the sweep's plan reads it to know what is still to cross."""
    assignment_final: Mapped[bool] = mapped_column(Boolean, server_default="false")
    """Set when the coordinator assigns after the return cap: no further return or transfer."""
    assigned_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    sign_warn_at: Mapped[datetime | None]
    handle_warn_at: Mapped[datetime | None]
    sla_next_check_at: Mapped[datetime | None]
    """When the SLA sweep must next look at this case (a warning, a breach, a red card, an
    auto-close is due); NULL when nothing can become due. The sweep claims through its index."""
    reply: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    """The complaint's TF-IDF keywords, for 共性问题; NULL until computed (older cases)."""

    held_until: Mapped[datetime | None]
    """Registered with `hold`: the window is trying to settle it; routing takes it after this."""
    external_ref: Mapped[str | None] = mapped_column(String(64))
    """The channel's own id for the case (the 12345 order id)."""
    callback_url: Mapped[str | None] = mapped_column(Text)
    """Where the channel wants every status change (the 12345 order's callback_url)."""
    notices_opted_out: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)
    """The applicant asked for no more notices of this case (replied TD, or on the tracking
    page)."""
    notices_day: Mapped[date | None]
    notices_that_day: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    """Notices sent on `notices_day` (Shanghai), against the daily cap (services/notices)."""
    notices_asked: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)
    """A hotline order asked us to notify its caller too (other channels' applicants hear
    from us unless they opt out; the hotline's callers hear from the hotline)."""
    intake_hall: Mapped[str | None] = mapped_column(String(32))
    """The service hall (a department code) whose window key registered the case: its windows
    see the applicant in clear (need to know)."""
    applicant_openid: Mapped[str | None] = mapped_column(String(64))
    """The applicant's openid in the city's WeChat mini program: notices go there."""
    reply_code: Mapped[str | None] = mapped_column(String(4))
    """The four digits the replied notice asks the applicant to add to their rating (14821),
    so a phone waiting on two answers rates the right one."""
    created_by_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    closed_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]
    """When the worker removed the applicant's personal data, PERSONAL_DATA_RETENTION after the
    case closed (services/case/retention.py); the figures never needed it."""


LOCAL_DAY = cast(func.timezone("Asia/Shanghai", Case.created_at), Date)
"""The Shanghai calendar day a case was registered on: what every date filter and rollup means."""
Index("ix_cases_local_day", LOCAL_DAY)


class CaseEvent(Base):
    """Append-only history: who, when, from, to, why. A trigger refuses UPDATE and DELETE."""

    __tablename__ = "case_events"
    __table_args__ = (
        # The key holds the partition key (a case's month, like its case's); it also serves
        # reading one case's history in order.
        PrimaryKeyConstraint("case_id", "id"),
        {"postgresql_partition_by": "RANGE (case_id)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = created_at_column()
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_key_id: Mapped[uuid.UUID | None]
    actor_department: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


class TrackingCode(Base):
    """Which case a tracking code belongs to. A partitioned `cases` can only keep a column
    unique within each month; codes are random, so their uniqueness (the clash a registration
    retries on) and the look-up by code live here. A trigger on `cases` writes it (0002)."""

    __tablename__ = "tracking_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)


class CaseCounter(Base):
    """Per-day sequence behind `case_no`; an upsert on it is safe across processes."""

    __tablename__ = "case_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer)
