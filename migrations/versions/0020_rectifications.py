"""整改: the rectification register, the cases each was opened from, its history, and the one card
an overdue rectification gives its owner (`cards.rectification_id`, unique). Cases' keywords get
a GIN index: a rectification's recurrence is the cases whose keywords hold its topic.

Revision ID: 0020_rectifications
Revises: 0019_rating_review
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020_rectifications"
down_revision: str | None = "0019_rating_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEADLINES = "'sign', 'handle', 'drag', 'monthly', 'supervision', 'assist'"


def _deadlines(values: str) -> None:
    op.drop_constraint(op.f("ck_cards_deadline"), "cards", type_="check")
    op.create_check_constraint(op.f("ck_cards_deadline"), "cards", f"deadline IN ({values})")


def upgrade() -> None:
    op.create_table(
        "rectifications",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("issuing_unit", sa.String(length=32), nullable=True),
        sa.Column(
            "topic", postgresql.ARRAY(sa.String(length=32)), server_default="{}", nullable=False
        ),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_estimated", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("change", sa.String(length=16), nullable=True),
        sa.Column("change_note", sa.Text(), nullable=True),
        sa.Column("document_ref", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopen_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("created_by_key_id", sa.Uuid(), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'done', 'verified')",
            name=op.f("ck_rectifications_status"),
        ),
        sa.CheckConstraint(
            "change IS NULL OR change IN ('policy', 'process', 'system', 'rule', 'training')",
            name=op.f("ck_rectifications_change"),
        ),
        sa.ForeignKeyConstraint(
            ["department"],
            ["departments.code"],
            name=op.f("fk_rectifications_department_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["issuing_unit"],
            ["departments.code"],
            name=op.f("fk_rectifications_issuing_unit_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectifications")),
    )
    op.create_index(
        "ix_rectifications_due_undone",
        "rectifications",
        ["due_at"],
        postgresql_where=sa.text("status IN ('open', 'in_progress') AND overdue_at IS NULL"),
    )
    op.create_index("ix_rectifications_department", "rectifications", ["department"])
    op.create_table(
        "rectification_cases",
        sa.Column("rectification_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            ["rectifications.id"],
            name=op.f("fk_rectification_cases_rectification_id_rectifications"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_rectification_cases_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("rectification_id", "case_id", name=op.f("pk_rectification_cases")),
    )
    op.create_index(
        op.f("ix_rectification_cases_case_id"), "rectification_cases", ["case_id"], unique=False
    )
    op.create_table(
        "rectification_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("rectification_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            ["rectifications.id"],
            name=op.f("fk_rectification_events_rectification_id_rectifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_events")),
    )
    op.create_index(
        op.f("ix_rectification_events_rectification_id"),
        "rectification_events",
        ["rectification_id"],
        unique=False,
    )
    op.add_column("cards", sa.Column("rectification_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_cards_rectification_id_rectifications"),
        "cards",
        "rectifications",
        ["rectification_id"],
        ["id"],
    )
    op.create_index(
        "uq_cards_rectification",
        "cards",
        ["rectification_id"],
        unique=True,
        postgresql_where=sa.text("rectification_id IS NOT NULL"),
    )
    _deadlines(f"{DEADLINES}, 'rectification'")
    op.create_index("ix_cases_keywords", "cases", ["keywords"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_cases_keywords", table_name="cases")
    op.execute("DELETE FROM cards WHERE deadline = 'rectification'")
    _deadlines(DEADLINES)
    op.drop_index("uq_cards_rectification", table_name="cards")
    op.drop_constraint(op.f("fk_cards_rectification_id_rectifications"), "cards")
    op.drop_column("cards", "rectification_id")
    op.drop_table("rectification_events")
    op.drop_table("rectification_cases")
    op.drop_table("rectifications")
