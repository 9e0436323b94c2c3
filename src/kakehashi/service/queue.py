"""The worker side of the job store: claim, heartbeat, finish, re-queue — each one atomic.

A claim is one ``UPDATE … RETURNING`` whose subquery picks the oldest queued job
(PostgreSQL adds ``FOR UPDATE SKIP LOCKED`` so concurrent workers never wait on or take the
same row; SQLite's single writer makes the statement atomic by itself). Every later write by
a worker names the job *and* the worker, so a worker that was presumed dead and whose job was
re-queued and claimed by another can no longer touch it: no job completes twice.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from kakehashi.service import db
from kakehashi.service.models import (
    CANCELLED,
    CANCELLING,
    FAILED,
    QUEUED,
    RUNNING,
    Job,
    JobEvent,
    Worker,
)
from kakehashi.service.settings import Settings

_CLAIM = """
UPDATE jobs SET status = 'running', worker_id = :worker, heartbeat_at = :now,
       started_at = COALESCE(started_at, :now), attempts = attempts + 1, progress = 0,
       best_so_far = NULL
WHERE seq = (SELECT seq FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1 {lock})
  AND status = 'queued'
RETURNING id, kind, backend, time_limit, seed, max_cost, charge_money, options,
          problem_filename, problem_bytes, attempts
"""
_CLAIMED = sa.text(
    "INSERT INTO job_events (job_id, event, worker_id, at, detail) "
    "VALUES (:job, 'claimed', :worker, :now, '')"
)
_WORKER_ON = sa.text("UPDATE workers SET job_id = :job WHERE id = :worker")


def _claim_statement(lock: str) -> sa.TextClause:
    # typed result columns: each dialect decodes the JSON ones as the ORM would
    c = Job.__table__.c
    return sa.text(_CLAIM.format(lock=lock)).columns(
        backend=c.backend.type, options=c.options.type, problem_bytes=c.problem_bytes.type
    )


def claim(engine: sa.Engine, worker_id: str) -> dict[str, Any] | None:
    """Take the oldest queued job for ``worker_id``; its run description, or None.

    Three plain statements in one short transaction: the write lock it holds is the one
    the API's admissions wait for."""
    lock = "" if db.is_sqlite(engine) else "FOR UPDATE SKIP LOCKED"
    if not _any(engine, sa.select(Job.seq).where(Job.status == QUEUED).limit(1)):
        return None  # a plain read: idle workers do not queue up for the write lock
    now = time.time()
    with db.write_session(engine) as session:
        row = (
            session.execute(_claim_statement(lock), {"worker": worker_id, "now": now})
            .mappings()
            .one_or_none()
        )
        if row is None:
            return None
        args = {"job": row["id"], "worker": worker_id, "now": now}
        session.execute(_CLAIMED, args)
        session.execute(_WORKER_ON, args)
    job = dict(row)
    return {
        "id": job["id"],
        "kind": job["kind"],
        "backend": job["backend"],
        "time_limit": job["time_limit"],
        "seed": job["seed"],
        "max_cost": job["max_cost"],
        "reserved_money": job["charge_money"],
        "options": dict(job["options"] or {}),
        "problem_filename": job["problem_filename"],
        "problem_bytes": bytes(job["problem_bytes"]),
        "attempt": job["attempts"],
    }


def _any(engine: sa.Engine, stmt) -> bool:
    with db.read_session(engine) as session:
        return session.execute(stmt).first() is not None


def heartbeat(
    engine: sa.Engine,
    job_id: str,
    worker_id: str,
    progress: float | None,
    best_so_far: float | None = None,
) -> str | None:
    """Record that the job is alive, how far it is and its best feasible objective yet
    (None: none reported); its status now (``cancelling`` asks the worker to stop), or None
    when this worker no longer owns it."""
    with db.write_session(engine) as session:
        status = session.execute(
            sa.update(Job)
            .where(
                Job.id == job_id, Job.worker_id == worker_id, Job.status.in_((RUNNING, CANCELLING))
            )
            .values(heartbeat_at=time.time(), progress=progress, best_so_far=best_so_far)
            .returning(Job.status)
        ).scalar_one_or_none()
    return status


def finish(
    engine: sa.Engine,
    job_id: str,
    worker_id: str,
    status: str,
    *,
    result_json: str | None = None,
    summary: dict | None = None,
    error: str | None = None,
    charges: dict[str, Any] | None = None,
) -> bool:
    """End the job (completed, failed or cancelled) if this worker still owns it."""
    now = time.time()
    values: dict[str, Any] = {
        "status": status,
        "finished_at": now,
        "result_json": result_json,
        "summary": summary,
        "error": error,
        "progress": 1.0 if status != CANCELLED else None,
        "heartbeat_at": now,
    }
    charges = {k: v for k, v in (charges or {}).items() if v is not None}
    if "charge_money" in charges:
        # a job is never billed above the money reserved for it at submit (its quote, checked
        # against the tenant's cap): a CPU-priced run's measured time includes overheads the
        # estimate cannot see (loading, evaluation), and the cap must hold all the same. What
        # was measured stays in the summary.
        measured = float(charges.pop("charge_money"))
        if summary is not None:
            values["summary"] = {**summary, "measured_money": measured}
        values["charge_money"] = sa.case(
            (Job.charge_money < measured, Job.charge_money), else_=measured
        )
    values.update(charges)
    with db.write_session(engine) as session:
        done = session.execute(
            sa.update(Job)
            .where(
                Job.id == job_id, Job.worker_id == worker_id, Job.status.in_((RUNNING, CANCELLING))
            )
            .values(**values)
            .returning(Job.id)
        ).scalar_one_or_none()
        if done is None:
            return False
        session.execute(
            sa.insert(JobEvent).values(
                job_id=job_id,
                event=status,
                worker_id=worker_id,
                at=now,
                detail=(error or "")[:2000],
            )
        )
        session.execute(
            sa.update(Worker)
            .where(Worker.id == worker_id)
            .values(job_id=None, jobs_done=Worker.jobs_done + 1)
        )
    return True


def release(engine: sa.Engine, job_id: str, worker_id: str) -> None:
    """Give a job back to the queue (a worker shutting down), not counting the attempt."""
    now = time.time()
    with db.write_session(engine) as session:
        done = session.execute(
            sa.update(Job)
            .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == RUNNING)
            .values(status=QUEUED, worker_id=None, attempts=Job.attempts - 1, progress=None)
            .returning(Job.id)
        ).scalar_one_or_none()
        if done:
            session.add(JobEvent(job_id=job_id, event="released", worker_id=worker_id, at=now))


def requeue_stale(engine: sa.Engine, settings: Settings) -> dict[str, list[str]]:
    """Jobs whose worker went silent: re-queued, or failed after ``max_attempts`` runs, or
    cancelled when a cancel was pending. Returns the job ids by what happened."""
    now = time.time()
    cutoff = now - settings.heartbeat_timeout
    stale = (Job.heartbeat_at < cutoff,)
    out: dict[str, list[str]] = {}
    silent = sa.select(Job.seq).where(Job.status.in_((RUNNING, CANCELLING)), *stale).limit(1)
    if not _any(engine, silent) and not _any(
        engine, sa.select(Worker.id).where(Worker.heartbeat_at < cutoff).limit(1)
    ):
        return out
    with db.write_session(engine) as session:
        steps = (
            (
                CANCELLED,
                (Job.status == CANCELLING, *stale),
                {"status": CANCELLED, "finished_at": now, "worker_id": None},
            ),
            (
                FAILED,
                (Job.status == RUNNING, Job.attempts >= settings.max_attempts, *stale),
                {
                    "status": FAILED,
                    "finished_at": now,
                    "worker_id": None,
                    "error": f"its worker stopped answering in each of {settings.max_attempts} "
                    "runs; the problem may crash or exhaust the worker",
                },
            ),
            (
                QUEUED,
                (Job.status == RUNNING, *stale),
                {"status": QUEUED, "worker_id": None, "progress": None},
            ),
        )
        for event, where, values in steps:
            ids = list(
                session.execute(sa.update(Job).where(*where).values(**values).returning(Job.id))
                .scalars()
                .all()
            )
            for job_id in ids:
                session.add(
                    JobEvent(
                        job_id=job_id,
                        event="requeued" if event == QUEUED else event,
                        at=now,
                        detail="worker silent",
                    )
                )
            if ids:
                out[event] = ids
        # the registry forgets workers as silent as that (their jobs were handled above)
        session.execute(sa.delete(Worker).where(Worker.heartbeat_at < cutoff))
    return out


def register_worker(engine: sa.Engine, worker_id: str, pid: int, host: str) -> None:
    now = time.time()
    with db.write_session(engine) as session:
        session.add(
            Worker(id=worker_id, pid=pid, host=host, started_at=now, heartbeat_at=now, jobs_done=0)
        )


def beat_worker(engine: sa.Engine, worker_id: str) -> None:
    with db.write_session(engine) as session:
        session.execute(
            sa.update(Worker).where(Worker.id == worker_id).values(heartbeat_at=time.time())
        )


def unregister_worker(engine: sa.Engine, worker_id: str) -> None:
    with db.write_session(engine) as session:
        session.execute(sa.delete(Worker).where(Worker.id == worker_id))
