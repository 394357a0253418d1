"""督办 (supervision orders), 催办 counts, transfer counts, departments' notice mobiles.

An order is a numbered document (`DB-YYYYMMDD-NNN`, gapless per day) to the lead department,
due in working time; unanswered when due it gives one card, which `cards.supervision_id` keeps
unique. The cases' index of one card per deadline and due time leaves those cards out, so two
orders falling due at the same moment each give theirs. `transfer_count` is backfilled from the
history, for the escalation thresholds that read it.

Revision ID: 0015_supervision
Revises: 0014_unit_figures
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_supervision"
down_revision: str | None = "0014_unit_figures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = "level IN ('city', 'district', 'street')"


def upgrade() -> None:
    op.create_table(
        "supervisions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("order_no", sa.String(length=24), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("copied_to", sa.String(length=32), nullable=True),
        sa.Column("issuing_unit", sa.String(length=32), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), server_default="order", nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("respond_within", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("issued_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'answered', 'overdue')", name=op.f("ck_supervisions_status")
        ),
        sa.CheckConstraint(
            "source IN ('order', 'escalation')", name=op.f("ck_supervisions_source")
        ),
        sa.CheckConstraint(LEVELS, name=op.f("ck_supervisions_level")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_supervisions_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["department"],
            ["departments.code"],
            name=op.f("fk_supervisions_department_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["copied_to"], ["departments.code"], name=op.f("fk_supervisions_copied_to_departments")
        ),
        sa.ForeignKeyConstraint(
            ["issuing_unit"],
            ["departments.code"],
            name=op.f("fk_supervisions_issuing_unit_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisions")),
        sa.UniqueConstraint("order_no", name=op.f("uq_supervisions_order_no")),
    )
    op.create_index(op.f("ix_supervisions_case_id"), "supervisions", ["case_id"])
    op.create_index(
        "ix_supervisions_due_open",
        "supervisions",
        ["due_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_supervisions_department_issued_at", "supervisions", ["department", "issued_at"]
    )
    op.create_index("ix_supervisions_issued_at", "supervisions", ["issued_at"])
    op.create_table(
        "supervision_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_supervision_counters")),
    )

    op.alter_column("cards", "deadline", type_=sa.String(length=16))
    op.drop_constraint(op.f("ck_cards_deadline"), "cards", type_="check")
    op.create_check_constraint(
        op.f("ck_cards_deadline"),
        "cards",
        "deadline IN ('sign', 'handle', 'drag', 'monthly', 'supervision')",
    )
    op.add_column("cards", sa.Column("supervision_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_cards_supervision_id_supervisions"),
        "cards",
        "supervisions",
        ["supervision_id"],
        ["id"],
    )
    op.drop_index("uq_cards_case_deadline", table_name="cards")
    op.create_index(
        "uq_cards_case_deadline",
        "cards",
        ["case_id", "deadline", "due_at"],
        unique=True,
        postgresql_where=sa.text("case_id IS NOT NULL AND supervision_id IS NULL"),
    )
    op.create_index(
        "uq_cards_supervision",
        "cards",
        ["supervision_id"],
        unique=True,
        postgresql_where=sa.text("supervision_id IS NOT NULL"),
    )

    op.add_column("departments", sa.Column("notice_mobile", sa.String(length=32), nullable=True))
    for column in ("transfer_count", "remind_count"):
        op.add_column("cases", sa.Column(column, sa.Integer(), server_default="0", nullable=False))
    op.execute("""
        UPDATE cases SET transfer_count = t.n
        FROM (SELECT case_id, count(*) AS n FROM case_events
              WHERE action = 'transfer' GROUP BY case_id) AS t
        WHERE cases.id = t.case_id
    """)


def downgrade() -> None:
    op.drop_column("departments", "notice_mobile")
    for column in ("transfer_count", "remind_count"):
        op.drop_column("cases", column)
    op.drop_index("uq_cards_supervision", table_name="cards")
    op.execute("DELETE FROM cards WHERE supervision_id IS NOT NULL")
    op.drop_index("uq_cards_case_deadline", table_name="cards")
    op.create_index(
        "uq_cards_case_deadline",
        "cards",
        ["case_id", "deadline", "due_at"],
        unique=True,
        postgresql_where=sa.text("case_id IS NOT NULL"),
    )
    op.drop_constraint(op.f("fk_cards_supervision_id_supervisions"), "cards", type_="foreignkey")
    op.drop_column("cards", "supervision_id")
    op.drop_constraint(op.f("ck_cards_deadline"), "cards", type_="check")
    op.create_check_constraint(
        op.f("ck_cards_deadline"), "cards", "deadline IN ('sign', 'handle', 'drag', 'monthly')"
    )
    op.alter_column("cards", "deadline", type_=sa.String(length=8))
    op.drop_table("supervision_counters")
    op.drop_table("supervisions")
