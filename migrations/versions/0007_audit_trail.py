"""The audit trail of who saw personal data, and the auditor's role.

Revision ID: 0007_audit_trail
Revises: 0006_notice_channels
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_audit_trail"
down_revision: str | None = "0006_notice_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = (
    "'portal', 'hotline', 'window', 'department', 'coordinator', 'supervisor', 'dashboard', "
    "'admin', {}'system'"
)


def _roles(with_auditor: bool) -> None:
    op.drop_constraint(op.f("ck_api_keys_role"), "api_keys", type_="check")
    op.create_check_constraint(
        op.f("ck_api_keys_role"),
        "api_keys",
        "role IN (" + ROLES.format("'auditor', " if with_auditor else "") + ")",
    )


def upgrade() -> None:
    _roles(with_auditor=True)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("case_nos", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("fields", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_key_id_id", "audit_log", ["key_id", "id"])
    op.create_index("ix_audit_log_case_nos", "audit_log", ["case_nos"], postgresql_using="gin")
    # Nobody changes a row, and nobody removes one younger than six months (等保 2.0's floor),
    # whatever AUDIT_RETENTION says: the app's own key cannot cover its tracks either.
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN  -- nested: a TRUNCATE has no OLD to read
                IF OLD.at < now() - interval '6 months' THEN
                    RETURN OLD;
                END IF;
            END IF;
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
        """
    )
    # TRUNCATE skips row triggers: refuse it by a statement trigger.
    op.execute(
        """
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("audit_log")
    op.execute("DELETE FROM api_keys WHERE role = 'auditor'")
    _roles(with_auditor=False)
