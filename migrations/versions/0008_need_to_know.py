"""Need to know: window keys bound to a service hall, and the hall each case was registered at.

Revision ID: 0008_need_to_know
Revises: 0007_audit_trail
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_need_to_know"
down_revision: str | None = "0007_audit_trail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "(role = 'department') = (department_code IS NOT NULL)"
AFTER = (
    "CASE WHEN role = 'department' THEN department_code IS NOT NULL "
    "WHEN role = 'window' THEN true ELSE department_code IS NULL END"
)


def _binding(check: str) -> None:
    op.drop_constraint(op.f("ck_api_keys_department_binding"), "api_keys", type_="check")
    op.create_check_constraint(op.f("ck_api_keys_department_binding"), "api_keys", check)


def upgrade() -> None:
    # Existing window keys stay unbound: they see every case masked (but their own
    # registrations) until an admin binds them (PUT /api/v1/keys/{key_id}/hall).
    _binding(AFTER)
    # Nullable: no partition is rewritten. Cases registered before have no hall; their
    # applicants are in clear for the key that registered them and the coordinator.
    op.add_column("cases", sa.Column("intake_hall", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "intake_hall")
    op.execute("UPDATE api_keys SET department_code = NULL WHERE role = 'window'")
    _binding(BEFORE)
