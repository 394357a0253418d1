"""三员分立: the security administrator, who holds and issues each key, and what changed;
hand-overs to routing that were given up go again.

Keys name their holder, who issued them and who revoked them; the audit trail says what a
change changed (`subject`). Older keys keep NULL holders and issuers: the list shows them so.

Revision ID: 0011_separated_admins
Revises: 0010_history_erasure
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_separated_admins"
down_revision: str | None = "0010_history_erasure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = (
    "'portal', 'hotline', 'window', 'department', 'coordinator', 'supervisor', 'dashboard', "
    "'admin', 'auditor', {}'system'"
)


def _roles(with_security_admin: bool) -> None:
    op.drop_constraint(op.f("ck_api_keys_role"), "api_keys", type_="check")
    op.create_check_constraint(
        op.f("ck_api_keys_role"),
        "api_keys",
        "role IN (" + ROLES.format("'security_admin', " if with_security_admin else "") + ")",
    )


def upgrade() -> None:
    _roles(with_security_admin=True)
    op.add_column("api_keys", sa.Column("holder", sa.String(length=200), nullable=True))
    op.add_column("api_keys", sa.Column("issued_by_key_id", sa.Uuid(), nullable=True))
    op.add_column("api_keys", sa.Column("issued_by_role", sa.String(length=32), nullable=True))
    op.add_column("api_keys", sa.Column("revoked_by_key_id", sa.Uuid(), nullable=True))
    op.add_column("api_keys", sa.Column("revoked_by_role", sa.String(length=32), nullable=True))
    op.add_column("audit_log", sa.Column("subject", sa.Text(), nullable=True))
    op.create_index(
        "ix_outbox_retrying",
        "outbox",
        ["topic", "id"],
        postgresql_where=sa.text(
            "delivered_at IS NULL AND failed_at IS NULL AND last_error IS NOT NULL"
        ),
    )
    # A registered case's hand-over to routing is no longer given up (services/outbox UNTIL_DONE):
    # those given up before this release go again, oldest first.
    op.execute(
        "UPDATE outbox SET failed_at = NULL, attempts = 0, available_at = created_at "
        "WHERE topic = 'case.registered' AND failed_at IS NOT NULL AND delivered_at IS NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_retrying", table_name="outbox")
    # The trail's trigger refuses UPDATE, and dropping a column is none: `subject` goes whole.
    op.drop_column("audit_log", "subject")
    for column in ("revoked_by_role", "revoked_by_key_id", "issued_by_role", "issued_by_key_id"):
        op.drop_column("api_keys", column)
    op.drop_column("api_keys", "holder")
    op.execute("DELETE FROM api_keys WHERE role = 'security_admin'")
    _roles(with_security_admin=False)
