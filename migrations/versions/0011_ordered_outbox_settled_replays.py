"""Outbox ordering keys (one case's callbacks in order), pending messages by case (routing
settles a hand-over it did), settled idempotency records.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("ordering_key", sa.String(length=300), nullable=True))
    op.create_index(
        "ix_outbox_ordering",
        "outbox",
        ["ordering_key", "id"],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NULL AND ordering_key IS NOT NULL"),
    )
    op.create_index(
        "ix_outbox_pending_case",
        "outbox",
        [sa.text("(payload ->> 'case_no')")],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.add_column(
        "idempotency_records",
        sa.Column("settled", sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("idempotency_records", "settled")
    op.drop_index(
        "ix_outbox_pending_case",
        table_name="outbox",
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.drop_index(
        "ix_outbox_ordering",
        table_name="outbox",
        postgresql_where=sa.text("delivered_at IS NULL AND ordering_key IS NOT NULL"),
    )
    op.drop_column("outbox", "ordering_key")
