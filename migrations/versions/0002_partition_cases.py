"""Cases and their history partitioned by month.

A province keeps ten years of cases (3.65 billion, docs/CAPACITY.md); almost every query reads
the last few months. Partitioned by month, each month is a table of its own: its indexes stay
small, VACUUM works a month at a time, and an old month can be detached and archived whole.

Why partition by a range of `id` and not by `created_at`: PostgreSQL lets a partitioned table's
unique keys (which foreign keys need) include only the partition key. Keyed by `created_at`,
the five foreign keys into `cases.id` would all have to carry `created_at` too. Instead the id
carries its month: `case_id_month(now) << 40` plus a number from `cases_id_seq`, so each month is
exactly one id range, `id` stays the only key, and `WHERE id = …` finds its partition.

What the layout needs besides:
- `case_no` is unique per partition (a unique index on each); the id's month and the case
  number's day come from one `now`, so a case number's cases all fall in one partition.
- Tracking codes are random, so their uniqueness moves to `tracking_codes` (code → case),
  which a trigger fills from every insert into `cases` (so also from processes of the previous
  release during a rolling upgrade, and from bulk loads) and tracking reads through.
- `case_events` is partitioned the same way by `case_id`, so a month's history goes with it.
- Rows already stored keep their ids (all below 2^40) and become the partition `…_before`;
  nothing is rewritten. Indexes, foreign keys and triggers are carried over by their own
  definitions, so the old tables' indexes are attached to the new parents, not built again.
- `ensure_case_partitions(at, ahead)` creates the months from `at`'s to `ahead` months later;
  the worker calls it every hour. A DEFAULT partition catches any case whose month has none,
  so a registration never fails for want of one (and an alert says so, docs/OPERATIONS.md).

Revision ID: 0002_partition_cases
Revises: 0001_baseline
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0002_partition_cases"
down_revision: str | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_END = 1 << 40
"""Ids below this were handed out before partitioning (month 0 in the id's high bits)."""

MONTHS_AHEAD = 3

FUNCTIONS = (
    """
CREATE FUNCTION case_id_month(at timestamptz) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (extract(year FROM timezone('Asia/Shanghai', at)) * 12
            + extract(month FROM timezone('Asia/Shanghai', at)) - 1)::integer
$$""",
    """
CREATE FUNCTION case_month_first_id(month integer) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT month::bigint << 40
$$""",
    """
CREATE FUNCTION cases_next_id(at timestamptz) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    SELECT case_month_first_id(case_id_month(at)) + nextval('cases_id_seq')
$$""",
    """
CREATE FUNCTION ensure_case_partitions(at timestamptz, ahead integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    first integer := case_id_month(at);
    m integer;
    suffix text;
    made integer := 0;
BEGIN
    -- Two workers may run this at once; it is hourly, never on a request's path.
    PERFORM pg_advisory_xact_lock(hashtext('ensure_case_partitions'));
    FOR m IN first .. first + ahead LOOP
        suffix := format('p%s%s', lpad((m / 12)::text, 4, '0'), lpad((m % 12 + 1)::text, 2, '0'));
        CONTINUE WHEN to_regclass('cases_' || suffix) IS NOT NULL;
        BEGIN
            EXECUTE format('CREATE TABLE %I PARTITION OF cases FOR VALUES FROM (%s) TO (%s)',
                           'cases_' || suffix, case_month_first_id(m), case_month_first_id(m + 1));
            EXECUTE format('CREATE UNIQUE INDEX %I ON %I (case_no)',
                           'cases_' || suffix || '_case_no_key', 'cases_' || suffix);
            EXECUTE format('CREATE TABLE %I PARTITION OF case_events FOR VALUES FROM (%s) TO (%s)',
                           'case_events_' || suffix, case_month_first_id(m),
                           case_month_first_id(m + 1));
            made := made + 1;
        EXCEPTION WHEN check_violation THEN
            -- The month's first cases came before its partition and sit in the DEFAULT one,
            -- where they stay and are served as any others; the later months go on.
            RAISE WARNING 'cases of % are in cases_default; no partition made for it', suffix;
        END;
    END LOOP;
    RETURN made;
END $$""",
)

TRACKING_TRIGGER_FUNCTION = """
CREATE FUNCTION cases_tracking_code() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A clash fails the registration on pk_tracking_codes; it retries with a new code.
    INSERT INTO tracking_codes (code, case_id) VALUES (NEW.tracking_code, NEW.id);
    RETURN NULL;
END $$
"""
TRACKING_TRIGGER = (
    "CREATE TRIGGER cases_tracking_code AFTER INSERT ON cases "
    "FOR EACH ROW EXECUTE FUNCTION cases_tracking_code()"
)

DROP_FUNCTIONS = (
    "DROP FUNCTION ensure_case_partitions(timestamptz, integer)",
    "DROP FUNCTION cases_next_id(timestamptz)",
    "DROP FUNCTION case_month_first_id(integer)",
    "DROP FUNCTION case_id_month(timestamptz)",
)


def _rows(sql: str, **params: object) -> list[tuple[str, ...]]:
    return [tuple(r) for r in op.get_bind().execute(text(sql), params)]


def _indexes(table: str) -> list[tuple[str, ...]]:
    """(name, definition) of a table's indexes that no constraint owns."""
    return _rows(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = CAST(:t AS regclass) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
        t=table,
    )


def _triggers(table: str) -> list[tuple[str, ...]]:
    return _rows(
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal AND tgparentid = 0",
        t=table,
    )


def _foreign_keys(*, into: str | None = None, of: str | None = None) -> list[tuple[str, ...]]:
    """(table, name, definition) of the foreign keys into `into` or out of `of`."""
    side = "confrelid" if into else "conrelid"
    return _rows(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conparentid = 0 AND CASE :side WHEN 'confrelid' THEN confrelid "
        "ELSE conrelid END = CAST(:t AS regclass)",
        side=side,
        t=into or of,
    )


def _checks(table: str) -> list[tuple[str, ...]]:
    return _rows(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'c' AND conrelid = CAST(:t AS regclass)",
        t=table,
    )


def upgrade() -> None:
    op.execute("LOCK TABLE cases, case_events IN ACCESS EXCLUSIVE MODE")
    for function in FUNCTIONS:
        op.execute(function)

    op.execute(
        "CREATE TABLE tracking_codes (code varchar(16) NOT NULL, case_id bigint NOT NULL, "
        "CONSTRAINT pk_tracking_codes PRIMARY KEY (code))"
    )
    op.execute("INSERT INTO tracking_codes (code, case_id) SELECT tracking_code, id FROM cases")
    op.execute("CREATE INDEX ix_tracking_codes_case_id ON tracking_codes (case_id)")
    op.execute(TRACKING_TRIGGER_FUNCTION)
    op.execute("ALTER TABLE cases DROP CONSTRAINT uq_cases_tracking_code")

    # What the new parents must declare, read from the tables as they are.
    into_cases = _foreign_keys(into="cases")
    out_of_cases = _foreign_keys(of="cases")
    indexes = {t: _indexes(t) for t in ("cases", "case_events")}
    triggers = {t: _triggers(t) for t in ("cases", "case_events")}
    for table, name, _ in into_cases:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for table in ("cases", "case_events"):
        for name, _ in triggers[table]:
            op.execute(f"DROP TRIGGER {name} ON {table}")

    # case_events' key must hold its partition key: (case_id, id), which also serves history.
    op.execute("ALTER TABLE case_events DROP CONSTRAINT pk_case_events")
    op.execute("DROP INDEX ix_case_events_case_id")
    op.execute("ALTER TABLE case_events ADD CONSTRAINT pk_case_events PRIMARY KEY (case_id, id)")
    indexes["case_events"] = _indexes("case_events")

    for table, key in (("cases", "id"), ("case_events", "case_id")):
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_before")
        for name, _ in indexes[table]:
            op.execute(f"ALTER INDEX {name} RENAME TO {name}_before")
        op.execute(f"ALTER INDEX pk_{table} RENAME TO pk_{table}_before")
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_before INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            f" PARTITION BY RANGE ({key})"
        )
        op.execute(f"ALTER TABLE {table}_before ALTER COLUMN id DROP DEFAULT")
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
        primary = "id" if table == "cases" else "case_id, id"
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({primary})")
        for _, definition in indexes[table]:
            op.execute(definition)  # names the new parent: the old table was renamed
    op.execute("ALTER TABLE cases ALTER COLUMN id SET DEFAULT cases_next_id(now())")
    op.execute(f"ALTER SEQUENCE cases_id_seq MAXVALUE {LEGACY_END - 1} CYCLE")
    for table, name, definition in out_of_cases:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")

    # Attaching finds the old indexes and keys equal to the parent's and adopts them. Ids that
    # already carry a month (a database partitioned, downgraded and upgraded again) are set
    # aside first, and go to their month, or the DEFAULT partition, through the parent.
    for table, key in (("cases", "id"), ("case_events", "case_id")):
        op.execute(f"CREATE TEMPORARY TABLE {table}_later (LIKE {table}_before) ON COMMIT DROP")
        set_aside = (  # the names are the two above
            f"WITH later AS (DELETE FROM {table}_before WHERE {key} >= {LEGACY_END} "  # noqa: S608
            f"RETURNING *) INSERT INTO {table}_later SELECT * FROM later"
        )
        op.execute(set_aside)
        op.execute(
            f"ALTER TABLE {table} ATTACH PARTITION {table}_before "
            f"FOR VALUES FROM (MINVALUE) TO ({LEGACY_END})"
        )
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    op.execute("CREATE UNIQUE INDEX cases_default_case_no_key ON cases_default (case_no)")
    op.execute("ALTER INDEX uq_cases_case_no RENAME TO cases_before_case_no_key")
    op.execute(f"SELECT ensure_case_partitions(now(), {MONTHS_AHEAD})")
    for table in ("cases", "case_events"):
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_later")  # noqa: S608 (two names)

    for table, name, definition in into_cases:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    op.execute(
        "ALTER TABLE tracking_codes ADD CONSTRAINT fk_tracking_codes_case_id_cases "
        "FOREIGN KEY (case_id) REFERENCES cases (id)"
    )
    for table in ("cases", "case_events"):
        for _, definition in triggers[table]:
            op.execute(definition)
    op.execute(TRACKING_TRIGGER)


def downgrade() -> None:
    """Back to one table each, by copying: a downgrade is for a development database."""
    op.execute("LOCK TABLE cases, case_events IN ACCESS EXCLUSIVE MODE")
    op.execute("DROP TRIGGER cases_tracking_code ON cases")
    op.execute("DROP FUNCTION cases_tracking_code()")
    into_cases = [fk for fk in _foreign_keys(into="cases") if fk[0] != "case_events"]
    out_of = {t: _foreign_keys(of=t) for t in ("cases", "case_events")}
    indexes = {t: _indexes(t) for t in ("cases", "case_events")}
    triggers = {t: _triggers(t) for t in ("cases", "case_events")}
    checks = {t: _checks(t) for t in ("cases", "case_events")}
    for table, name, _ in into_cases:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")

    for table in ("case_events", "cases"):
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
        op.execute(f"CREATE TABLE {table}_flat (LIKE {table} INCLUDING DEFAULTS)")
        op.execute(f"INSERT INTO {table}_flat SELECT * FROM {table}")  # noqa: S608 (two names)
    op.execute("DROP TABLE case_events")
    op.execute("DROP TABLE cases")
    for table in ("cases", "case_events"):
        op.execute(f"ALTER TABLE {table}_flat RENAME TO {table}")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
        for name, definition in checks[table]:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for _, definition in indexes[table]:
            op.execute(definition.replace(" ON ONLY ", " ON "))
        for _, name, definition in out_of[table]:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for _, definition in triggers[table]:
            op.execute(definition)
    op.execute("ALTER SEQUENCE cases_id_seq NO MAXVALUE NO CYCLE")
    op.execute("ALTER TABLE cases ADD CONSTRAINT uq_cases_case_no UNIQUE (case_no)")
    op.execute("ALTER TABLE cases ADD CONSTRAINT uq_cases_tracking_code UNIQUE (tracking_code)")
    op.execute("CREATE INDEX ix_case_events_case_id ON case_events (case_id)")
    for table, name, definition in into_cases:
        if table != "tracking_codes":
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    op.execute("DROP TABLE tracking_codes")
    for function in DROP_FUNCTIONS:
        op.execute(function)
