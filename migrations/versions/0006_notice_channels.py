"""Notices by WeChat, and hotline cases whose hotline asks for them.

Revision ID: 0006_notice_channels
Revises: 0005_rating_response
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_notice_channels"
down_revision: str | None = "0005_rating_response"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default and a nullable column: no partition is rewritten.
    op.add_column(
        "cases",
        sa.Column("notices_asked", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column("cases", sa.Column("applicant_openid", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "applicant_openid")
    op.drop_column("cases", "notices_asked")
