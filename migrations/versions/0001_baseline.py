"""The schema as first released: every table, index and constraint of the models, plus what
models cannot say (the append-only trigger on case_events, the trigger that marks a day's
stats dirty when a case changes).

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_baseline"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATS_WATCHED = (
    "created_at",
    "district",
    "category",
    "lead_department",
    "status",
    "resolution_note",
    "referred_to",
    "replied_at",
    "handle_due_at",
    "satisfaction",
    "repeat_count",
)
"""The columns the stats rollups count by: a change to one of them makes its day dirty."""


def upgrade() -> None:
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holidays", postgresql.ARRAY(sa.Date()), server_default="{}", nullable=False),
        sa.Column("workdays", postgresql.ARRAY(sa.Date()), server_default="{}", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_by_key_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )
    op.create_table(
        "case_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_case_counters")),
    )
    op.create_table(
        "departments",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("contact", sa.String(length=100), nullable=True),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["departments.code"],
            name=op.f("fk_departments_parent_code_departments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departments")),
    )
    op.create_index(
        op.f("ix_departments_parent_code"), "departments", ["parent_code"], unique=False
    )
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("settled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_records_scope_key")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "available_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ordering_key", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_delivered",
        "outbox",
        ["delivered_at"],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NOT NULL"),
    )
    op.create_index(
        "ix_outbox_failed",
        "outbox",
        ["failed_at"],
        unique=False,
        postgresql_where=sa.text("failed_at IS NOT NULL"),
    )
    op.create_index(
        "ix_outbox_ordering",
        "outbox",
        ["ordering_key", "id"],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NULL AND ordering_key IS NOT NULL"),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["available_at"],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NULL AND failed_at IS NULL"),
    )
    op.create_index(
        "ix_outbox_pending_case",
        "outbox",
        [sa.literal_column("(payload ->> 'case_no')")],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.create_index(op.f("ix_outbox_topic"), "outbox", ["topic"], unique=False)
    op.create_table(
        "rule_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_by_key_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_rule_drafts_singleton")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_drafts")),
    )
    op.create_table(
        "rule_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("table", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_by_key_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_rule_versions")),
    )
    op.create_table(
        "stats_by_category",
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("on_spot", sa.Integer(), nullable=False),
        sa.Column("out_of_scope", sa.Integer(), nullable=False),
        sa.Column("in_progress", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("replied", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("good", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Integer(), nullable=False),
        sa.Column("followed_resolved", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_by_category")),
    )
    op.create_index(op.f("ix_stats_by_category_day"), "stats_by_category", ["day"], unique=False)
    op.create_table(
        "stats_by_day",
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("on_spot", sa.Integer(), nullable=False),
        sa.Column("out_of_scope", sa.Integer(), nullable=False),
        sa.Column("in_progress", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("replied", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("good", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Integer(), nullable=False),
        sa.Column("followed_resolved", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_by_day")),
    )
    op.create_index(op.f("ix_stats_by_day_day"), "stats_by_day", ["day"], unique=False)
    op.create_table(
        "stats_by_department",
        sa.Column("lead_department", sa.String(length=32), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("on_spot", sa.Integer(), nullable=False),
        sa.Column("out_of_scope", sa.Integer(), nullable=False),
        sa.Column("in_progress", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("replied", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("good", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Integer(), nullable=False),
        sa.Column("followed_resolved", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_by_department")),
    )
    op.create_index(
        op.f("ix_stats_by_department_day"), "stats_by_department", ["day"], unique=False
    )
    op.create_table(
        "stats_by_district_category",
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("on_spot", sa.Integer(), nullable=False),
        sa.Column("out_of_scope", sa.Integer(), nullable=False),
        sa.Column("in_progress", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("replied", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("good", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Integer(), nullable=False),
        sa.Column("followed_resolved", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_by_district_category")),
    )
    op.create_index(
        op.f("ix_stats_by_district_category_day"),
        "stats_by_district_category",
        ["day"],
        unique=False,
    )
    op.create_table(
        "stats_by_district_department",
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("lead_department", sa.String(length=32), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("on_spot", sa.Integer(), nullable=False),
        sa.Column("out_of_scope", sa.Integer(), nullable=False),
        sa.Column("in_progress", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("replied", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("good", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Integer(), nullable=False),
        sa.Column("followed_resolved", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_by_district_department")),
    )
    op.create_index(
        op.f("ix_stats_by_district_department_day"),
        "stats_by_district_department",
        ["day"],
        unique=False,
    )
    op.create_table(
        "stats_by_status",
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("on_spot", sa.Integer(), nullable=False),
        sa.Column("out_of_scope", sa.Integer(), nullable=False),
        sa.Column("in_progress", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("replied", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("good", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Integer(), nullable=False),
        sa.Column("followed_resolved", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_by_status")),
    )
    op.create_index(op.f("ix_stats_by_status_day"), "stats_by_status", ["day"], unique=False)
    op.create_table(
        "stats_dirty_days",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_dirty_days")),
    )
    op.create_index(op.f("ix_stats_dirty_days_day"), "stats_dirty_days", ["day"], unique=False)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role = 'department') = (department_code IS NOT NULL)",
            name=op.f("ck_api_keys_department_binding"),
        ),
        sa.CheckConstraint(
            "role IN ('portal', 'hotline', 'window', 'department', 'coordinator', 'supervisor', 'dashboard', 'admin', 'system')",
            name=op.f("ck_api_keys_role"),
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_api_keys_department_code_departments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_no", sa.String(length=40), nullable=False),
        sa.Column("tracking_code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("trigger", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("matter_code", sa.String(length=64), nullable=True),
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("urgent", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("vulnerable", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("intake_department", sa.String(length=32), nullable=True),
        sa.Column("first_responsible_department", sa.String(length=32), nullable=True),
        sa.Column("lead_department", sa.String(length=32), nullable=True),
        sa.Column(
            "co_departments",
            postgresql.ARRAY(sa.String(length=32)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("applicant_name", sa.String(length=100), nullable=True),
        sa.Column("applicant_phone", sa.String(length=32), nullable=True),
        sa.Column("applicant_id_number", sa.String(length=18), nullable=True),
        sa.Column(
            "applicant_type", sa.String(length=16), server_default="individual", nullable=False
        ),
        sa.Column("applicant_org_name", sa.String(length=200), nullable=True),
        sa.Column(
            "attachments",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("location", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("routing", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("sign_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handle_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "tracking_card",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("referred_to", sa.String(length=200), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("satisfaction", sa.String(length=32), nullable=True),
        sa.Column("feedback_comment", sa.Text(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("return_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("repeat_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("assignment_final", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sign_warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handle_warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("keywords", postgresql.ARRAY(sa.String(length=32)), nullable=True),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_ref", sa.String(length=64), nullable=True),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column("created_by_key_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "applicant_type IN ('individual', 'enterprise')", name=op.f("ck_cases_applicant_type")
        ),
        sa.CheckConstraint(
            "category IS NULL OR category IN ('policy', 'system', 'materials', 'attitude', 'acceptance', 'consultation', 'approval', 'multi_department')",
            name=op.f("ck_cases_category"),
        ),
        sa.CheckConstraint(
            "channel IN ('portal', 'window', 'hotline', 'wechat', 'phone')",
            name=op.f("ck_cases_channel"),
        ),
        sa.CheckConstraint(
            "kind IS NULL OR kind IN ('cannot', 'hard', 'refused')", name=op.f("ck_cases_kind")
        ),
        sa.CheckConstraint(
            "satisfaction IS NULL OR satisfaction IN ('satisfied', 'basically_satisfied', 'unsatisfied')",
            name=op.f("ck_cases_satisfaction"),
        ),
        sa.CheckConstraint(
            "status IN ('registered', 'assigned', 'signed', 'suspended', 'returned', 'replied', 'reopened', 'resolved_on_spot', 'out_of_scope', 'closed')",
            name=op.f("ck_cases_status"),
        ),
        sa.CheckConstraint(
            "trigger IS NULL OR trigger IN ('not_told_once', 'materials_refused', 'overdue_elsewhere', 'other')",
            name=op.f("ck_cases_trigger"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_key_id"], ["api_keys.id"], name=op.f("fk_cases_created_by_key_id_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["first_responsible_department"],
            ["departments.code"],
            name=op.f("fk_cases_first_responsible_department_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["intake_department"],
            ["departments.code"],
            name=op.f("fk_cases_intake_department_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_department"],
            ["departments.code"],
            name=op.f("fk_cases_lead_department_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("case_no", name=op.f("uq_cases_case_no")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_cases_tracking_code")),
    )
    op.create_index(
        "ix_cases_applicant_phone_created_at",
        "cases",
        ["applicant_phone", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_cases_channel"), "cases", ["channel"], unique=False)
    op.create_index("ix_cases_created_at_id", "cases", ["created_at", "id"], unique=False)
    op.create_index(
        op.f("ix_cases_first_responsible_department"),
        "cases",
        ["first_responsible_department"],
        unique=False,
    )
    op.create_index(
        "ix_cases_keywords_missing",
        "cases",
        ["id"],
        unique=False,
        postgresql_where=sa.text("keywords IS NULL"),
    )
    op.create_index(op.f("ix_cases_lead_department"), "cases", ["lead_department"], unique=False)
    op.create_index(
        "ix_cases_local_day",
        "cases",
        [sa.literal_column("CAST(timezone('Asia/Shanghai', created_at) AS DATE)")],
        unique=False,
    )
    op.create_index(
        "ix_cases_open_handle_due_at",
        "cases",
        ["handle_due_at"],
        unique=False,
        postgresql_where=sa.text(
            "status IN ('registered', 'assigned', 'signed', 'suspended', 'returned', 'reopened')"
        ),
    )
    op.create_index(
        "ix_cases_sla_next_check_at",
        "cases",
        ["sla_next_check_at"],
        unique=False,
        postgresql_where=sa.text("sla_next_check_at IS NOT NULL"),
    )
    op.create_index("ix_cases_status_created_at", "cases", ["status", "created_at"], unique=False)
    op.create_table(
        "cards",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("colour", sa.String(length=8), nullable=False),
        sa.Column("deadline", sa.String(length=8), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("appeal_reason", sa.Text(), nullable=True),
        sa.Column("appealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint("colour IN ('yellow', 'red')", name=op.f("ck_cards_colour")),
        sa.CheckConstraint(
            "deadline IN ('sign', 'handle', 'drag', 'monthly')", name=op.f("ck_cards_deadline")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'appealed', 'upheld', 'revoked')", name=op.f("ck_cards_status")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_cards_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["department"], ["departments.code"], name=op.f("fk_cards_department_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cards")),
    )
    op.create_index("ix_cards_department_month", "cards", ["department", "month"], unique=False)
    op.create_index(
        "uq_cards_case_deadline",
        "cards",
        ["case_id", "deadline", "due_at"],
        unique=True,
        postgresql_where=sa.text("case_id IS NOT NULL"),
    )
    op.create_index(
        "uq_cards_monthly",
        "cards",
        ["department", "month"],
        unique=True,
        postgresql_where=sa.text("deadline = 'monthly'"),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("actor_department", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_events_case_id_cases"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index(op.f("ix_case_events_case_id"), "case_events", ["case_id"], unique=False)
    op.create_table(
        "extensions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("extend_by", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("requested_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_extensions_status")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_extensions_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["department"], ["departments.code"], name=op.f("fk_extensions_department_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extensions")),
    )
    op.create_index(op.f("ix_extensions_case_id"), "extensions", ["case_id"], unique=False)
    op.create_index(
        "uq_extensions_one_pending_per_case",
        "extensions",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "hotline_orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("callback_url", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_hotline_orders_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_hotline_orders")),
    )
    op.create_index(op.f("ix_hotline_orders_case_id"), "hotline_orders", ["case_id"], unique=False)
    op.create_table(
        "warnings",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("deadline", sa.String(length=8), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_warnings_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warnings")),
    )
    op.create_index(
        "uq_warnings_case_deadline", "warnings", ["case_id", "deadline", "due_at"], unique=True
    )
    op.create_table(
        "hotline_pushes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["hotline_orders.order_id"],
            name=op.f("fk_hotline_pushes_order_id_hotline_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_pushes")),
        sa.UniqueConstraint(
            "order_id", "body_hash", name=op.f("uq_hotline_pushes_order_id_body_hash")
        ),
    )
    op.execute(
        """
        CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'case_events is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
            FOR EACH ROW EXECUTE FUNCTION case_events_append_only()
        """
    )
    op.execute(
        """
        CREATE FUNCTION cases_stats_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO stats_dirty_days (day)
            VALUES (CAST(timezone('Asia/Shanghai', NEW.created_at) AS DATE));
            IF TG_OP = 'UPDATE' AND OLD.created_at IS DISTINCT FROM NEW.created_at THEN
                INSERT INTO stats_dirty_days (day)
                VALUES (CAST(timezone('Asia/Shanghai', OLD.created_at) AS DATE));
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER cases_stats_insert AFTER INSERT ON cases "
        "FOR EACH ROW EXECUTE FUNCTION cases_stats_dirty()"
    )
    watched = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in STATS_WATCHED)
    op.execute(
        f"CREATE TRIGGER cases_stats_update AFTER UPDATE ON cases FOR EACH ROW "
        f"WHEN ({watched}) EXECUTE FUNCTION cases_stats_dirty()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER cases_stats_update ON cases")
    op.execute("DROP TRIGGER cases_stats_insert ON cases")
    op.execute("DROP FUNCTION cases_stats_dirty()")
    op.execute("DROP TRIGGER case_events_append_only ON case_events")
    op.execute("DROP FUNCTION case_events_append_only()")
    op.drop_table("hotline_pushes")
    op.drop_index("uq_warnings_case_deadline", table_name="warnings")
    op.drop_table("warnings")
    op.drop_index(op.f("ix_hotline_orders_case_id"), table_name="hotline_orders")
    op.drop_table("hotline_orders")
    op.drop_index(
        "uq_extensions_one_pending_per_case",
        table_name="extensions",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index(op.f("ix_extensions_case_id"), table_name="extensions")
    op.drop_table("extensions")
    op.drop_index(op.f("ix_case_events_case_id"), table_name="case_events")
    op.drop_table("case_events")
    op.drop_index(
        "uq_cards_monthly", table_name="cards", postgresql_where=sa.text("deadline = 'monthly'")
    )
    op.drop_index(
        "uq_cards_case_deadline",
        table_name="cards",
        postgresql_where=sa.text("case_id IS NOT NULL"),
    )
    op.drop_index("ix_cards_department_month", table_name="cards")
    op.drop_table("cards")
    op.drop_index("ix_cases_status_created_at", table_name="cases")
    op.drop_index(
        "ix_cases_sla_next_check_at",
        table_name="cases",
        postgresql_where=sa.text("sla_next_check_at IS NOT NULL"),
    )
    op.drop_index(
        "ix_cases_open_handle_due_at",
        table_name="cases",
        postgresql_where=sa.text(
            "status IN ('registered', 'assigned', 'signed', 'suspended', 'returned', 'reopened')"
        ),
    )
    op.drop_index("ix_cases_local_day", table_name="cases")
    op.drop_index(op.f("ix_cases_lead_department"), table_name="cases")
    op.drop_index(
        "ix_cases_keywords_missing",
        table_name="cases",
        postgresql_where=sa.text("keywords IS NULL"),
    )
    op.drop_index(op.f("ix_cases_first_responsible_department"), table_name="cases")
    op.drop_index("ix_cases_created_at_id", table_name="cases")
    op.drop_index(op.f("ix_cases_channel"), table_name="cases")
    op.drop_index("ix_cases_applicant_phone_created_at", table_name="cases")
    op.drop_table("cases")
    op.drop_table("api_keys")
    op.drop_index(op.f("ix_stats_dirty_days_day"), table_name="stats_dirty_days")
    op.drop_table("stats_dirty_days")
    op.drop_index(op.f("ix_stats_by_status_day"), table_name="stats_by_status")
    op.drop_table("stats_by_status")
    op.drop_index(
        op.f("ix_stats_by_district_department_day"), table_name="stats_by_district_department"
    )
    op.drop_table("stats_by_district_department")
    op.drop_index(
        op.f("ix_stats_by_district_category_day"), table_name="stats_by_district_category"
    )
    op.drop_table("stats_by_district_category")
    op.drop_index(op.f("ix_stats_by_department_day"), table_name="stats_by_department")
    op.drop_table("stats_by_department")
    op.drop_index(op.f("ix_stats_by_day_day"), table_name="stats_by_day")
    op.drop_table("stats_by_day")
    op.drop_index(op.f("ix_stats_by_category_day"), table_name="stats_by_category")
    op.drop_table("stats_by_category")
    op.drop_table("rule_versions")
    op.drop_table("rule_drafts")
    op.drop_index(op.f("ix_outbox_topic"), table_name="outbox")
    op.drop_index(
        "ix_outbox_pending_case",
        table_name="outbox",
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.drop_index(
        "ix_outbox_pending",
        table_name="outbox",
        postgresql_where=sa.text("delivered_at IS NULL AND failed_at IS NULL"),
    )
    op.drop_index(
        "ix_outbox_ordering",
        table_name="outbox",
        postgresql_where=sa.text("delivered_at IS NULL AND ordering_key IS NOT NULL"),
    )
    op.drop_index(
        "ix_outbox_failed", table_name="outbox", postgresql_where=sa.text("failed_at IS NOT NULL")
    )
    op.drop_index(
        "ix_outbox_delivered",
        table_name="outbox",
        postgresql_where=sa.text("delivered_at IS NOT NULL"),
    )
    op.drop_table("outbox")
    op.drop_table("idempotency_records")
    op.drop_index(op.f("ix_departments_parent_code"), table_name="departments")
    op.drop_table("departments")
    op.drop_table("case_counters")
    op.drop_table("calendar_years")
