"""A running ledger of each tenant's use, kept by the database itself.

The quota check used to sum the ``charge_*`` columns of all the tenant's jobs this month on
every admission: its cost grew with the month's jobs (2.5 ms a transaction at 7,000). The
ledger holds, per tenant, the sums for each UTC day and month (by the jobs' creation time)
and the count of active jobs; triggers on ``jobs`` apply every insert, update of a charge or
a status, and delete to it in the same transaction, so it always equals the sums, whatever
code changes a job. Existing jobs are summed into it here.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIVE = "('queued', 'running', 'cancelling')"
WATCHED = "charge_money, charge_cpu_seconds, charge_qpu_seconds, status, created_at, tenant_id"


def upgrade() -> None:
    op.create_table(
        "tenant_usage",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("period", sa.String(8)),  # 'day', 'month', or 'active'
        sa.Column("start", sa.Float(precision=53)),  # the period's UTC start; 0 for 'active'
        sa.Column("jobs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("money", sa.Float(precision=53), nullable=False, server_default="0"),
        sa.Column("cpu_seconds", sa.Float(precision=53), nullable=False, server_default="0"),
        sa.Column("qpu_seconds", sa.Float(precision=53), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("tenant_id", "period", "start"),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_up()
    else:
        _postgres_up()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for t in ("jobs_usage_insert", "jobs_usage_update", "jobs_usage_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {t}")
    else:
        op.execute("DROP TRIGGER IF EXISTS jobs_usage ON jobs")
        op.execute("DROP FUNCTION IF EXISTS kh_jobs_usage()")
        op.execute(
            "DROP FUNCTION IF EXISTS kh_usage_add(BIGINT, DOUBLE PRECISION, INTEGER, "
            "DOUBLE PRECISION, DOUBLE PRECISION, DOUBLE PRECISION)"
        )
    op.drop_table("tenant_usage")


# --- SQLite: three triggers, each one upsert of the rows it changes ---------------------------

_SQLITE_DAY = "CAST(strftime('%s', datetime({r}.created_at, 'unixepoch', 'start of day')) AS REAL)"
_SQLITE_MONTH = (
    "CAST(strftime('%s', datetime({r}.created_at, 'unixepoch', 'start of month')) AS REAL)"
)
_SQLITE_UPSERT = (
    "INSERT INTO tenant_usage (tenant_id, period, start, jobs, money, cpu_seconds, qpu_seconds) "
    "VALUES {rows} ON CONFLICT (tenant_id, period, start) DO UPDATE SET "
    "jobs = jobs + excluded.jobs, money = money + excluded.money, "
    "cpu_seconds = cpu_seconds + excluded.cpu_seconds, "
    "qpu_seconds = qpu_seconds + excluded.qpu_seconds"
)


def _sqlite_rows(r: str, sign: str) -> str:
    """The ledger rows job ``r`` (NEW or OLD) adds (sign '') or takes away (sign '-')."""
    charges = f"{sign}{r}.charge_money, {sign}{r}.charge_cpu_seconds, {sign}{r}.charge_qpu_seconds"
    active = f"{sign}(CASE WHEN {r}.status IN {ACTIVE} THEN 1 ELSE 0 END)"
    return ", ".join(
        (
            f"({r}.tenant_id, 'day', {_SQLITE_DAY.format(r=r)}, 0, {charges})",
            f"({r}.tenant_id, 'month', {_SQLITE_MONTH.format(r=r)}, 0, {charges})",
            f"({r}.tenant_id, 'active', 0, {active}, 0, 0, 0)",
        )
    )


def _sqlite_up() -> None:
    # SQLite applies a multi-row upsert row by row, so OLD's and NEW's rows may share a key
    new, old = _sqlite_rows("NEW", ""), _sqlite_rows("OLD", "-")
    op.execute(
        "CREATE TRIGGER jobs_usage_insert AFTER INSERT ON jobs BEGIN "
        f"{_SQLITE_UPSERT.format(rows=new)}; END"
    )
    op.execute(
        f"CREATE TRIGGER jobs_usage_update AFTER UPDATE OF {WATCHED} ON jobs BEGIN "
        f"{_SQLITE_UPSERT.format(rows=old + ', ' + new)}; END"
    )
    op.execute(
        "CREATE TRIGGER jobs_usage_delete AFTER DELETE ON jobs BEGIN "
        f"{_SQLITE_UPSERT.format(rows=old)}; END"
    )
    _backfill(_SQLITE_DAY.format(r="jobs"), _SQLITE_MONTH.format(r="jobs"))


# --- PostgreSQL: one trigger function; an upsert may touch a row once, so one per key ---------

_PG_START = (
    "extract(epoch from date_trunc('{unit}', to_timestamp({col}) AT TIME ZONE 'UTC') "
    "AT TIME ZONE 'UTC')"
)

_PG_FUNCTIONS = f"""
CREATE FUNCTION kh_usage_add(t BIGINT, created DOUBLE PRECISION, active INTEGER,
                             m DOUBLE PRECISION, c DOUBLE PRECISION, q DOUBLE PRECISION)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF m <> 0 OR c <> 0 OR q <> 0 THEN
    INSERT INTO tenant_usage AS u (tenant_id, period, start, jobs, money, cpu_seconds, qpu_seconds)
    VALUES (t, 'day', {_PG_START.format(unit="day", col="created")}, 0, m, c, q),
           (t, 'month', {_PG_START.format(unit="month", col="created")}, 0, m, c, q)
    ON CONFLICT (tenant_id, period, start) DO UPDATE SET money = u.money + excluded.money,
      cpu_seconds = u.cpu_seconds + excluded.cpu_seconds,
      qpu_seconds = u.qpu_seconds + excluded.qpu_seconds;
  END IF;
  IF active <> 0 THEN
    INSERT INTO tenant_usage AS u (tenant_id, period, start, jobs) VALUES (t, 'active', 0, active)
    ON CONFLICT (tenant_id, period, start) DO UPDATE SET jobs = u.jobs + excluded.jobs;
  END IF;
END $$;

CREATE FUNCTION kh_jobs_usage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  new_active INTEGER := 0;
  old_active INTEGER := 0;
BEGIN
  IF TG_OP <> 'DELETE' AND NEW.status IN {ACTIVE} THEN new_active := 1; END IF;
  IF TG_OP <> 'INSERT' AND OLD.status IN {ACTIVE} THEN old_active := 1; END IF;
  IF TG_OP = 'UPDATE' AND OLD.tenant_id = NEW.tenant_id AND OLD.created_at = NEW.created_at THEN
    PERFORM kh_usage_add(NEW.tenant_id, NEW.created_at, new_active - old_active,
      NEW.charge_money - OLD.charge_money, NEW.charge_cpu_seconds - OLD.charge_cpu_seconds,
      NEW.charge_qpu_seconds - OLD.charge_qpu_seconds);
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM kh_usage_add(OLD.tenant_id, OLD.created_at, -old_active, -OLD.charge_money,
      -OLD.charge_cpu_seconds, -OLD.charge_qpu_seconds);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM kh_usage_add(NEW.tenant_id, NEW.created_at, new_active, NEW.charge_money,
      NEW.charge_cpu_seconds, NEW.charge_qpu_seconds);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_usage AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON jobs
FOR EACH ROW EXECUTE FUNCTION kh_jobs_usage();
"""


def _postgres_up() -> None:
    op.execute(_PG_FUNCTIONS)
    _backfill(
        _PG_START.format(unit="day", col="created_at"),
        _PG_START.format(unit="month", col="created_at"),
    )


def _backfill(day: str, month: str) -> None:
    sums = "sum(charge_money), sum(charge_cpu_seconds), sum(charge_qpu_seconds)"
    for period, start in (("day", day), ("month", month)):
        op.execute(
            "INSERT INTO tenant_usage (tenant_id, period, start, jobs, money, cpu_seconds, "
            f"qpu_seconds) SELECT tenant_id, '{period}', {start}, 0, {sums} FROM jobs "
            f"GROUP BY tenant_id, {start}"
        )
    op.execute(
        "INSERT INTO tenant_usage (tenant_id, period, start, jobs) "
        f"SELECT tenant_id, 'active', 0, count(*) FROM jobs WHERE status IN {ACTIVE} "
        "GROUP BY tenant_id"
    )
