"""Accepting comparisons: uploaded problems, or a named suite's instances, × backends.

A comparison is accepted as a job is (:mod:`kakehashi.service.jobs`): every problem read and
size-checked against the tenant's limit, every run that will be made estimated from the
catalog, and the whole as one :class:`~kakehashi.service.admission.Submission` whose
reservation is the total, admitted against the tenant's quotas in the serialising
transaction that queues it (:mod:`kakehashi.service.admission`) — so a comparison the tenant
may not pay for is refused before anything runs. A suite's problems are built here on the
server from the suite's own data; the worker builds the same instances again (they are files
shipped with kakehashi or seeded generators) and runs them through
:func:`kakehashi.bench.compare.compare_suite`, with the suite's best-known targets, its
``max_variables`` skips and its backend options.

Example (the app calls it; ``engine``, ``settings`` and ``who`` come from the request)::

    >>> spec = ComparisonSpec(backends=["tabu"], repeats=1, time_limit=0.1)
    >>> job, new = submit_suite(engine, settings, who, spec, "quick", ["bqp50-1"])  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field

from kakehashi.errors import KakehashiError
from kakehashi.model.problem import Problem
from kakehashi.service import db, suites
from kakehashi.service.admission import Submission, admit_one
from kakehashi.service.auth import Caller
from kakehashi.service.errors import BadRequestError, ConflictError, ProblemTooLargeError
from kakehashi.service.jobs import JobSpec, estimate_charges, estimated_footprint, read_problem
from kakehashi.service.models import QUEUED, Job, Tenant
from kakehashi.service.quotas import Charges, limits_for
from kakehashi.service.settings import Settings

# what a comparison of uploads runs when the request leaves them out (kakehashi.compare's)
UPLOAD_DEFAULTS = {"repeats": 1, "time_limit": 1.0, "seed": 0}
MAX_REPEATS = 10


class ComparisonSpec(BaseModel):
    """How to compare: backends (none: the suite's choice, or the quick suite's for
    uploads), repeats, one time limit and a seed; ``None`` takes the suite's value."""

    backends: list[str] = Field(default_factory=list, max_length=12)
    repeats: int | None = Field(None, ge=1, le=MAX_REPEATS)
    time_limit: float | None = Field(None, gt=0)
    seed: int | None = Field(None, ge=0, lt=2**63)


@dataclasses.dataclass
class PlannedComparison:
    """A comparison ready to be estimated and queued."""

    labels: list[str]  # the instances' names, as the report will show them
    problems: list[Problem]
    backends: list[str]
    repeats: int
    time_limit: float
    seed: int
    stored_name: str  # what GET /v1/jobs/{id}/problem answers with
    stored_bytes: bytes
    options: dict[str, Any]  # kept with the job: repeats, and the suite and instances
    max_variables: dict[str, int] = dataclasses.field(default_factory=dict)
    backend_options: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


def comparison_backends(names: list[str], groups: list[list[str]] | None = None) -> list[str]:
    """The backends a comparison will run: those named (else the first available of each
    group) plus the classical baseline :func:`kakehashi.compare` adds when none is there
    (so it is reserved too)."""
    from kakehashi.bench.baseline import ensure_baseline, resolve_backends
    from kakehashi.bench.suite import load_suite

    if not names and not groups:
        groups = load_suite("quick").backends  # what kakehashi.compare runs by default
    try:
        chosen, _notes = resolve_backends(names, groups or ())
        chosen, _named, _more = ensure_baseline(chosen, "auto")
    except KakehashiError as exc:
        raise BadRequestError(str(exc), fix="see GET /v1/backends", code="invalid_job") from exc
    return [b if isinstance(b, str) else b.name for b in chosen]


def pack_files(files: list[tuple[str, bytes]]) -> bytes:
    """Several uploads in one stored document (JSON with base64 contents)."""
    return json.dumps(
        [{"name": Path(n).name, "data": base64.b64encode(d).decode()} for n, d in files]
    ).encode()


def unpack_files(data: bytes) -> list[tuple[str, bytes]]:
    return [(f["name"], base64.b64decode(f["data"])) for f in json.loads(data)]


def plan_uploads(spec: ComparisonSpec, files: list[tuple[str, bytes]]) -> PlannedComparison:
    """Uploaded files, each read and validated, on the spec's backends."""
    if not 1 <= len(files) <= suites.MAX_INSTANCES:
        raise BadRequestError(
            f"a comparison takes 1–{suites.MAX_INSTANCES} problem files", fix="upload fewer"
        )
    problems = [read_problem(data, name) for name, data in files]
    repeats, time_limit, seed = _settle(spec, **UPLOAD_DEFAULTS)
    return PlannedComparison(
        labels=[p.name or n for p, (n, _d) in zip(problems, files, strict=True)],
        problems=problems,
        backends=comparison_backends(spec.backends),
        repeats=repeats,
        time_limit=time_limit,
        seed=seed,
        stored_name="comparison.json",
        stored_bytes=pack_files(files),
        options={"repeats": repeats},
    )


def plan_suite(spec: ComparisonSpec, name: str, patterns: list[str] | None) -> PlannedComparison:
    """A named suite's instances (all, or those ``patterns`` select), built on the server."""
    suite = suites.select(suites.named_suite(name), patterns)
    built, notes = suites.build(suite)
    repeats, time_limit, seed = _settle(
        spec, repeats=suite.repeats, time_limit=suite.time_limits[0], seed=suite.seed
    )
    labels = [inst.name for inst, _p in built]
    options: dict[str, Any] = {"repeats": repeats, "suite": suite.name, "instances": labels}
    if notes:
        options["not_run"] = notes
    return PlannedComparison(
        labels=labels,
        problems=[p for _inst, p in built],
        backends=comparison_backends(spec.backends, suite.backends),
        repeats=repeats,
        time_limit=time_limit,
        seed=seed,
        stored_name=f"suite-{suite.name}.json",
        stored_bytes=json.dumps({"suite": suite.name, "instances": labels}).encode(),
        options=options,
        max_variables=dict(suite.max_variables),
        backend_options=dict(suite.backend_options),
    )


def _settle(spec: ComparisonSpec, *, repeats: int, time_limit: float, seed: int):
    """The spec's repeats, time limit and seed, each defaulting to the value given."""
    repeats = spec.repeats if spec.repeats is not None else repeats
    if repeats > MAX_REPEATS:
        raise BadRequestError(
            f"this comparison would repeat every run {repeats} times; the service runs at "
            f"most {MAX_REPEATS}",
            fix=f"pass repeats ≤ {MAX_REPEATS}",
        )
    return (
        repeats,
        spec.time_limit if spec.time_limit is not None else time_limit,
        spec.seed if spec.seed is not None else seed,
    )


def estimate_comparison(
    plan: PlannedComparison, settings: Settings
) -> tuple[Charges, list[dict[str, Any]]]:
    """The total every run of the comparison reserves, and each (instance, backend)'s
    estimate. Runs the suite skips (above its ``max_variables``) are not run, so not
    reserved."""
    total, estimates = Charges(), []
    for label, problem in zip(plan.labels, plan.problems, strict=True):
        for name in plan.backends:
            limit = plan.max_variables.get(name)
            if limit is not None and problem.num_variables > limit:
                continue
            run = JobSpec(
                backend=name,
                time_limit=plan.time_limit,
                options=plan.backend_options.get(name, {}),
            )
            charges, est = estimate_charges(problem, run, settings)
            total = total + Charges(
                charges.money * plan.repeats,
                charges.cpu_seconds * plan.repeats,
                charges.qpu_seconds * plan.repeats,
            )
            estimates += [{"instance": label, **e} for e in est]
    return total, estimates


# how a prepared comparison is admitted: by default alone (admission.admit_one); the API
# hands it to its admission queue, batched with the jobs submitted meanwhile
Admit = Callable[[Submission], tuple[Job, bool]]


def submit_uploads(
    engine: sa.Engine,
    settings: Settings,
    caller: Caller,
    spec: ComparisonSpec,
    files: list[tuple[str, bytes]],
    idempotency_key: str | None = None,
    admit: Admit | None = None,
) -> tuple[Job, bool]:
    """Accept a comparison of uploaded problem files (``[(filename, bytes)]``): ``(job,
    True)``, or ``(job, False)`` for the one an ``Idempotency-Key`` already made."""
    h = hashlib.sha256(b"files\0" + spec.model_dump_json().encode())
    for name, data in files:
        h.update(b"\0" + Path(name).name.encode() + b"\0" + hashlib.sha256(data).digest())
    return _accept(
        engine, settings, caller, idempotency_key, h.hexdigest(),
        lambda: plan_uploads(spec, files), admit,
    )  # fmt: skip


def submit_suite(
    engine: sa.Engine,
    settings: Settings,
    caller: Caller,
    spec: ComparisonSpec,
    suite: str,
    instances: list[str] | None = None,
    idempotency_key: str | None = None,
    admit: Admit | None = None,
) -> tuple[Job, bool]:
    """Accept a comparison of a named suite's instances (all, or those selected), as
    :func:`submit_uploads` does."""
    asked = {"suite": suite.strip(), "instances": instances or [], "spec": spec.model_dump()}
    digest = hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()
    return _accept(
        engine, settings, caller, idempotency_key, digest,
        lambda: plan_suite(spec, suite, instances), admit,
    )  # fmt: skip


def _accept(engine, settings, caller, key, digest, plan, admit) -> tuple[Job, bool]:
    """The comparison ``key`` already made for this request (a retry costs no building or
    estimating), else a new one from ``plan()``, prepared and admitted."""
    if key is not None:
        if not 1 <= len(key) <= 200:
            raise BadRequestError("Idempotency-Key must be 1–200 characters", fix="shorten it")
        with db.read_session(engine) as session:
            existing = session.execute(
                sa.select(Job).where(Job.tenant_id == caller.tenant_id, Job.idempotency_key == key)
            ).scalar_one_or_none()
        if existing is not None:
            if existing.request_hash != digest:
                raise ConflictError(
                    f"Idempotency-Key was already used for {existing.id} with a different request",
                    fix="use a new Idempotency-Key for a different comparison",
                )
            return existing, False
    sub = prepare(engine, settings, caller, plan(), key, digest)
    return admit(sub) if admit is not None else admit_one(engine, settings, sub)


def prepare(
    engine: sa.Engine,
    settings: Settings,
    caller: Caller,
    plan: PlannedComparison,
    idempotency_key: str | None = None,
    digest: str = "",
) -> Submission:
    """The comparison as a :class:`~kakehashi.service.admission.Submission`: every run
    estimated, the total its reservation. Admission then checks it against the tenant's
    problem-size limit and quotas (and a concurrent retry of its key) in the one serialising
    transaction that queues it, exactly as a job; the size is checked here first too, to
    name the instances that are over the limit."""
    _check_sizes(engine, settings, caller, plan)
    total, estimates = estimate_comparison(plan, settings)
    energy, co2 = estimated_footprint(estimates)
    row = {
        "id": "cmp_" + uuid.uuid4().hex,
        "tenant_id": caller.tenant_id,
        "kind": "comparison",
        "status": QUEUED,
        "backend": plan.backends,
        "time_limit": plan.time_limit,
        "seed": plan.seed,
        "max_cost": None,
        "options": {**plan.options, "runs": len(estimates) * plan.repeats},
        "problem_name": _label(plan)[:300],
        "problem_filename": plan.stored_name,
        "problem_bytes": plan.stored_bytes,
        "num_variables": max(p.num_variables for p in plan.problems),
        "num_constraints": max(p.num_constraints for p in plan.problems),
        "idempotency_key": idempotency_key,
        "request_hash": digest,
        "estimate": {"runs": estimates},
        "charge_money": total.money,
        "charge_cpu_seconds": total.cpu_seconds,
        "charge_qpu_seconds": total.qpu_seconds,
        "energy_joules": None if energy is None else energy * plan.repeats,
        "co2_grams": None if co2 is None else co2 * plan.repeats,
        "currency": "USD",
        "attempts": 0,
    }
    return Submission(caller, row, total)


def _check_sizes(engine: sa.Engine, settings: Settings, caller: Caller, plan) -> None:
    with db.read_session(engine) as session:
        tenant = session.get(Tenant, caller.tenant_id)
        limit = limits_for(tenant, settings).max_variables
    too_big = [
        f"{label} ({p.num_variables})"
        for label, p in zip(plan.labels, plan.problems, strict=True)
        if p.num_variables > limit
    ]
    if too_big:
        raise ProblemTooLargeError(
            f"this tenant's limit is {limit} variables; over it: {', '.join(too_big)}",
            fix="compare smaller problems (a suite's instances= chooses some) or ask the "
            "administrator to raise the limit",
        )


def _label(plan: PlannedComparison) -> str:
    names = ", ".join(plan.labels)
    return f"suite {plan.options['suite']}: {names}" if "suite" in plan.options else names
