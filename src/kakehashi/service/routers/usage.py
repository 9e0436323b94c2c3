"""``/v1/usage``: the tenant's money, CPU-/QPU-seconds, energy and CO2, by day or month."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query

from kakehashi.service import db
from kakehashi.service.auth import Caller
from kakehashi.service.deps import State, caller, state
from kakehashi.service.models import Job, Tenant
from kakehashi.service.quotas import day_start, limits_for, month_start, used
from kakehashi.service.schemas import UsageOut, UsagePeriod

router = APIRouter(prefix="/v1", tags=["usage"])


def usage_for(st: State, tenant_id: int, by: str) -> UsageOut:
    now = time.time()
    fmt = "%Y-%m-%d" if by == "day" else "%Y-%m"
    with db.read_session(st.engine) as session:
        tenant = session.get(Tenant, tenant_id)
        rows = session.execute(
            sa.select(
                Job.created_at,
                Job.charge_money,
                Job.charge_cpu_seconds,
                Job.charge_qpu_seconds,
                Job.energy_joules,
                Job.co2_grams,
                Job.currency,
            ).where(Job.tenant_id == tenant_id)
        ).all()
        month, day = (
            used(session, tenant_id, month_start(now)),
            used(session, tenant_id, day_start(now)),
        )
    periods: dict[str, UsagePeriod] = {}
    for r in rows:
        key = dt.datetime.fromtimestamp(r.created_at, dt.UTC).strftime(fmt)
        p = periods.setdefault(
            key,
            UsagePeriod(
                period=key,
                jobs=0,
                money=0,
                cpu_seconds=0,
                qpu_seconds=0,
                energy_joules=0,
                co2_grams=0,
            ),
        )
        p.jobs += 1
        p.money += r.charge_money
        p.cpu_seconds += r.charge_cpu_seconds
        p.qpu_seconds += r.charge_qpu_seconds
        p.energy_joules += r.energy_joules or 0.0
        p.co2_grams += r.co2_grams or 0.0
    lim = limits_for(tenant, st.settings)
    return UsageOut(
        tenant=tenant.name,
        currency="USD",
        limits={
            "concurrent_jobs": lim.concurrent_jobs,
            "cpu_seconds_per_day": lim.cpu_seconds_per_day,
            "money_per_month": lim.money_per_month,
            "qpu_seconds_per_month": lim.qpu_seconds_per_month,
            "max_variables": lim.max_variables,
        },
        used={
            "money_this_month": month.money,
            "qpu_seconds_this_month": month.qpu_seconds,
            "cpu_seconds_today": day.cpu_seconds,
        },
        periods=sorted(periods.values(), key=lambda p: p.period, reverse=True),
    )


@router.get("/usage", response_model=UsageOut)
def get_usage(
    by: Annotated[str, Query(pattern="^(day|month)$")] = "month",
    who: Caller = Depends(caller),
    st: State = Depends(state),
) -> UsageOut:
    """What the caller's tenant used (and has reserved for active jobs), per period."""
    return usage_for(st, who.tenant_id, by)
