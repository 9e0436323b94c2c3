"""Worker processes: claim a job, run it in a forked child, heartbeat, record the end.

Each worker is its own OS process (``python -m kakehashi.service.workers``, started by
``kakehashi serve --workers N`` or by hand on any machine that reaches the database). It
runs jobs in one long-lived forked child, the *runner*, which compiles the configured
backends once and then solves job after job warm; a cancel, a shutdown or a hung run kills
the runner (stopping the solve at once) and a fresh one takes its place. The runner dies
with its worker (``PR_SET_PDEATHSIG``). While a job runs the worker heartbeats; a worker
killed outright stops heartbeating and any worker's loop re-queues its job, up to
``max_attempts`` runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from typing import Any

import sqlalchemy as sa

from kakehashi.errors import KakehashiError
from kakehashi.service import db, queue
from kakehashi.service.live import Coalescer, LiveProgress
from kakehashi.service.models import CANCELLED, COMPLETED, FAILED
from kakehashi.service.runner import redact, run_budget, run_job, server_secrets
from kakehashi.service.settings import Settings

_PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 30.0  # beyond time_limit, before a run counts as hung
LIVE_WRITE_SECONDS = 1.0  # a running job's news reaches its row at most this often


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _runner_loop(conn, warm_up: str, niceness: int = 0) -> None:
    """The runner child: warm up once, then run each job it is sent, sending back
    ``("progress", state)`` messages while it runs (a few a second at most) and then
    ``("ok", payload)`` or ``("error", reason)``. It runs ``niceness`` below its worker's CPU
    priority: where the API shares the machine with workers, solves then take the cores the
    API leaves, and submissions and the dashboard stay quick while every core is solving."""
    die_with_parent()
    if niceness:
        with contextlib.suppress(OSError):
            os.nice(niceness)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's to handle
    warm(warm_up)
    conn.send(("ready", None))
    lock = threading.Lock()  # the pipe's one writer at a time: a job's answer or its progress
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        reply = _run_reporting(job, conn, lock)
        with lock:
            conn.send(reply)


def _run_reporting(job: dict[str, Any], conn, lock: threading.Lock) -> tuple[str, Any]:
    """Run one job in the runner, its live state going to the worker as ``progress``
    messages (coalesced, a few a second); the answer to send back."""
    live = Coalescer(lambda state: conn.send(("progress", {"job": job["id"], **state})), lock)
    try:
        return ("ok", run_job(job, live.offer))
    except KakehashiError as exc:
        return ("error", str(exc))
    except Exception as exc:  # a crash in a backend: the job fails with the reason
        return ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
    finally:
        live.close()  # no progress message of this job may follow its answer


def warm(names: str) -> None:
    """Run the named backends once on a tiny problem so that their kernels are compiled
    (a cold numba backend spends over a second loading them)."""
    import kakehashi

    for name in filter(None, (n.strip() for n in names.split(","))):
        with contextlib.suppress(KakehashiError):
            kakehashi.solve(
                kakehashi.examples.small_maxcut(), backend=name, time_limit=0.05, seed=0
            )


class Runner:
    """A long-lived child that runs jobs one after another, warm. Killed and replaced when a
    run must stop at once (cancel, shutdown, hung run). The worker itself never runs a
    solver: numba's thread pools must not be forked, so only this child starts them."""

    def __init__(self, ctx, warm_up: str, niceness: int = 0) -> None:
        self.conn, child_conn = ctx.Pipe(duplex=True)
        # not a daemon: a race (backend=[a, b]) starts its own processes from the runner;
        # it still dies with its worker (PR_SET_PDEATHSIG) and is killed when dropped
        self.proc = ctx.Process(
            target=_runner_loop, args=(child_conn, warm_up, niceness), daemon=False
        )
        self.proc.start()
        child_conn.close()
        self.ready = False
        self.live: LiveProgress | None = None  # the job it runs, as far as it told us

    def send(self, job: dict[str, Any]) -> None:
        self.live = LiveProgress(job["id"], run_budget(job))  # a comparison: all its runs
        self.conn.send(job)

    def poll(self, seconds: float, until_news: bool = False) -> tuple[str, Any] | None:
        """The job's answer within ``seconds`` (progress messages on the way go to
        :attr:`live`), or None — at once on news with ``until_news``; a crash reads as an
        error."""
        deadline = time.monotonic() + seconds
        while self.conn.poll(max(0.0, deadline - time.monotonic())):
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError):
                self.proc.join(5)
                return ("crashed", f"the run crashed (exit code {self.proc.exitcode})")
            if kind == "ready":
                self.ready = True
                continue
            if kind == "progress":
                if self.live is not None:
                    self.live.take(payload)
                    if until_news and self.live.news:
                        return None
                continue
            return kind, payload
        return None

    def kill(self, grace: float = 0.0) -> None:
        """Stop the runner: SIGTERM first when ``grace`` > 0, so that a run holding a task at
        a cloud provider cancels it there before it exits (its vendor's cancel call, held
        with :func:`kakehashi.progress.on_stop`); a run holding none ends at once, even
        inside a compiled kernel. Whatever is left after ``grace`` seconds is SIGKILLed."""
        if self.proc.is_alive() and grace > 0:
            self.proc.terminate()
            self.proc.join(grace)
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class WorkerProcess:
    """The loop of one worker. ``run()`` until ``stop()`` (SIGTERM/SIGINT)."""

    def __init__(self, settings: Settings, engine: sa.Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or db.make_engine(settings.database_url)
        self.id = f"w-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.stopping = False
        self._ctx = mp.get_context("fork")
        self._secrets = server_secrets()
        self._runner: Runner | None = None

    def runner(self) -> Runner:
        if self._runner is None or not self._runner.proc.is_alive():
            self._runner = Runner(self._ctx, self.settings.warm_up, self.settings.runner_niceness)
        return self._runner

    def drop_runner(self) -> None:
        """Stop the runner (cancelling any cloud task it holds, see :meth:`Runner.kill`)."""
        if self._runner is not None:
            self._runner.kill(self.settings.cancel_grace_seconds)
            self._runner = None

    def stop(self, *_args) -> None:
        self.stopping = True

    def run(self) -> None:
        queue.register_worker(self.engine, self.id, os.getpid(), socket.gethostname())
        self.runner()  # starts warming up while we look for work
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
            self.drop_runner()
            with contextlib.suppress(Exception):
                queue.unregister_worker(self.engine, self.id)

    def run_one(self, job: dict[str, Any]) -> None:
        """Run ``job`` in the runner; heartbeat; honour cancels; record exactly one end."""
        runner = self.runner()
        runner.send(job)
        started = time.monotonic()
        limit = run_budget(job)  # a comparison makes many runs of its time limit
        deadline = None if limit is None else started + limit + GRACE_SECONDS
        outcome: tuple[str, Any] | None = None
        last_beat = worker_beat = started
        while outcome is None:
            outcome = self._wait_for_beat(runner, last_beat)
            if outcome is not None:
                if outcome[0] == "crashed":
                    self.drop_runner()
                    outcome = ("error", outcome[1])
                break
            live = runner.live
            status = queue.heartbeat(
                self.engine, job["id"], self.id, live.fraction(), best_so_far=live.best_so_far
            )
            live.news = False
            last_beat = time.monotonic()
            if last_beat >= worker_beat + self.settings.heartbeat_seconds:
                # the worker's own row at the regular pace, however often news came
                queue.beat_worker(self.engine, self.id)
                worker_beat = last_beat
            if status is None:  # presumed dead and re-queued: someone else owns it now
                self.drop_runner()
                return
            if status == "cancelling":
                self.drop_runner()  # stops the solve, cancelling its task at the provider
                outcome = ("cancelled", None)
            elif self.stopping:
                self.drop_runner()
                queue.release(self.engine, job["id"], self.id)
                return
            elif deadline is not None and time.monotonic() > deadline:
                self.drop_runner()
                outcome = ("error", f"the run exceeded its time limit by {GRACE_SECONDS:g} s")
        self._record(job, outcome)

    def _wait_for_beat(self, runner: Runner, last_beat: float) -> tuple[str, Any] | None:
        """Wait for the job's answer until its next heartbeat is due: ``heartbeat_seconds``
        after the last one, or sooner (``LIVE_WRITE_SECONDS``) when the runner sent news —
        a better best-so-far reaches the job's row within about a second. None: beat now."""
        while True:
            every = self.settings.heartbeat_seconds
            if runner.live is not None and runner.live.news:
                every = min(every, LIVE_WRITE_SECONDS)
            wait = last_beat + every - time.monotonic()
            if wait <= 0:
                return None
            outcome = runner.poll(wait, until_news=True)
            if outcome is not None:
                return outcome

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
