"""提级 (escalation): each threshold a case crosses is recorded once (`escalations`, unique per
case and reason), the case keeps the level it was raised to and the thresholds it was raised
for (what the sweep's plan reads), and a partial index lists the escalated cases.

Revision ID: 0016_escalation
Revises: 0015_supervision
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_escalation"
down_revision: str | None = "0015_supervision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = "IN ('city', 'district', 'street')"


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("from_level", sa.String(length=16), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supervision_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "reason IN ('reopened', 'transferred', 'returned', 'overdue', 'repeats')",
            name=op.f("ck_escalations_reason"),
        ),
        sa.CheckConstraint(f"level {LEVELS}", name=op.f("ck_escalations_level")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_escalations_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["unit"], ["departments.code"], name=op.f("fk_escalations_unit_departments")
        ),
        sa.ForeignKeyConstraint(
            ["supervision_id"],
            ["supervisions.id"],
            name=op.f("fk_escalations_supervision_id_supervisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("case_id", "reason", name="uq_escalations_case_reason"),
    )
    op.create_index("ix_escalations_at", "escalations", ["at"])
    op.add_column("cases", sa.Column("escalation_level", sa.String(length=16), nullable=True))
    op.add_column(
        "cases",
        sa.Column(
            "escalated",
            postgresql.ARRAY(sa.String(length=16)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_cases_escalation_level"), "cases", f"escalation_level {LEVELS}"
    )
    op.create_index(
        "ix_cases_escalated_created_at",
        "cases",
        ["created_at", "id"],
        postgresql_where=sa.text("escalation_level IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_escalated_created_at", table_name="cases")
    op.drop_constraint(op.f("ck_cases_escalation_level"), "cases", type_="check")
    op.drop_column("cases", "escalated")
    op.drop_column("cases", "escalation_level")
    op.drop_index("ix_escalations_at", table_name="escalations")
    op.drop_table("escalations")
