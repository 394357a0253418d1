"""Figures by unit (层级): a rollup of each day by district, lead department and category, so a
unit's top categories are summed from its subtree's departments as the city's are.

Every day already folded is marked dirty: figures count its cases live at once, and the worker
folds them (into the new rollup too) a month at a time.

Revision ID: 0014_unit_figures
Revises: 0013_duty_roster
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_unit_figures"
down_revision: str | None = "0013_duty_roster"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEASURES = (
    "received",
    "on_spot",
    "out_of_scope",
    "in_progress",
    "closed",
    "replied",
    "on_time",
    "timed",
    "good",
    "rated",
)


def upgrade() -> None:
    op.create_table(
        "stats_by_unit_category",
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("lead_department", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in MEASURES),
        sa.Column("asked", sa.Integer(), server_default="0", nullable=False),
        sa.Column("followed", sa.Integer(), nullable=False),
        sa.Column("followed_resolved", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_by_unit_category")),
    )
    op.create_index(
        op.f("ix_stats_by_unit_category_day"), "stats_by_unit_category", ["day"], unique=False
    )
    op.execute("INSERT INTO stats_dirty_days (day) SELECT DISTINCT day FROM stats_by_day")


def downgrade() -> None:
    op.drop_index(op.f("ix_stats_by_unit_category_day"), table_name="stats_by_unit_category")
    op.drop_table("stats_by_unit_category")
