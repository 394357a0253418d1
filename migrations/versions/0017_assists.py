"""协办 (assist tasks): a co-department's opinion owed to the lead by a time, one task per case
and department; `cards.assist_id` (unique) cards a task owed past its time once, and the cases'
index of one card per deadline and due time leaves those cards out; `cases.assists_owed` lists
the departments still owing (what the reply and the need to know read). Cases routed before
this keep their co-departments without tasks: nobody owes on them.

Revision ID: 0017_assists
Revises: 0016_escalation
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017_assists"
down_revision: str | None = "0016_escalation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEADLINES = "deadline IN ('sign', 'handle', 'drag', 'monthly', 'supervision'{more})"


def upgrade() -> None:
    op.create_table(
        "assists",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("waived_reason", sa.Text(), nullable=True),
        sa.Column("waived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("waived_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'answered', 'waived')", name=op.f("ck_assists_status")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_assists_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["department"], ["departments.code"], name=op.f("fk_assists_department_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assists")),
        sa.UniqueConstraint("case_id", "department", name="uq_assists_case_department"),
    )
    op.create_index(
        "ix_assists_due_open",
        "assists",
        ["due_at"],
        postgresql_where=sa.text("status = 'open' AND overdue_at IS NULL"),
    )
    op.create_index("ix_assists_department_status", "assists", ["department", "status"])

    op.drop_constraint(op.f("ck_cards_deadline"), "cards", type_="check")
    op.create_check_constraint(
        op.f("ck_cards_deadline"), "cards", DEADLINES.format(more=", 'assist'")
    )
    op.add_column("cards", sa.Column("assist_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_cards_assist_id_assists"), "cards", "assists", ["assist_id"], ["id"]
    )
    op.drop_index("uq_cards_case_deadline", table_name="cards")
    op.create_index(
        "uq_cards_case_deadline",
        "cards",
        ["case_id", "deadline", "due_at"],
        unique=True,
        postgresql_where=sa.text(
            "case_id IS NOT NULL AND supervision_id IS NULL AND assist_id IS NULL"
        ),
    )
    op.create_index(
        "uq_cards_assist",
        "cards",
        ["assist_id"],
        unique=True,
        postgresql_where=sa.text("assist_id IS NOT NULL"),
    )
    op.add_column(
        "cases",
        sa.Column(
            "assists_owed",
            postgresql.ARRAY(sa.String(length=32)),
            server_default="{}",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("cases", "assists_owed")
    op.drop_index("uq_cards_assist", table_name="cards")
    op.drop_index("uq_cards_case_deadline", table_name="cards")
    op.execute("DELETE FROM cards WHERE assist_id IS NOT NULL")
    op.create_index(
        "uq_cards_case_deadline",
        "cards",
        ["case_id", "deadline", "due_at"],
        unique=True,
        postgresql_where=sa.text("case_id IS NOT NULL AND supervision_id IS NULL"),
    )
    op.drop_constraint(op.f("fk_cards_assist_id_assists"), "cards", type_="foreignkey")
    op.drop_column("cards", "assist_id")
    op.drop_constraint(op.f("ck_cards_deadline"), "cards", type_="check")
    op.create_check_constraint(op.f("ck_cards_deadline"), "cards", DEADLINES.format(more=""))
    op.drop_index("ix_assists_department_status", table_name="assists")
    op.drop_index("ix_assists_due_open", table_name="assists")
    op.drop_table("assists")
