"""All tables, imported here so Alembic and the app see one metadata."""

from shared.models.api_key import ApiKey
from shared.models.assist import Assist
from shared.models.audit import AuditEntry
from shared.models.base import Base
from shared.models.calendar import CalendarYear
from shared.models.card import Card, Warning
from shared.models.case import PARTITION, Case, CaseCounter, CaseEvent, TrackingCode
from shared.models.department import Department
from shared.models.duty import DutyShift
from shared.models.escalation import Escalation
from shared.models.extension import Extension
from shared.models.hotline import HotlineOrder, HotlinePush
from shared.models.idempotency import IdempotencyRecord
from shared.models.matter import Matter, MatterVersion
from shared.models.notice import Notice, NoticeTemplate, SmsReply
from shared.models.outbox import OutboxMessage
from shared.models.rectification import Rectification, RectificationCase, RectificationEvent
from shared.models.reply_review import ReplyReviewRecord
from shared.models.rules import RuleDraft, RuleVersion
from shared.models.stats import (
    StatsByCategory,
    StatsByDay,
    StatsByDepartment,
    StatsByDistrictCategory,
    StatsByDistrictDepartment,
    StatsByStatus,
    StatsByUnitCategory,
    StatsDirtyDay,
)
from shared.models.supervision import Supervision, SupervisionCounter

__all__ = [
    "PARTITION",
    "ApiKey",
    "Assist",
    "AuditEntry",
    "Base",
    "CalendarYear",
    "Card",
    "Case",
    "CaseCounter",
    "CaseEvent",
    "Department",
    "DutyShift",
    "Escalation",
    "Extension",
    "HotlineOrder",
    "HotlinePush",
    "IdempotencyRecord",
    "Matter",
    "MatterVersion",
    "Notice",
    "NoticeTemplate",
    "OutboxMessage",
    "Rectification",
    "RectificationCase",
    "RectificationEvent",
    "ReplyReviewRecord",
    "RuleDraft",
    "RuleVersion",
    "SmsReply",
    "StatsByCategory",
    "StatsByDay",
    "StatsByDepartment",
    "StatsByDistrictCategory",
    "StatsByDistrictDepartment",
    "StatsByStatus",
    "StatsByUnitCategory",
    "StatsDirtyDay",
    "Supervision",
    "SupervisionCounter",
    "TrackingCode",
    "Warning",
]
