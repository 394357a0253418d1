"""Retention: when a closed case's personal data was removed, and the index that finds the next.

Revision ID: 0009_retention
Revises: 0008_need_to_know
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_retention"
down_revision: str | None = "0008_need_to_know"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    # Partial: only closed cases not yet anonymised, so it stays small once the back-log is done.
    op.create_index(
        "ix_cases_anonymise_due",
        "cases",
        ["closed_at"],
        postgresql_where=sa.text("status = 'closed' AND anonymised_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_anonymise_due", table_name="cases")
    op.drop_column("cases", "anonymised_at")
