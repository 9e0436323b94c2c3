"""Worker processes: claim a job, run it in a forked child, heartbeat, record the end.

Each worker is its own OS process (``python -m kakehashi.service.workers``, started by
``kakehashi serve --workers N`` or by hand on any machine that reaches the database). It
runs each job in a forked child so that a cancel, a shutdown or a hard time limit can stop
the solve at once; the child dies with its worker (``PR_SET_PDEATHSIG``). While the child
runs the worker heartbeats; a worker killed outright stops heartbeating and any process of
the service (another worker's loop) re-queues its job, up to ``max_attempts`` runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import socket
import sys
import time
import traceback
import uuid
from typing import Any

import sqlalchemy as sa

from kakehashi.errors import KakehashiError
from kakehashi.service import db, queue
from kakehashi.service.models import CANCELLED, COMPLETED, FAILED
from kakehashi.service.runner import redact, run_job, server_secrets
from kakehashi.service.settings import Settings

_PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 30.0  # beyond time_limit, before a run counts as hung


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _child(conn, job: dict[str, Any]) -> None:
    die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        conn.send(("ok", run_job(job)))
    except KakehashiError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # a crash in a backend: the job fails with the reason
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"))
    finally:
        conn.close()


class WorkerProcess:
    """The loop of one worker. ``run()`` until ``stop()`` (SIGTERM/SIGINT)."""

    def __init__(self, settings: Settings, engine: sa.Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or db.make_engine(settings.database_url)
        self.id = f"w-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.stopping = False
        self._ctx = mp.get_context("fork")
        self._secrets = server_secrets()

    def stop(self, *_args) -> None:
        self.stopping = True

    def run(self) -> None:
        queue.register_worker(self.engine, self.id, os.getpid(), socket.gethostname())
        last_sweep = 0.0
        try:
            while not self.stopping:
                now = time.time()
                if now - last_sweep > self.settings.heartbeat_seconds:
                    queue.requeue_stale(self.engine, self.settings)
                    queue.beat_worker(self.engine, self.id)
                    last_sweep = now
                job = queue.claim(self.engine, self.id)
                if job is None:
                    time.sleep(self.settings.poll_seconds)
                    continue
                self.run_one(job)
        finally:
            with contextlib.suppress(Exception):
                queue.unregister_worker(self.engine, self.id)

    def run_one(self, job: dict[str, Any]) -> None:
        """Run ``job`` in a child; heartbeat; honour cancels; record exactly one end."""
        recv, send = self._ctx.Pipe(duplex=False)
        child = self._ctx.Process(target=_child, args=(send, job), daemon=True)
        child.start()
        send.close()
        started = time.monotonic()
        limit = job.get("time_limit")
        deadline = None if limit is None else started + float(limit) + GRACE_SECONDS
        outcome: tuple[str, Any] | None = None
        try:
            while outcome is None:
                if recv.poll(self.settings.heartbeat_seconds):
                    try:
                        outcome = recv.recv()
                    except EOFError:
                        child.join(5)
                        outcome = ("error", f"the run crashed (exit code {child.exitcode})")
                    break
                elapsed = time.monotonic() - started
                progress = None if not limit else min(elapsed / float(limit), 0.99)
                status = queue.heartbeat(self.engine, job["id"], self.id, progress)
                queue.beat_worker(self.engine, self.id)
                if status is None:  # presumed dead and re-queued: someone else owns it now
                    return
                if status == "cancelling":
                    outcome = ("cancelled", None)
                elif self.stopping:
                    _kill(child)
                    queue.release(self.engine, job["id"], self.id)
                    return
                elif deadline is not None and time.monotonic() > deadline:
                    outcome = ("error", f"the run exceeded its time limit by {GRACE_SECONDS:g} s")
        finally:
            _kill(child)
            recv.close()
        self._record(job, outcome)

    def _record(self, job: dict[str, Any], outcome: tuple[str, Any]) -> None:
        kind, payload = outcome
        if kind == "ok":
            charges = {k: v for k, v in payload["charges"].items() if v is not None}
            queue.finish(
                self.engine,
                job["id"],
                self.id,
                COMPLETED,
                result_json=payload["result_json"],
                summary=payload["summary"],
                charges=charges,
            )
        elif kind == "cancelled":
            queue.finish(self.engine, job["id"], self.id, CANCELLED)
        else:
            queue.finish(
                self.engine, job["id"], self.id, FAILED, error=redact(str(payload), self._secrets)
            )


def _kill(child) -> None:
    if child.is_alive():
        child.kill()
    child.join(5)


def main() -> None:
    """Entry point of ``python -m kakehashi.service.workers`` (settings from KAKEHASHI_*)."""
    if os.environ.get("KAKEHASHI_WORKER_DIE_WITH_PARENT"):
        die_with_parent()  # started by `kakehashi serve`: go when the server goes
    settings = Settings.from_env()
    worker = WorkerProcess(settings)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    try:
        worker.run()
    except KakehashiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
