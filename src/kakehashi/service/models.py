"""The job store's tables (SQLAlchemy 2 declarative). Times are UNIX seconds (float, UTC).

The schema itself is created and upgraded only by the Alembic migrations in
``migrations/versions``; a change here needs a new migration there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite wants INTEGER PRIMARY KEY for an auto-increment rowid; PostgreSQL takes BIGINT
Id = BigInteger().with_variant(Integer(), "sqlite")
Seconds = Float(precision=53)

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLING, CANCELLED = (
    "queued",
    "running",
    "completed",
    "failed",
    "cancelling",
    "cancelled",
)
STATUSES = (QUEUED, RUNNING, COMPLETED, FAILED, CANCELLING, CANCELLED)
ACTIVE = (QUEUED, RUNNING, CANCELLING)
FINAL = (COMPLETED, FAILED, CANCELLED)


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    """A team sharing one budget. ``None`` quotas mean the server's defaults."""

    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Seconds)
    max_concurrent_jobs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cpu_seconds_per_day: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    money_per_month: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    qpu_seconds_per_month: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    max_variables: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate_limit: Mapped[float | None] = mapped_column(Seconds, nullable=True)


class ApiKey(Base):
    """An API key: only its SHA-256 is stored; ``prefix`` finds the row without the secret."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[float] = mapped_column(Seconds)
    revoked_at: Mapped[float | None] = mapped_column(Seconds, nullable=True)


class Job(Base):
    """One submitted run. ``charge_*`` hold the reservation (the estimate) while the job is
    active and what it consumed once it ended; quotas sum them."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_jobs_tenant_idempotency"),
        Index("ix_jobs_status_seq", "status", "seq"),
        Index("ix_jobs_tenant_seq", "tenant_id", "seq"),
        Index("ix_jobs_tenant_created", "tenant_id", "created_at"),
        Index("ix_jobs_tenant_status", "tenant_id", "status"),
    )
    seq: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    kind: Mapped[str] = mapped_column(String(20), default="solve")
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    backend: Mapped[Any] = mapped_column(JSON)  # a name, "auto", or a list to race
    time_limit: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_cost: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    problem_name: Mapped[str] = mapped_column(String(300), default="")
    problem_filename: Mapped[str] = mapped_column(String(300))
    problem_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    num_variables: Mapped[int] = mapped_column(Integer, default=0)
    num_constraints: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str] = mapped_column(String(64), default="")
    estimate: Mapped[dict] = mapped_column(JSON, default=dict)
    charge_money: Mapped[float] = mapped_column(Seconds, default=0.0)
    charge_cpu_seconds: Mapped[float] = mapped_column(Seconds, default=0.0)
    charge_qpu_seconds: Mapped[float] = mapped_column(Seconds, default=0.0)
    energy_joules: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    co2_grams: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    currency: Mapped[str] = mapped_column(String(8), default="USD")
    created_at: Mapped[float] = mapped_column(Seconds)
    started_at: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    heartbeat_at: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    # the best feasible objective a running job reported yet (problem's sense; migration 0004)
    best_so_far: Mapped[float | None] = mapped_column(Float(precision=53), nullable=True)
    result_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class JobEvent(Base):
    """An append-only log of what happened to each job (claims, re-queues, completions):
    the evidence that no job completed twice."""

    __tablename__ = "job_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(40), index=True)
    event: Mapped[str] = mapped_column(String(20))
    worker_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    at: Mapped[float] = mapped_column(Seconds)
    detail: Mapped[str] = mapped_column(Text, default="")


class TenantUsage(Base):
    """Each tenant's running sums of ``charge_*`` per UTC day and month (by the jobs' creation
    time), and its count of active jobs (``period='active'``, ``start=0``). Kept by triggers on
    ``jobs`` (migration 0003), never written by the application: the quota check reads it in
    place of summing the month's jobs."""

    __tablename__ = "tenant_usage"
    tenant_id: Mapped[int] = mapped_column(Id, primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    start: Mapped[float] = mapped_column(Seconds, primary_key=True)
    jobs: Mapped[int] = mapped_column(Integer, default=0)
    money: Mapped[float] = mapped_column(Seconds, default=0.0)
    cpu_seconds: Mapped[float] = mapped_column(Seconds, default=0.0)
    qpu_seconds: Mapped[float] = mapped_column(Seconds, default=0.0)


class Worker(Base):
    """A worker process, for operations (``GET /v1/admin/workers``)."""

    __tablename__ = "workers"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[float] = mapped_column(Seconds)
    heartbeat_at: Mapped[float] = mapped_column(Seconds)
    job_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    jobs_done: Mapped[int] = mapped_column(Integer, default=0)
