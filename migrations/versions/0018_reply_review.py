"""答复审核 (reply review): a case may wait in `reviewing` (its status check and the open cases'
partial index name it), each reply submitted for review is a row (`reply_reviews`) the figures
count, and a case counts its sent-back replies.

Revision ID: 0018_reply_review
Revises: 0017_assists
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_reply_review"
down_revision: str | None = "0017_assists"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "'registered', 'assigned', 'signed', 'suspended', 'returned', 'replied', 'reopened', "
    "'resolved_on_spot', 'out_of_scope', 'closed'"
)
OPEN = "'registered', 'assigned', 'signed', 'suspended', 'returned', 'reopened'"


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


def upgrade() -> None:
    _statuses(STATUSES.replace("'replied', ", "'replied', 'reviewing', "), f"{OPEN}, 'reviewing'")
    op.add_column(
        "cases", sa.Column("sent_back_count", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_table(
        "reply_reviews",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("review", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("decided_role", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('pending', 'approved', 'sent_back')",
            name=op.f("ck_reply_reviews_outcome"),
        ),
        sa.CheckConstraint(
            "review IN ('hall', 'coordinator')", name=op.f("ck_reply_reviews_review")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_reply_reviews_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_reviews")),
    )
    op.create_index("ix_reply_reviews_case_id", "reply_reviews", ["case_id"])
    op.create_index(
        "ix_reply_reviews_department_submitted_at",
        "reply_reviews",
        ["department", "submitted_at"],
    )
    op.create_index("ix_reply_reviews_submitted_at", "reply_reviews", ["submitted_at"])


def downgrade() -> None:
    op.drop_table("reply_reviews")
    op.drop_column("cases", "sent_back_count")
    # A reply waiting for review goes back to its department, as a send-back would.
    op.execute("UPDATE cases SET status = 'signed' WHERE status = 'reviewing'")
    _statuses(STATUSES, OPEN)
