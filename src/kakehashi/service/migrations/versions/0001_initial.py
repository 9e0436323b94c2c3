"""The first schema: tenants, API keys, jobs, job events, workers.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Seconds = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("created_at", Seconds, nullable=False),
        sa.Column("max_concurrent_jobs", sa.Integer, nullable=True),
        sa.Column("cpu_seconds_per_day", Seconds, nullable=True),
        sa.Column("money_per_month", Seconds, nullable=True),
        sa.Column("qpu_seconds_per_month", Seconds, nullable=True),
        sa.Column("max_variables", sa.Integer, nullable=True),
        sa.Column("rate_limit", Seconds, nullable=True),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", Id, sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("prefix", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", Seconds, nullable=False),
        sa.Column("revoked_at", Seconds, nullable=True),
    )
    op.create_table(
        "jobs",
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("tenant_id", Id, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("backend", sa.JSON, nullable=False),
        sa.Column("time_limit", Seconds, nullable=True),
        sa.Column("seed", sa.BigInteger, nullable=True),
        sa.Column("max_cost", Seconds, nullable=True),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("problem_name", sa.String(300), nullable=False),
        sa.Column("problem_filename", sa.String(300), nullable=False),
        sa.Column("problem_bytes", sa.LargeBinary, nullable=False),
        sa.Column("num_variables", sa.Integer, nullable=False),
        sa.Column("num_constraints", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("estimate", sa.JSON, nullable=False),
        sa.Column("charge_money", Seconds, nullable=False),
        sa.Column("charge_cpu_seconds", Seconds, nullable=False),
        sa.Column("charge_qpu_seconds", Seconds, nullable=False),
        sa.Column("energy_joules", Seconds, nullable=True),
        sa.Column("co2_grams", Seconds, nullable=True),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("created_at", Seconds, nullable=False),
        sa.Column("started_at", Seconds, nullable=True),
        sa.Column("finished_at", Seconds, nullable=True),
        sa.Column("heartbeat_at", Seconds, nullable=True),
        sa.Column("worker_id", sa.String(80), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("progress", Seconds, nullable=True),
        sa.Column("result_json", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_jobs_tenant_idempotency"),
    )
    op.create_index("ix_jobs_status_seq", "jobs", ["status", "seq"])
    op.create_index("ix_jobs_tenant_seq", "jobs", ["tenant_id", "seq"])
    op.create_table(
        "job_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(40), nullable=False, index=True),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("worker_id", sa.String(80), nullable=True),
        sa.Column("at", Seconds, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("started_at", Seconds, nullable=False),
        sa.Column("heartbeat_at", Seconds, nullable=False),
        sa.Column("job_id", sa.String(40), nullable=True),
        sa.Column("jobs_done", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("workers", "job_events", "jobs", "api_keys", "tenants"):
        op.drop_table(table)
