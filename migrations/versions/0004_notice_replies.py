"""Notices, second part: templates kept as data, the applicant's replies, delivery receipts.

Revision ID: 0004_notice_replies
Revises: 0003_applicant_notices
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_notice_replies"
down_revision: str | None = "0003_applicant_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: added to every partition without rewriting one.
    op.add_column("cases", sa.Column("reply_code", sa.String(length=4), nullable=True))
    op.add_column("notices", sa.Column("template_version", sa.Integer(), nullable=True))
    op.add_column("notices", sa.Column("delivered", sa.Boolean(), nullable=True))
    op.add_column("notices", sa.Column("delivery_code", sa.String(length=32), nullable=True))
    op.add_column("notices", sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_notices_provider_ref"), "notices", ["provider_ref"], unique=False)
    op.create_table(
        "notice_templates",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_templates")),
    )
    op.create_index(
        "uq_notice_templates_event_version",
        "notice_templates",
        ["event", "version"],
        unique=True,
    )
    op.create_table(
        "sms_replies",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("phone_last4", sa.String(length=4), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_sms_replies_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_replies")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_sms_replies_provider_id")),
    )
    op.create_index(op.f("ix_sms_replies_case_id"), "sms_replies", ["case_id"], unique=False)
    op.create_index(
        "ix_sms_replies_waiting",
        "sms_replies",
        ["id"],
        unique=False,
        postgresql_where=sa.text("outcome = 'other' AND read_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_sms_replies_waiting", table_name="sms_replies")
    op.drop_index(op.f("ix_sms_replies_case_id"), table_name="sms_replies")
    op.drop_table("sms_replies")
    op.drop_index("uq_notice_templates_event_version", table_name="notice_templates")
    op.drop_table("notice_templates")
    op.drop_index(op.f("ix_notices_provider_ref"), table_name="notices")
    op.drop_column("notices", "reported_at")
    op.drop_column("notices", "delivery_code")
    op.drop_column("notices", "delivered")
    op.drop_column("notices", "template_version")
    op.drop_column("cases", "reply_code")
