"""办事指南: the matter catalogue (each import kept as a version; the one in force searchable).

Revision ID: 0021_matters
Revises: 0020_rectifications
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021_matters"
down_revision: str | None = "0020_rectifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "matter_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("catalogue", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("matters", sa.Integer(), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("published_by_key_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_matter_versions")),
    )
    op.create_table(
        "matters",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("materials", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("promised_days", sa.Integer(), nullable=True),
        sa.Column(
            "answers", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("search_key", sa.Text(), nullable=False),
        sa.Column("grams", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_matters")),
    )
    op.create_index("ix_matters_grams", "matters", ["grams"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_table("matters")
    op.drop_table("matter_versions")
