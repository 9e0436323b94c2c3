"""The Ray executor: runs go to Ray workers, on this machine or across a cluster.

Each run is one Ray task (``num_cpus=cpus_per_run``) written as a *streaming generator*
(Ray's ``num_returns="streaming"``): the callable runs in a thread of the worker while the
task yields its progress events and finally its value, so the driver sees best-so-far
values as they improve through Ray's own object store, with no extra actor. Cancelling is
``ray.cancel(..., force=True)``, which kills the worker process (a numba kernel cannot be
interrupted otherwise); Ray starts a fresh worker for the next task.

``address`` is passed to ``ray.init``: ``None`` connects to the cluster named by
``RAY_ADDRESS`` or, with none, starts a local one for this process (``num_cpus`` = the usable
cores); ``"auto"`` joins the cluster started with ``ray start --head`` on this machine;
``"ray://host:10001"`` a remote one. Vendor credentials never travel: they stay in the
driver's environment (see docs/scale.md).

Example:
    >>> ex = RayExecutor(num_cpus=1)        # doctest: +SKIP
    >>> ex.gather([ex.submit(pow, 2, 10)])  # doctest: +SKIP
    [1024]
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from kakehashi import progress
from kakehashi.executors.base import (
    CANCELLED,
    DONE,
    FAILED,
    RUNNING,
    Executor,
    ExecutorError,
    Run,
    RunFailed,
)

_REMOTE: Any = None


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorError(
            "executor='ray' needs Ray: pip install 'kakehashi[ray]' (plain ray, not ray[default])"
        ) from None
    return ray


def _remote_task() -> Any:
    """The Ray task wrapping every run, made once (``ray.remote`` needs Ray imported)."""
    global _REMOTE
    if _REMOTE is None:
        _REMOTE = _ray().remote(num_returns="streaming", max_retries=0)(_run_in_worker)
    return _REMOTE


def _run_in_worker(fn: Callable[..., Any], args: tuple, kwargs: dict, cpus: int):
    """In the Ray worker: run ``fn`` in a thread, yield ``("progress", event)`` as they come
    and ``("done", ok, value_or_error, cpu_seconds)`` at the end."""
    from kakehashi.executors.local import set_threads

    threads = set_threads(cpus)
    events: queue.Queue = queue.Queue()
    out: dict[str, Any] = {}

    def target() -> None:
        progress.set_channel(events.put)
        try:
            out["value"], out["ok"] = fn(*args, **kwargs), True
        except BaseException as exc:
            out["value"], out["ok"] = exc, False
        finally:
            progress.set_channel(None)
            events.put(None)

    ray = _ray()
    ctx = ray.get_runtime_context()
    yield (
        "started",
        {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "node": ctx.get_node_id(),
            "threads": threads,
            "cpus": cpus,
            "pinned": False,
        },
    )
    p0 = time.process_time()
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    while True:
        ev = events.get()
        if ev is None:
            break
        yield ("progress", ev)
    worker.join()
    cpu = time.process_time() - p0  # the worker process: every thread of the run
    value = out["value"]
    if not out["ok"]:
        try:
            import pickle

            pickle.dumps(value)
        except Exception:
            text = "".join(traceback.format_exception_only(type(value), value)).strip()
            value = RunFailed(text)
    yield ("done", out["ok"], value, cpu)


class RayExecutor(Executor):
    """Runs callables as Ray tasks; at most ``max_in_flight`` at once (default: the
    cluster's CPUs divided by ``cpus_per_run``), the rest wait in the driver.

    ``ray.init`` is called only when Ray is not initialised yet; this executor then shuts
    Ray down on :meth:`close` (a cluster it joined keeps running).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        cpus_per_run: int = 1,
        max_in_flight: int | None = None,
        num_cpus: int | None = None,
    ) -> None:
        ray = _ray()
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            if address is None and not os.environ.get("RAY_ADDRESS"):
                kwargs["num_cpus"] = num_cpus or len(os.sched_getaffinity(0))
            try:
                ray.init(address=address, **kwargs)
            except Exception as exc:  # Ray raises plain Exception when its node cannot start
                raise ExecutorError(
                    f"could not start or reach a Ray cluster at {address!r} "
                    f"({str(exc).splitlines()[0][:200]}); start one with `ray start --head`, or "
                    "pass address=None for a local one; see docs/scale.md"
                ) from None
        self.cpus_per_run = int(cpus_per_run)
        total = int(ray.cluster_resources().get("CPU", 1))
        self.max_in_flight = max_in_flight or max(1, total // self.cpus_per_run)
        self._queue: list[tuple[Run, Any]] = []
        self._flying: dict[int, tuple[Run, Any]] = {}
        self._next_id = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Run:
        self._next_id += 1
        run = Run(self._next_id)
        self._queue.append((run, (fn, args, kwargs)))
        self._dispatch()
        return run

    def _dispatch(self) -> None:
        task = _remote_task()
        while self._queue and len(self._flying) < self.max_in_flight:
            run, (fn, args, kwargs) = self._queue.pop(0)
            gen = task.options(num_cpus=self.cpus_per_run).remote(
                fn, args, kwargs, self.cpus_per_run
            )
            run.status = RUNNING
            self._flying[run.id] = (run, gen)

    def _poll(self, timeout: float) -> None:
        ray = _ray()
        if not self._flying:
            self._dispatch()
            time.sleep(timeout)
            return
        gens = [gen for _, gen in self._flying.values()]
        ray.wait(gens, num_returns=1, timeout=timeout)
        for run, gen in list(self._flying.values()):
            self._drain(run, gen)
        self._dispatch()

    def _drain(self, run: Run, gen: Any) -> None:
        """Take every item the task has yielded so far (non-blocking)."""
        ray = _ray()
        while not run.done():
            ready, _ = ray.wait([gen], num_returns=1, timeout=0)
            if not ready:
                return
            try:
                msg = ray.get(next(gen))
            except StopIteration:
                self._end(run, FAILED, error=RunFailed(f"run {run.id} ended without a value"))
                return
            except Exception as exc:  # the worker died or the task was cancelled
                if run.cancel_requested_at is not None:
                    self._end(run, CANCELLED)
                else:
                    self._end(run, FAILED, error=RunFailed(f"Ray task failed: {exc}"))
                return
            self._handle(run, msg)

    def _handle(self, run: Run, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "started":
            run.started_at = time.perf_counter()
            run.where = {"executor": self.name, **msg[1]}
        elif kind == "progress":
            run._event(msg[1])
        elif kind == "done":
            run.cpu_seconds = msg[3]
            self._end(run, DONE if msg[1] else FAILED, msg[2] if msg[1] else None,
                      None if msg[1] else msg[2])  # fmt: skip

    def _end(self, run: Run, status: str, value: Any = None, error: Any = None) -> None:
        run._finish(status, value, error)
        self._flying.pop(run.id, None)

    def _stop(self, runs: Sequence[Run], grace: float) -> None:
        ray = _ray()
        ids = {r.id for r in runs}
        for run, task in list(self._queue):
            if run.id in ids:
                self._queue.remove((run, task))
                run._finish(CANCELLED)
        flying = [self._flying[r.id] for r in runs if r.id in self._flying]
        for run, gen in flying:
            self._drain(run, gen)  # it may have just finished: keep its answer
        flying = [(r, g) for r, g in flying if not r.done()]
        for _, gen in flying:
            ray.cancel(gen, force=True)  # kills the worker process
        deadline = time.perf_counter() + max(grace, 5.0)
        for run, gen in flying:
            while not run.done() and time.perf_counter() < deadline:
                ray.wait([gen], num_returns=1, timeout=0.05)
                self._drain(run, gen)
            if not run.done():
                self._end(run, CANCELLED)
        self._dispatch()

    def close(self) -> None:
        left = [r for r, _ in self._flying.values()] + [r for r, _ in self._queue]
        if left:
            self.cancel(left, grace=0.2)
        if self._owns_ray:
            _ray().shutdown()
            self._owns_ray = False
