"""Pydantic models of every request and response body of the API (they make its OpenAPI)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from kakehashi.service.models import CANCELLING, COMPLETED, RUNNING, Job


class ErrorOut(BaseModel):
    error: str = Field(description="short machine-readable name")
    detail: str = Field(description="what is wrong")
    fix: str = Field(description="what to do about it")


class ProblemInfo(BaseModel):
    name: str
    filename: str
    num_variables: int
    num_constraints: int


class Charges(BaseModel):
    money: float
    currency: str
    cpu_seconds: float
    qpu_seconds: float
    energy_joules: float | None
    co2_grams: float | None


class JobOut(BaseModel):
    id: str
    kind: str = Field("solve", description="solve or comparison")
    status: str = Field(description="queued, running, completed, failed, cancelling, cancelled")
    tenant: str | None = None
    backend: str | list[str]
    time_limit: float | None
    seed: int | None
    max_cost: float | None
    options: dict[str, Any]
    problem: ProblemInfo
    created_at: float
    started_at: float | None
    finished_at: float | None
    attempts: int
    progress: float | None = Field(
        description="share of the run's time budget spent: 0–0.99 while running, 1 at the end"
    )
    best_so_far: float | None = Field(
        None,
        description="best feasible objective found yet, in the problem's sense (the sign of "
        "the result's objective); None until the backend reports one, and while it runs on a "
        "backend that reports only at its end (docs/service.md lists which)",
    )
    error: str | None
    estimate: list[dict[str, Any]]
    charges: Charges = Field(description="reserved while active; consumed once ended")
    summary: dict[str, Any] | None = Field(description="objective, feasible, backend, seconds")

    @classmethod
    def of(cls, job: Job, tenant: str | None = None) -> JobOut:
        return cls(
            id=job.id,
            kind=job.kind,
            status=job.status,
            tenant=tenant,
            backend=job.backend,
            time_limit=job.time_limit,
            seed=job.seed,
            max_cost=job.max_cost,
            options=job.options or {},
            problem=ProblemInfo(
                name=job.problem_name,
                filename=job.problem_filename,
                num_variables=job.num_variables,
                num_constraints=job.num_constraints,
            ),
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            attempts=job.attempts,
            progress=job.progress,
            best_so_far=best_so_far(job),
            error=job.error,
            estimate=(job.estimate or {}).get("runs", []),
            charges=Charges(
                money=job.charge_money,
                currency=job.currency,
                cpu_seconds=job.charge_cpu_seconds,
                qpu_seconds=job.charge_qpu_seconds,
                energy_joules=job.energy_joules,
                co2_grams=job.co2_grams,
            ),
            summary=job.summary,
        )


class JobList(BaseModel):
    jobs: list[JobOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class BackendOut(BaseModel):
    name: str
    modality: str
    vendor: str
    hardware: str
    available: bool
    reason: str
    fix: str
    catalog: dict[str, Any]


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.@ -]+$")
    max_concurrent_jobs: int | None = Field(None, ge=0)
    cpu_seconds_per_day: float | None = Field(None, ge=0)
    money_per_month: float | None = Field(None, ge=0)
    qpu_seconds_per_month: float | None = Field(None, ge=0)
    max_variables: int | None = Field(None, ge=1)
    rate_limit: float | None = Field(None, gt=0)


class TenantOut(BaseModel):
    id: int
    name: str
    is_admin: bool
    limits: dict[str, float]


class KeyOut(BaseModel):
    id: int
    prefix: str
    label: str
    created_at: float
    revoked_at: float | None


class NewKeyOut(BaseModel):
    tenant: TenantOut
    key: KeyOut
    api_key: str = Field(description="the key itself: shown this once, stored only as a hash")


class KeyIn(BaseModel):
    label: str = Field("", max_length=200)


class UsagePeriod(BaseModel):
    period: str
    jobs: int
    money: float
    cpu_seconds: float
    qpu_seconds: float
    energy_joules: float
    co2_grams: float


class UsageOut(BaseModel):
    tenant: str
    currency: str
    limits: dict[str, float]
    used: dict[str, float] = Field(description="this day's / month's use and reservations")
    periods: list[UsagePeriod]


class WorkerOut(BaseModel):
    id: str
    pid: int
    host: str
    started_at: float
    heartbeat_at: float
    job_id: str | None
    jobs_done: int


def best_so_far(job: Job) -> float | None:
    """The job's best objective yet, in the problem's sense (the sign of Result.objective):
    while it runs, what its backend reported (None until it reports a feasible answer, or
    when it reports only at its end); once completed, the answer's objective if feasible."""
    if job.status in (RUNNING, CANCELLING):
        return job.best_so_far
    if job.status == COMPLETED and job.summary and job.summary.get("feasible"):
        objective = job.summary.get("objective")
        return None if objective is None else float(objective)
    return None


def parse_backend(text: str) -> str | list[str]:
    """A form field's backend: ``"tabu"``, ``"sa,tabu"`` or ``'["sa", "tabu"]'``."""
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)
    if "," in text:
        return [t.strip() for t in text.split(",") if t.strip()]
    return text


class SuiteInstanceOut(BaseModel):
    name: str
    kind: str = Field(description="file, generator, app or python")
    tags: list[str]
    best_known: float | str | None = Field(description="published target, or 'exact'")
    best_known_sense: str | None
    source: str
    available: bool = Field(description="whether its data is on this server")
    reason: str


class SuiteOut(BaseModel):
    name: str = Field(description="pass as suite= to POST /v1/comparisons")
    description: str
    repeats: int
    time_limit: float = Field(description="seconds per run, the default")
    seed: int
    backends: list[list[str]] = Field(description="default: the first available of each group")
    max_variables: dict[str, int] = Field(description="backend → largest instance it is run on")
    instances: list[SuiteInstanceOut]
