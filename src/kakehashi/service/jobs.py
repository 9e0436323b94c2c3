"""Accepting, finding, listing and cancelling jobs (the API side of the job store).

A job is accepted only after its problem has been read and checked, its size compared with
the tenant's limit, its cost estimated from the catalog and reserved against the tenant's
quotas — all before anything is queued, so nothing reaches a worker (let alone a cloud
machine) that the tenant may not pay for.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator

from kakehashi.errors import KakehashiError
from kakehashi.model.problem import Problem
from kakehashi.service import db
from kakehashi.service.admission import Submission, admit_one
from kakehashi.service.auth import Caller
from kakehashi.service.errors import (
    BadRequestError,
    NotFoundError,
    QuotaExceededError,
)
from kakehashi.service.models import (
    CANCELLED,
    CANCELLING,
    FINAL,
    QUEUED,
    RUNNING,
    STATUSES,
    Job,
    JobEvent,
    Tenant,
)
from kakehashi.service.quotas import Charges
from kakehashi.service.settings import Settings

# option names that look like credentials: those live in the server's settings only
_SECRET_WORDS = (
    "token",
    "secret",
    "password",
    "credential",
    "api_key",
    "apikey",
    "endpoint",
    "url",
    "profile",
    "access_key",
)


class JobSpec(BaseModel):
    """How to run an uploaded problem."""

    backend: str | list[str] = Field("auto", description="a backend name, 'auto', or a list")
    time_limit: float | None = Field(None, gt=0, description="seconds")
    seed: int | None = Field(None, ge=0, lt=2**63, description="random seed (recorded)")
    max_cost: float | None = Field(None, ge=0, description="refuse if the estimate is higher")
    options: dict[str, Any] = Field(default_factory=dict, description="backend options")

    @field_validator("backend")
    @classmethod
    def _names(cls, v: str | list[str]) -> str | list[str]:
        names = [v] if isinstance(v, str) else v
        if not names or any(not isinstance(n, str) or not n.strip() for n in names):
            raise ValueError("backend must be a name, 'auto', or a non-empty list of names")
        return v

    @field_validator("options")
    @classmethod
    def _no_credentials(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key, value in v.items():
            if any(w in key.lower() for w in _SECRET_WORDS):
                raise ValueError(
                    f"option {key!r} looks like a credential or endpoint; vendor credentials "
                    "are configured on the server only, never sent with a job"
                )
            if not isinstance(value, (str, int, float, bool)) and value is not None:
                raise ValueError(f"option {key!r} must be a number, string or boolean")
        return v


def new_job_id() -> str:
    return "job_" + uuid.uuid4().hex


def read_problem(data: bytes, filename: str) -> Problem:
    """Read an upload as kakehashi reads the same file from disk (format from its name or
    content), and validate it."""
    from kakehashi.model.io import load

    name = Path(filename or "problem").name or "problem"
    if name.lower().endswith(".json") and not data.startswith(b"\x1f\x8b"):
        return _read_json_upload(data, name)  # the common small case, without a temp file
    with tempfile.TemporaryDirectory(prefix="kh-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            return load(path).validate()
        except KakehashiError as exc:
            raise BadRequestError(
                str(exc).replace(str(path), name),
                fix="upload a file kakehashi reads (.mps .qplib .ommx .opb .json, Gset, bqp)",
                code="invalid_problem",
            ) from exc


def _read_json_upload(data: bytes, name: str) -> Problem:
    """What :func:`kakehashi.model.io.read_json` gives for a file of that name and content."""
    from kakehashi.model.io import problem_from_json_dict

    fix = "upload a valid QUBO/Ising JSON document (see docs/formats.md)"
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise BadRequestError(
            f"{name}: not valid JSON ({exc})", fix=fix, code="invalid_problem"
        ) from exc
    try:
        return problem_from_json_dict(doc, source=name, name=name.split(".")[0]).validate()
    except KakehashiError as exc:
        raise BadRequestError(str(exc), fix=fix, code="invalid_problem") from exc


def auto_choice(problem: Problem, spec: JobSpec):
    """The backend ``backend="auto"`` will run, as :func:`kakehashi.solve` decides it (the
    router's choice when the router is installed, else the built-in rule)."""
    from kakehashi.backends.base import get_backend

    try:
        from kakehashi.router.selector import route
    except ImportError:
        from kakehashi.solve import choose_backend

        return choose_backend(problem)
    decision = route(
        problem,
        time_limit=spec.time_limit,
        prefer="quality",
        max_cost=spec.max_cost,
        options=dict(spec.options),
    )
    return get_backend(decision.choice)


def estimate_charges(
    problem: Problem, spec: JobSpec, settings: Settings
) -> tuple[Charges, list[dict[str, Any]]]:
    """What the run would reserve (summed over a race's backends) and the estimates."""
    from kakehashi.backends.base import get_backend
    from kakehashi.backends.catalog import check_budget, estimate_run

    if spec.time_limit is not None and spec.time_limit > settings.max_time_limit:
        raise BadRequestError(
            f"time_limit {spec.time_limit:g} s is above this server's limit "
            f"{settings.max_time_limit:g} s",
            fix="ask for a shorter time_limit",
        )
    names = [spec.backend] if isinstance(spec.backend, str) else list(spec.backend)
    total, estimates = Charges(), []
    for name in names:
        try:
            backend = auto_choice(problem, spec) if name == "auto" else get_backend(name)
            validate = getattr(backend, "validate_options", None)
            if callable(validate) and name != "auto":
                validate(dict(spec.options))  # misspelt options refused before queueing
            est = estimate_run(backend, problem, time_limit=spec.time_limit, **spec.options)
            check_budget(est, spec.max_cost)
        except QuotaExceededError:
            raise
        except KakehashiError as exc:
            code = "budget" if type(exc).__name__ == "BudgetError" else "invalid_job"
            raise BadRequestError(str(exc), fix="see GET /v1/backends", code=code) from exc
        if est.money is None:
            raise QuotaExceededError(
                f"backend {est.backend!r} cannot be priced before the run ({est.basis}), so the "
                "tenant's spending cap cannot be guaranteed",
                fix="choose a priced backend or set its price in the server's catalog override",
            )
        local = est.cpu_seconds is not None  # priced by CPU time: runs on this server
        if not local and est.seconds is None:
            raise QuotaExceededError(
                f"backend {est.backend!r}'s machine time cannot be estimated ({est.basis})",
                fix="pass time_limit or shots",
            )
        total = total + Charges(
            money=float(est.money),
            cpu_seconds=float(est.cpu_seconds or 0.0),
            qpu_seconds=0.0 if local else float(est.seconds or 0.0),
        )
        estimates.append(est.to_dict())
    return total, estimates


@functools.lru_cache(maxsize=1)
def _accounting():
    from kakehashi.bench.accounting import AccountingConfig

    return AccountingConfig()


def estimated_footprint(estimates: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """Energy (J) and CO2 (g) the estimates add up to, by the bench's accounting defaults
    (grid intensity, PUE); None where a backend's power is unknown."""
    joules = [e.get("energy_joules") for e in estimates]
    if not joules or any(j is None for j in joules):
        return None, None
    energy = float(sum(joules))
    return energy, _accounting().co2_grams(energy)


def request_hash(data: bytes, filename: str, spec: JobSpec) -> str:
    h = hashlib.sha256(data)
    h.update(b"\0" + filename.encode() + b"\0" + spec.model_dump_json().encode())
    return h.hexdigest()


def prepare(
    settings: Settings,
    caller: Caller,
    spec: JobSpec,
    data: bytes,
    filename: str,
    idempotency_key: str | None = None,
) -> Submission:
    """Read and check the upload and estimate its run: a :class:`Submission` to admit, or a
    :class:`ServiceError` saying why it cannot be (nothing is stored either way)."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise BadRequestError("Idempotency-Key must be 1–200 characters", fix="shorten it")
    problem = read_problem(data, filename)
    charges, estimates = estimate_charges(problem, spec, settings)
    energy, co2 = estimated_footprint(estimates)
    row = {
        "id": new_job_id(),
        "tenant_id": caller.tenant_id,
        "kind": "solve",
        "status": QUEUED,
        "backend": spec.backend,
        "time_limit": spec.time_limit,
        "seed": spec.seed,
        "max_cost": spec.max_cost,
        "options": spec.options,
        "problem_name": problem.name or "",
        "problem_filename": Path(filename).name,
        "problem_bytes": data,
        "num_variables": problem.num_variables,
        "num_constraints": problem.num_constraints,
        "idempotency_key": idempotency_key,
        "request_hash": request_hash(data, filename, spec),
        "estimate": {"runs": estimates},
        "charge_money": charges.money,
        "charge_cpu_seconds": charges.cpu_seconds,
        "charge_qpu_seconds": charges.qpu_seconds,
        "energy_joules": energy,
        "co2_grams": co2,
        "currency": estimates[0]["currency"] if estimates else "USD",
        "attempts": 0,
    }
    return Submission(caller, row, charges)


def submit(
    engine: sa.Engine,
    settings: Settings,
    caller: Caller,
    spec: JobSpec,
    data: bytes,
    filename: str,
    idempotency_key: str | None = None,
) -> tuple[Job, bool]:
    """Accept a job (``(job, True)``) or return the one an Idempotency-Key already made
    (``(job, False)``); raise a :class:`ServiceError` when it may not run. (The API admits
    through its :class:`~kakehashi.service.admission.AdmissionQueue`, in batches.)"""
    sub = prepare(settings, caller, spec, data, filename, idempotency_key)
    return admit_one(engine, settings, sub)


def get_job(session, caller: Caller, job_id: str) -> Job:
    """The job, if the caller's tenant owns it (the admin sees all); else 404 — another
    tenant's job is indistinguishable from a missing one."""
    job = session.execute(sa.select(Job).where(Job.id == job_id)).scalar_one_or_none()
    if job is None or (job.tenant_id != caller.tenant_id and not caller.is_admin):
        raise NotFoundError(f"no job {job_id!r}", fix="list your jobs with GET /v1/jobs")
    return job


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"seq": seq}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(json.loads(base64.urlsafe_b64decode(padded))["seq"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequestError("malformed cursor", fix="pass next_cursor as returned") from exc


def list_jobs(
    engine: sa.Engine,
    caller: Caller,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    all_tenants: bool = False,
) -> tuple[list[tuple[Job, str]], str | None]:
    """Newest first, ``limit`` at a time; ``all_tenants`` is for the admin only."""
    if all_tenants:
        caller.require_admin()
    if status is not None and status not in STATUSES:
        raise BadRequestError(f"unknown status {status!r}", fix=f"use one of {', '.join(STATUSES)}")
    if not 1 <= limit <= 500:
        raise BadRequestError("limit must be 1–500", fix="page with next_cursor")
    stmt = (
        sa.select(Job, Tenant.name)
        .join(Tenant, Tenant.id == Job.tenant_id)
        .order_by(Job.seq.desc())
        .limit(limit + 1)
    )
    if not all_tenants:
        stmt = stmt.where(Job.tenant_id == caller.tenant_id)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    if cursor:
        stmt = stmt.where(Job.seq < decode_cursor(cursor))
    with db.read_session(engine) as session:
        rows = [(r[0], r[1]) for r in session.execute(stmt).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1][0].seq) if more and rows else None)


def cancel(engine: sa.Engine, caller: Caller, job_id: str) -> Job:
    """Cancel a queued job at once (its reservation released); ask a running job's worker to
    stop it (``cancelling``, then ``cancelled``). A finished job is left as it is."""
    now = time.time()
    with db.write_session(engine) as session:
        job = get_job(session, caller, job_id)
        if job.status == QUEUED:
            job.status = CANCELLED
            job.finished_at = now
            job.charge_money = job.charge_cpu_seconds = job.charge_qpu_seconds = 0.0
            session.add(JobEvent(job_id=job.id, event="cancelled", at=now, detail="queued"))
        elif job.status == RUNNING:
            job.status = CANCELLING
            session.add(JobEvent(job_id=job.id, event="cancel-requested", at=now, detail=""))
        elif job.status in FINAL or job.status == CANCELLING:
            pass
        return job
