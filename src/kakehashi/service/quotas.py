"""Quotas and spending caps, checked and reserved atomically before a job is queued.

Per tenant: active (queued + running) jobs, CPU-seconds per UTC day, money per UTC month and
QPU-seconds per UTC month. A job reserves its *estimate* (the catalog's, via
:func:`kakehashi.backends.catalog.estimate_run`) when it is accepted; the reservation is
replaced by what it consumed when it ends (nothing for a job cancelled before it started).
The sum of reservations and charges — read from the ``tenant_usage`` ledger that triggers
keep (migration 0003) — is checked against the limits in the same serialising transaction as
the insert (:func:`kakehashi.service.admission.admit`: SQLite's single writer; PostgreSQL
locks the tenants' rows), so concurrent submissions can never overshoot a cap together.

Example:
    >>> Charges(money=0.5, cpu_seconds=2.0) + Charges(money=0.25, qpu_seconds=1.0)
    Charges(money=0.75, cpu_seconds=2.0, qpu_seconds=1.0)
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kakehashi.service.errors import QuotaExceededError
from kakehashi.service.models import ACTIVE, Job, Tenant, TenantUsage
from kakehashi.service.settings import Settings


@dataclasses.dataclass
class Charges:
    """What a job reserves or consumed."""

    money: float = 0.0
    cpu_seconds: float = 0.0
    qpu_seconds: float = 0.0

    def __add__(self, other: Charges) -> Charges:
        return Charges(
            self.money + other.money,
            self.cpu_seconds + other.cpu_seconds,
            self.qpu_seconds + other.qpu_seconds,
        )


@dataclasses.dataclass
class Limits:
    concurrent_jobs: int
    cpu_seconds_per_day: float
    money_per_month: float
    qpu_seconds_per_month: float
    max_variables: int


def limits_for(tenant: Tenant, settings: Settings) -> Limits:
    """The tenant's own limits where set, else the server's defaults."""

    def pick(own, default):
        return default if own is None else own

    return Limits(
        concurrent_jobs=pick(tenant.max_concurrent_jobs, settings.quota_concurrent_jobs),
        cpu_seconds_per_day=pick(tenant.cpu_seconds_per_day, settings.quota_cpu_seconds_day),
        money_per_month=pick(tenant.money_per_month, settings.quota_money_month),
        qpu_seconds_per_month=pick(tenant.qpu_seconds_per_month, settings.quota_qpu_seconds_month),
        max_variables=pick(tenant.max_variables, settings.max_problem_variables),
    )


def day_start(now: float) -> float:
    d = dt.datetime.fromtimestamp(now, dt.UTC)
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp()


def month_start(now: float) -> float:
    d = dt.datetime.fromtimestamp(now, dt.UTC)
    return dt.datetime(d.year, d.month, 1, tzinfo=dt.UTC).timestamp()


def used(session: Session, tenant_id: int, since: float) -> Charges:
    """Reservations and charges of the tenant's jobs created since ``since``."""
    return used_month_and_day(session, tenant_id, since, since)[0]


def used_month_and_day(
    session: Session, tenant_id: int, month: float, day: float
) -> tuple[Charges, Charges]:
    """This month's and today's use, in one pass over the month's jobs (day ≥ month)."""
    today = Job.created_at >= day

    def total(col):
        return sa.func.coalesce(sa.func.sum(col), 0.0)

    def today_total(col):
        return sa.func.coalesce(sa.func.sum(sa.case((today, col), else_=0.0)), 0.0)

    row = session.execute(
        sa.select(
            total(Job.charge_money),
            total(Job.charge_cpu_seconds),
            total(Job.charge_qpu_seconds),
            today_total(Job.charge_money),
            today_total(Job.charge_cpu_seconds),
            today_total(Job.charge_qpu_seconds),
        ).where(Job.tenant_id == tenant_id, Job.created_at >= month)
    ).one()
    values = [float(v) for v in row]
    return Charges(*values[:3]), Charges(*values[3:])


def lock_tenants(session: Session, tenant_ids: list[int]) -> dict[int, Tenant]:
    """The tenants' rows, locked in id order on PostgreSQL (a fixed order, so that two
    batches never wait on each other's locks)."""
    stmt = sa.select(Tenant).where(Tenant.id.in_(tenant_ids)).order_by(Tenant.id)
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return {t.id: t for t in session.execute(stmt).scalars()}


@dataclasses.dataclass
class Standing:
    """A tenant's use at one moment: active (queued + running) jobs, and the charges and
    reservations of this month's and today's jobs."""

    active: int = 0
    month: Charges = dataclasses.field(default_factory=Charges)
    day: Charges = dataclasses.field(default_factory=Charges)

    def reserve(self, want: Charges) -> None:
        """Count one more active job reserving ``want`` (created now)."""
        self.active += 1
        self.month = self.month + want
        self.day = self.day + want


def standings(session: Session, tenant_ids: list[int], now: float) -> dict[int, Standing]:
    """Every listed tenant's :class:`Standing`, from the usage ledger in one query (the
    triggers of migration 0003 keep it equal to the sums over the tenant's jobs)."""
    out = {t: Standing() for t in tenant_ids}
    if not tenant_ids:
        return out
    u = TenantUsage
    rows = session.execute(
        sa.select(u.tenant_id, u.period, u.jobs, u.money, u.cpu_seconds, u.qpu_seconds).where(
            u.tenant_id.in_(tenant_ids),
            sa.or_(
                sa.and_(u.period == "day", u.start == day_start(now)),
                sa.and_(u.period == "month", u.start == month_start(now)),
                u.period == "active",
            ),
        )
    )
    for tenant_id, period, jobs, money, cpu, qpu in rows:
        if period == "active":
            out[tenant_id].active = int(jobs)
        else:
            setattr(out[tenant_id], period, Charges(float(money), float(cpu), float(qpu)))
    return out


def standings_from_jobs(session: Session, tenant_ids: list[int], now: float) -> dict[int, Standing]:
    """:func:`standings` summed over the jobs themselves (what the ledger must equal)."""
    out = {t: Standing() for t in tenant_ids}
    for t in tenant_ids:
        month, day = used_month_and_day(session, t, month_start(now), day_start(now))
        active = session.execute(
            sa.select(sa.func.count()).where(Job.tenant_id == t, Job.status.in_(ACTIVE))
        ).scalar_one()
        out[t] = Standing(int(active), month, day)
    return out


def check_fits(tenant_name: str, lim: Limits, standing: Standing, want: Charges) -> None:
    """Raise :class:`QuotaExceededError` unless one more job reserving ``want`` fits."""
    if standing.active + 1 > lim.concurrent_jobs:
        raise QuotaExceededError(
            f"tenant {tenant_name!r} already has {standing.active} queued or running jobs "
            f"(limit {lim.concurrent_jobs})",
            fix="wait for some to finish or cancel them, or ask for a higher limit",
        )
    month, day = standing.month, standing.day
    checks = (
        ("money this month", month.money, want.money, lim.money_per_month, "USD"),
        ("CPU-seconds today", day.cpu_seconds, want.cpu_seconds, lim.cpu_seconds_per_day, "s"),
        (
            "QPU-seconds this month",
            month.qpu_seconds,
            want.qpu_seconds,
            lim.qpu_seconds_per_month,
            "s",
        ),
    )
    for what, spent, extra, limit, unit in checks:
        if extra and spent + extra > limit:
            raise QuotaExceededError(
                f"this job would take {extra:.4g} {unit} of {what}, and {spent:.4g} of the "
                f"tenant's {limit:.4g} {unit} are used or reserved; nothing was queued or sent",
                fix="lower time_limit, shots or tasks, choose a cheaper backend, wait for the "
                "next period, or ask the administrator to raise the limit",
            )
