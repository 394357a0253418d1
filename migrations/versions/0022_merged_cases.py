"""并单: a case may follow a lead case (`merged`: the status check and the open cases' partial
index name it; `merged_into`, `merged_into_no` on the follower, `merged_count` on the lead), and
the rollups count the merged cases, so figures show cases and matters.

Revision ID: 0022_merged_cases
Revises: 0021_matters
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_merged_cases"
down_revision: str | None = "0021_matters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "'registered', 'assigned', 'signed', 'suspended', 'returned', 'replied', 'reviewing', "
    "'rating_review', 'reopened', 'resolved_on_spot', 'out_of_scope', 'closed'"
)
OPEN = "'registered', 'assigned', 'signed', 'suspended', 'returned', 'reopened', 'reviewing'"
ROLLUPS = (
    "stats_by_day",
    "stats_by_department",
    "stats_by_district_department",
    "stats_by_category",
    "stats_by_district_category",
    "stats_by_unit_category",
    "stats_by_status",
)
WATCHED = (
    "created_at",
    "district",
    "category",
    "lead_department",
    "status",
    "resolution_note",
    "referred_to",
    "replied_at",
    "handle_due_at",
    "satisfaction",
    "repeat_count",
    "responded",
    "resolved",
    "rating_outcome",
)


def _statuses(statuses: str, open_ones: str) -> None:
    op.drop_constraint(op.f("ck_cases_status"), "cases", type_="check")
    op.create_check_constraint(op.f("ck_cases_status"), "cases", f"status IN ({statuses})")
    op.drop_index("ix_cases_open_handle_due_at", table_name="cases")
    op.create_index(
        "ix_cases_open_handle_due_at",
        "cases",
        ["handle_due_at"],
        postgresql_where=sa.text(f"status IN ({open_ones})"),
    )


def _trigger(columns: Sequence[str]) -> None:
    op.execute("DROP TRIGGER cases_stats_update ON cases")
    watched = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    op.execute(
        f"CREATE TRIGGER cases_stats_update AFTER UPDATE ON cases FOR EACH ROW "
        f"WHEN ({watched}) EXECUTE FUNCTION cases_stats_dirty()"
    )


def upgrade() -> None:
    _statuses(f"{STATUSES}, 'merged'", f"{OPEN}, 'merged'")
    op.add_column("cases", sa.Column("merged_into", sa.BigInteger(), nullable=True))
    op.add_column("cases", sa.Column("merged_into_no", sa.String(length=40), nullable=True))
    op.add_column(
        "cases", sa.Column("merged_count", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_index(op.f("ix_cases_merged_into"), "cases", ["merged_into"], unique=False)
    for table in ROLLUPS:
        op.add_column(table, sa.Column("merged", sa.Integer(), server_default="0", nullable=False))
    _trigger((*WATCHED, "merged_into"))


def downgrade() -> None:
    _trigger(WATCHED)
    for table in ROLLUPS:
        op.drop_column(table, "merged")
    # A follower waits for its lead no more: back to its department, to sign again.
    op.execute("UPDATE cases SET status = 'assigned' WHERE status = 'merged'")
    op.drop_index(op.f("ix_cases_merged_into"), table_name="cases")
    for column in ("merged_count", "merged_into_no", "merged_into"):
        op.drop_column("cases", column)
    _statuses(STATUSES, OPEN)
