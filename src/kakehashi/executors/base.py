"""The executor interface: submit a callable, wait for runs, cancel them.

An executor knows nothing of problems or backends. It runs ``fn(*args, **kwargs)`` in a
place — this process, a child process, a Ray worker —, hands back a :class:`Run` handle
that fills in as the run starts, reports progress and ends, and can stop it. The surface is
Ray's task API in miniature: :meth:`Executor.submit`, :meth:`Executor.wait`,
:meth:`Executor.cancel`.

A callable reports progress (best-so-far values as they improve) with
:func:`kakehashi.executors.progress.report`; each executor carries those events back to the
driver, where they land, time-stamped on the driver's clock, in :attr:`Run.events`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from kakehashi.errors import KakehashiError

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
FIRST_COMPLETED, ALL_COMPLETED = "FIRST_COMPLETED", "ALL_COMPLETED"


class ExecutorError(KakehashiError):
    """An executor cannot be made or used as asked (unknown name, Ray missing, bad address)."""


class RunFailed(KakehashiError):
    """A run raised an exception that could not be carried back as itself; its text is kept."""


class RunCancelled(KakehashiError):
    """The run was cancelled before it returned a value."""


@dataclasses.dataclass
class Run:
    """A handle on one submitted run, filled in by its executor as the run goes.

    ``where`` says where it ran (executor, host, pid, cores, Ray node); ``events`` are the
    progress reports, each with ``t`` (seconds since :attr:`submitted_at`, driver clock);
    ``cpu_seconds`` is the run's CPU time (all threads) as measured where it ran, also for a
    run that was cancelled (read before it was killed) when the place allows it.
    """

    id: int
    status: str = QUEUED
    value: Any = None
    error: BaseException | None = None
    where: dict[str, Any] = dataclasses.field(default_factory=dict)
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    submitted_at: float = dataclasses.field(default_factory=time.perf_counter)
    started_at: float | None = None
    ended_at: float | None = None
    cpu_seconds: float | None = None
    cancel_requested_at: float | None = None

    def done(self) -> bool:
        return self.status in FINISHED

    def result(self) -> Any:
        """The run's return value; raises what the run raised (or :class:`RunCancelled`)."""
        if self.status == CANCELLED:
            raise RunCancelled(f"run {self.id} was cancelled")
        if self.status == FAILED:
            raise self.error if self.error is not None else RunFailed(f"run {self.id} failed")
        if self.status != DONE:
            raise ExecutorError(f"run {self.id} has not finished; wait for it first")
        return self.value

    @property
    def stop_seconds(self) -> float | None:
        """Seconds from the cancel request to the run's end (None unless it was cancelled)."""
        if self.cancel_requested_at is None or self.ended_at is None:
            return None
        return max(0.0, self.ended_at - self.cancel_requested_at)

    def _event(self, event: dict[str, Any]) -> None:
        self.events.append({"t": time.perf_counter() - self.submitted_at, **event})

    def _finish(self, status: str, value: Any = None, error: BaseException | None = None) -> None:
        if self.done():
            return
        self.status, self.value, self.error = status, value, error
        self.ended_at = time.perf_counter()


def where_line(where: dict[str, Any]) -> str:
    """One readable line for a run's ``where``.

    Example:
        >>> where_line({"executor": "process", "host": "vm", "pid": 7, "cores": [0],
        ...             "pinned": True, "threads": 1})
        'process on vm, pid 7, cores 0 (pinned), 1 thread(s)'
    """
    parts = [f"{where.get('executor', '?')} on {where.get('host', '?')}"]
    if where.get("node"):
        parts.append(f"node {str(where['node'])[:12]}")
    if "pid" in where:
        parts.append(f"pid {where['pid']}")
    if where.get("cores"):
        pinned = " (pinned)" if where.get("pinned") else " (shared)"
        parts.append("cores " + ",".join(str(c) for c in where["cores"]) + pinned)
    if where.get("threads"):
        parts.append(f"{where['threads']} thread(s)")
    return ", ".join(parts)


class Executor:
    """Base class of every executor. Subclasses implement :meth:`submit`, :meth:`_poll`
    and :meth:`_stop`; waiting, gathering and cancelling are shared.

    Use an executor as a context manager (or call :meth:`close`): closing cancels what is
    still running and leaves no process behind.
    """

    name = "executor"

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Run:
        raise NotImplementedError

    def _poll(self, timeout: float) -> None:
        """Take in whatever happened (starts, progress, ends) for up to ``timeout`` seconds."""
        raise NotImplementedError

    def _stop(self, runs: Sequence[Run], grace: float) -> None:
        """Stop running or queued runs, marking each :data:`CANCELLED` once it is gone."""
        raise NotImplementedError

    def wait(
        self,
        runs: Sequence[Run],
        *,
        timeout: float | None = None,
        return_when: str = FIRST_COMPLETED,
    ) -> tuple[list[Run], list[Run]]:
        """Wait until one (``FIRST_COMPLETED``) or all (``ALL_COMPLETED``) of ``runs`` end,
        or ``timeout`` seconds pass; return ``(done, not_done)`` as :func:`ray.wait` does.

        Example:
            >>> from kakehashi.executors import InProcessExecutor
            >>> ex = InProcessExecutor()
            >>> done, rest = ex.wait([ex.submit(sum, [1, 2])])
            >>> done[0].result(), rest
            (3, [])
        """
        if return_when not in (FIRST_COMPLETED, ALL_COMPLETED):
            raise ExecutorError(f"return_when must be {FIRST_COMPLETED} or {ALL_COMPLETED}")
        deadline = None if timeout is None else time.perf_counter() + timeout
        while True:
            done = [r for r in runs if r.done()]
            enough = len(done) == len(runs) if return_when == ALL_COMPLETED else bool(done)
            left = None if deadline is None else deadline - time.perf_counter()
            if enough or not runs or (left is not None and left <= 0):
                return done, [r for r in runs if not r.done()]
            self._poll(0.05 if left is None else min(0.05, left))

    def cancel(self, runs: Run | Sequence[Run], *, grace: float = 0.5) -> None:
        """Stop one run or several: ask politely (SIGTERM where it is a process), then after
        ``grace`` seconds force it (SIGKILL). All are signalled before any is waited for;
        returns once they are gone. Finished runs are left as they are."""
        todo = [runs] if isinstance(runs, Run) else [r for r in runs]
        todo = [r for r in todo if not r.done()]
        now = time.perf_counter()
        for r in todo:
            r.cancel_requested_at = now
        if todo:
            self._stop(todo, grace)

    def gather(self, runs: Iterable[Run], *, timeout: float | None = None) -> list[Any]:
        """Wait for every run and return their values in order (raising the first failure)."""
        runs = list(runs)
        _, left = self.wait(runs, timeout=timeout, return_when=ALL_COMPLETED)
        if left:
            raise ExecutorError(f"{len(left)} runs did not finish within {timeout} s")
        return [r.result() for r in runs]

    def close(self) -> None:
        """Release workers; runs still going are cancelled."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
