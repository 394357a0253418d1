"""The duty roster (值班): who is on duty for a unit, when, and how to reach them.

Revision ID: 0013_duty_roster
Revises: 0012_levels
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_duty_roster"
down_revision: str | None = "0012_levels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("duty", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "duty IN ('leader', 'chief', 'patrol')", name=op.f("ck_duty_shifts_duty")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_duty_shifts_span")),
        sa.ForeignKeyConstraint(
            ["unit"],
            ["departments.code"],
            name=op.f("fk_duty_shifts_unit_departments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
    )
    op.create_index("ix_duty_shifts_unit_starts_at", "duty_shifts", ["unit", "starts_at"])
    op.create_index("ix_duty_shifts_unit_day", "duty_shifts", ["unit", "day"])


def downgrade() -> None:
    op.drop_table("duty_shifts")
