"""The rating response rate: cases asked to rate, counted in every daily rollup.

Revision ID: 0005_rating_response
Revises: 0004_notice_replies
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_rating_response"
down_revision: str | None = "0004_notice_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = (
    "stats_by_day",
    "stats_by_department",
    "stats_by_district_department",
    "stats_by_category",
    "stats_by_district_category",
    "stats_by_status",
)


def upgrade() -> None:
    for table in ROLLUPS:
        # A constant default fills existing rows without rewriting the table, and lets a worker
        # of the previous release still insert while the release rolls.
        op.add_column(table, sa.Column("asked", sa.Integer(), server_default="0", nullable=False))
    # Every day already folded counted nobody as asked: mark them all dirty, so figures count
    # the cases live at once and the worker refolds them a month at a time.
    op.execute("INSERT INTO stats_dirty_days (day) SELECT DISTINCT day FROM stats_by_day")


def downgrade() -> None:
    for table in ROLLUPS:
        op.drop_column(table, "asked")
