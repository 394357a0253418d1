"""Levels (层级): a department or service hall is at the city, a district or a street (街镇).

Existing rows take the level their place in the tree gives them: a root is the city's, its
children a district's, anything deeper a street's. An operator corrects a city department that
sits under a city bureau (as the sample's 不动产登记中心 under 规划和自然资源局) by importing it
with its `level`.

Revision ID: 0012_levels
Revises: 0011_separated_admins
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_levels"
down_revision: str | None = "0011_separated_admins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BINDING = (
    "CASE WHEN role = 'department' THEN department_code IS NOT NULL "
    "WHEN role IN ({}) THEN true ELSE department_code IS NULL END"
)


def _binding(roles: str) -> None:
    op.drop_constraint(op.f("ck_api_keys_department_binding"), "api_keys", type_="check")
    op.create_check_constraint(
        op.f("ck_api_keys_department_binding"), "api_keys", BINDING.format(roles)
    )


def upgrade() -> None:
    # A coordinator's or a supervisor's key may be bound to its unit.
    _binding("'window', 'coordinator', 'supervisor'")
    op.add_column(
        "departments",
        sa.Column("level", sa.String(length=16), server_default="city", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_departments_level"), "departments", "level IN ('city', 'district', 'street')"
    )
    op.execute("""
        WITH RECURSIVE tree AS (
            SELECT code, 0 AS depth FROM departments WHERE parent_code IS NULL
            UNION ALL
            SELECT d.code, tree.depth + 1 FROM departments d JOIN tree ON d.parent_code = tree.code
        )
        UPDATE departments SET level = CASE
            WHEN tree.depth = 0 THEN 'city' WHEN tree.depth = 1 THEN 'district' ELSE 'street' END
        FROM tree WHERE departments.code = tree.code
    """)


def downgrade() -> None:
    op.execute(
        "UPDATE api_keys SET department_code = NULL WHERE role IN ('coordinator', 'supervisor')"
    )
    _binding("'window'")
    op.drop_constraint(op.f("ck_departments_level"), "departments", type_="check")
    op.drop_column("departments", "level")
