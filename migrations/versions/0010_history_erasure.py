"""Retention may erase the applicant from the case history's words, and do nothing else to it.

The history stays append-only: no DELETE, no UPDATE, except an UPDATE of `reason` and `data`
alone in a transaction that said `SET LOCAL gaodedim.erasing = 'on'` (the worker's retention
step, `services/case/retention.py`). Who did what, when, and to which status never changes.

Revision ID: 0010_history_erasure
Revises: 0009_retention
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_history_erasure"
down_revision: str | None = "0009_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ERASING = """
CREATE OR REPLACE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND current_setting('gaodedim.erasing', true) = 'on'
        AND (NEW.id, NEW.case_id, NEW.at, NEW.action, NEW.from_status, NEW.to_status,
             NEW.actor_role, NEW.actor_key_id, NEW.actor_department)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.case_id, OLD.at, OLD.action, OLD.from_status, OLD.to_status,
             OLD.actor_role, OLD.actor_key_id, OLD.actor_department)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'case_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
"""

STRICT = """
CREATE OR REPLACE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
"""


def upgrade() -> None:
    op.execute(ERASING)


def downgrade() -> None:
    op.execute(STRICT)
