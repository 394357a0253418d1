"""Notices to the applicant: what was sent, and each case's opt-out and daily count.

Revision ID: 0003_applicant_notices
Revises: 0002_partition_cases
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_applicant_notices"
down_revision: str | None = "0002_partition_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Constant defaults: PostgreSQL adds these columns without rewriting a partition.
    op.add_column(
        "cases",
        sa.Column("notices_opted_out", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column("cases", sa.Column("notices_day", sa.Date(), nullable=True))
    op.add_column(
        "cases",
        sa.Column("notices_that_day", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_notices_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("event_id", name=op.f("uq_notices_event_id")),
    )
    op.create_index(op.f("ix_notices_case_id"), "notices", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_notices_case_id"), table_name="notices")
    op.drop_table("notices")
    op.drop_column("cases", "notices_that_day")
    op.drop_column("cases", "notices_day")
    op.drop_column("cases", "notices_opted_out")
