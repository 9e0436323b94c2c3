"""Admitting submissions to the queue, many per transaction.

A submission is *prepared* outside any transaction (its problem read and checked, its cost
estimated: see :func:`kakehashi.service.jobs.prepare`); :func:`admit` then decides a list of
them in one serialising transaction: each tenant's row is locked (PostgreSQL) or the
database's write lock is held (SQLite), retries are matched to the job their
``Idempotency-Key`` made, and each submission is checked against its tenant's quotas *as
they stand after the submissions before it in the list*, so a batch can never overshoot a cap
that one-at-a-time admission would have kept. The accepted ones are inserted together.

:class:`AdmissionQueue` is what the API uses: request threads hand it prepared submissions
and wait; one thread admits whatever has queued up meanwhile as one batch. Under load the
cost of a transaction (the write lock, the quota sums, the commit) is shared by the whole
batch instead of paid per request; alone, a submission is admitted at once.

Example:
    >>> import tempfile
    >>> from kakehashi.service import db
    >>> from kakehashi.service.app import ensure_admin
    >>> from kakehashi.service.auth import Caller
    >>> from kakehashi.service.jobs import JobSpec, prepare
    >>> from kakehashi.service.settings import Settings
    >>> settings = Settings(data_dir=tempfile.mkdtemp())
    >>> engine = db.make_engine(settings.database_url); db.migrate(engine)
    >>> _ = ensure_admin(engine)
    >>> who = Caller(1, "admin", True, 1, None)
    >>> sub = prepare(settings, who, JobSpec(backend="exact"),
    ...               b'{"vartype": "BINARY", "linear": {"a": -1}}', "p.json", "k1")
    >>> [(job.status, created) for job, created in admit(engine, settings, [sub, sub])]
    [('queued', True), ('queued', False)]
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import queue as queue_module
import threading
import time
from typing import Any

import sqlalchemy as sa

from kakehashi.service import db
from kakehashi.service.auth import Caller
from kakehashi.service.errors import ConflictError, ProblemTooLargeError, ServiceError
from kakehashi.service.models import Job, JobEvent
from kakehashi.service.quotas import Charges, check_fits, limits_for, lock_tenants, standings
from kakehashi.service.settings import Settings

MAX_BATCH = 200  # submissions per transaction: bounds how long the write lock is held


@dataclasses.dataclass
class Submission:
    """A job ready to be admitted: its row (every column but the queue's own) and what it
    reserves."""

    caller: Caller
    row: dict[str, Any]
    charges: Charges

    @property
    def idempotency_key(self) -> str | None:
        return self.row["idempotency_key"]


# an admitted submission: the job and whether this submission created it; or why not
Outcome = tuple[Job, bool] | ServiceError


def admit(engine: sa.Engine, settings: Settings, subs: list[Submission]) -> list[Outcome]:
    """Decide every submission in one transaction, in order; one outcome per submission.

    Only the decisions and the inserts happen under the write lock; the job objects handed
    back are made after the commit (the lock is what every other writer waits for)."""
    # per submission: its new row, the id of the job its key made before, or why not
    decided: list[dict[str, Any] | str | ServiceError] = []
    with db.write_session(engine) as session:
        now = time.time()
        tenant_ids = sorted({s.caller.tenant_id for s in subs})
        tenants = lock_tenants(session, tenant_ids)
        made = _existing_jobs(session, subs)
        standing = standings(session, tenant_ids, now)
        new_rows: list[dict[str, Any]] = []
        for sub in subs:
            tenant_id = sub.caller.tenant_id
            key = (tenant_id, sub.idempotency_key)
            if sub.idempotency_key is not None and key in made:
                job_id, digest = made[key]
                decided.append(job_id if digest == sub.row["request_hash"] else _conflict(job_id))
                continue
            try:
                _check(tenants[tenant_id], settings, standing[tenant_id], sub)
            except ServiceError as exc:
                decided.append(exc)
                continue
            standing[tenant_id].reserve(sub.charges)
            row = {**sub.row, "created_at": now}
            new_rows.append(row)
            decided.append(row)
            if sub.idempotency_key is not None:
                made[key] = (row["id"], row["request_hash"])
        if new_rows:
            session.execute(sa.insert(Job), new_rows)
            events = [{"job_id": r["id"], "event": "accepted", "at": now} for r in new_rows]
            session.execute(sa.insert(JobEvent), [{**e, "detail": ""} for e in events])
    stored = _jobs_by_id(engine, [d for d in decided if isinstance(d, str)])
    outcomes: list[Outcome] = []
    for d in decided:
        if isinstance(d, dict):
            outcomes.append((Job(**d), True))
        elif isinstance(d, str):
            outcomes.append((stored[d], False))
        else:
            outcomes.append(d)
    return outcomes


def _check(tenant, settings: Settings, standing, sub: Submission) -> None:
    """Raise the :class:`ServiceError` that keeps ``sub`` out, if any."""
    lim = limits_for(tenant, settings)
    if sub.row["num_variables"] > lim.max_variables:
        raise ProblemTooLargeError(
            f"the problem has {sub.row['num_variables']} variables; this tenant's "
            f"limit is {lim.max_variables}",
            fix="submit a smaller problem or ask the administrator to raise the limit",
        )
    check_fits(tenant.name, lim, standing, sub.charges)


def _existing_jobs(session, subs: list[Submission]) -> dict[tuple[int, str], tuple[str, str]]:
    """``(job id, request hash)`` of the jobs already made with the batch's
    Idempotency-Keys, by ``(tenant, key)``."""
    by_tenant: dict[int, set[str]] = {}
    for s in subs:
        if s.idempotency_key is not None:
            by_tenant.setdefault(s.caller.tenant_id, set()).add(s.idempotency_key)
    found: dict[tuple[int, str], tuple[str, str]] = {}
    for tenant_id, keys in by_tenant.items():
        for key, job_id, digest in session.execute(
            sa.select(Job.idempotency_key, Job.id, Job.request_hash).where(
                Job.tenant_id == tenant_id, Job.idempotency_key.in_(keys)
            )
        ):
            found[(tenant_id, key)] = (job_id, digest)
    return found


def _jobs_by_id(engine: sa.Engine, ids: list[str]) -> dict[str, Job]:
    if not ids:
        return {}
    with db.read_session(engine) as session:
        return {j.id: j for j in session.execute(sa.select(Job).where(Job.id.in_(ids))).scalars()}


def _conflict(job_id: str) -> ConflictError:
    return ConflictError(
        f"Idempotency-Key was already used for job {job_id} with a different request",
        fix="use a new Idempotency-Key for a different job",
    )


def admit_one(engine: sa.Engine, settings: Settings, sub: Submission) -> tuple[Job, bool]:
    """:func:`admit` for one submission: its job, or its error raised."""
    outcome = admit(engine, settings, [sub])[0]
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


class AdmissionQueue:
    """One thread admitting, batch by batch, what the request threads hand it.

    :meth:`put` returns a future of the submission's :data:`Outcome`. A batch whose
    transaction fails (the database went away, a constraint another API process raced us
    to) is retried one submission at a time, so one bad submission fails only itself.
    """

    def __init__(self, engine: sa.Engine, settings: Settings, max_batch: int = MAX_BATCH):
        self.engine, self.settings, self.max_batch = engine, settings, max_batch
        self._queue: queue_module.SimpleQueue = queue_module.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # transactions made (for the benchmark and tests)
        self.admitted = 0

    def put(self, sub: Submission) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._start()
        self._queue.put((sub, future))
        return future

    def _start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name="kakehashi-admission", daemon=True
                    )
                    self._thread.start()

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue_module.Empty:
                    break
            self._decide(batch)

    def _decide(self, batch: list[tuple[Submission, concurrent.futures.Future]]) -> None:
        subs = [s for s, _f in batch]
        try:
            outcomes: list[Any] = admit(self.engine, self.settings, subs)
        except Exception:
            if len(batch) == 1:
                outcomes = [_error_of(self.engine, self.settings, subs[0])]
            else:  # find the one that failed: each alone in its own transaction
                outcomes = [_error_of(self.engine, self.settings, s) for s in subs]
        self.batches += 1
        for (_sub, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                self.admitted += outcome[1]
                future.set_result(outcome)


def _error_of(engine: sa.Engine, settings: Settings, sub: Submission) -> Any:
    """The submission admitted alone: its outcome, or the exception its transaction raised."""
    try:
        return admit(engine, settings, [sub])[0]
    except Exception as exc:
        return exc
