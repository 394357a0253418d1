"""不满意甄别 and the three rates: a case may wait in `rating_review` with a due time and keeps
its review's outcome; the applicant's 解决 answer (`resolved`) and the lead's 响应 (`responded`)
are stored; the 好差评 scale has five levels; the rollups count the new measures, and the
trigger marks a day dirty when one of their columns changes.

Revision ID: 0019_rating_review
Revises: 0018_reply_review
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_rating_review"
down_revision: str | None = "0018_reply_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "'registered', 'assigned', 'signed', 'suspended', 'returned', 'replied', 'reviewing', "
    "'reopened', 'resolved_on_spot', 'out_of_scope', 'closed'"
)
SATISFACTION = "'satisfied', 'basically_satisfied', 'unsatisfied'"
ROLLUPS = (
    "stats_by_day",
    "stats_by_department",
    "stats_by_district_department",
    "stats_by_category",
    "stats_by_district_category",
    "stats_by_unit_category",
    "stats_by_status",
)
MEASURES = ("responded", "response_due", "solved", "solve_asked", "upheld")
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
)
NEW_WATCHED = ("responded", "resolved", "rating_outcome")


def _check(name: str, condition: str) -> None:
    op.drop_constraint(op.f(f"ck_cases_{name}"), "cases", type_="check")
    op.create_check_constraint(op.f(f"ck_cases_{name}"), "cases", condition)


def _trigger(columns: Sequence[str]) -> None:
    op.execute("DROP TRIGGER cases_stats_update ON cases")
    watched = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    op.execute(
        f"CREATE TRIGGER cases_stats_update AFTER UPDATE ON cases FOR EACH ROW "
        f"WHEN ({watched}) EXECUTE FUNCTION cases_stats_dirty()"
    )


def upgrade() -> None:
    with_review = STATUSES.replace("'reopened'", "'rating_review', 'reopened'")
    _check("status", f"status IN ({with_review})")
    _check(
        "satisfaction",
        f"satisfaction IS NULL OR satisfaction IN "
        f"('very_satisfied', {SATISFACTION}, 'very_unsatisfied')",
    )
    op.add_column("cases", sa.Column("resolved", sa.Boolean(), nullable=True))
    op.add_column("cases", sa.Column("responded", sa.Boolean(), nullable=True))
    op.add_column("cases", sa.Column("rating_outcome", sa.String(length=16), nullable=True))
    op.add_column(
        "cases", sa.Column("rating_review_due_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_cases_rating_outcome"),
        "cases",
        "rating_outcome IS NULL OR rating_outcome IN ('pending', 'reopened', 'upheld', 'lapsed')",
    )
    # 响应 as far as the cases already say it: signed by the deadline that was running.
    op.execute(
        "UPDATE cases SET responded = (signed_at <= sign_due_at) "
        "WHERE signed_at IS NOT NULL AND sign_due_at IS NOT NULL"
    )
    for table in ROLLUPS:
        for measure in MEASURES:
            # A constant default: no table rewrite, and the previous release's fold still inserts.
            op.add_column(
                table, sa.Column(measure, sa.Integer(), server_default="0", nullable=False)
            )
    _trigger(WATCHED + NEW_WATCHED)
    # Every day folded so far counted none of the new measures: count them live until refolded.
    op.execute("INSERT INTO stats_dirty_days (day) SELECT DISTINCT day FROM stats_by_day")


def downgrade() -> None:
    _trigger(WATCHED)
    for table in ROLLUPS:
        for measure in MEASURES:
            op.drop_column(table, measure)
    # An unsatisfied rating waiting for its review is redone, as before the review existed.
    op.execute("UPDATE cases SET status = 'reopened' WHERE status = 'rating_review'")
    op.execute("UPDATE cases SET satisfaction = 'satisfied' WHERE satisfaction = 'very_satisfied'")
    op.execute(
        "UPDATE cases SET satisfaction = 'unsatisfied' WHERE satisfaction = 'very_unsatisfied'"
    )
    op.drop_constraint(op.f("ck_cases_rating_outcome"), "cases", type_="check")
    for column in ("rating_review_due_at", "rating_outcome", "responded", "resolved"):
        op.drop_column("cases", column)
    _check("satisfaction", f"satisfaction IS NULL OR satisfaction IN ({SATISFACTION})")
    _check("status", f"status IN ({STATUSES})")
