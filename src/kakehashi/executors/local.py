"""Executors on this machine: in this process, or in child processes that can be killed.

:class:`InProcessExecutor` runs the callable at once, in the caller's process (the default
for a single solve: nothing to start, nothing to ship).

:class:`ProcessExecutor` runs each callable in a worker process of its own. A worker is pinned
to its own cores (``os.sched_setaffinity``) with numba's threads set to match, so two timed
runs never share a core; a worker can be stopped hard (SIGTERM, then SIGKILL after a grace
period) whatever it is doing — a numba kernel cannot be interrupted any other way. Workers
are started through multiprocessing's ``forkserver`` (kakehashi, numpy, scipy and numba
preloaded in the server, so a new worker starts in ~20 ms instead of ~0.4 s with ``spawn``;
plain ``fork`` is avoided because numba's threading layers are not fork-safe once threads
ran). No worker outlives the driver: each sets ``PR_SET_PDEATHSIG`` (Linux) so the kernel kills
it when its parent — the forkserver, which itself exits when the driver goes — dies, and
:meth:`ProcessExecutor.close` (also run at interpreter exit) kills what is left. A process
forked from a driver (the job service's runner) starts a forkserver of its own rather than
inheriting its parent's (see :func:`_forget_parents_forkserver`).

Example:
    >>> with ProcessExecutor(max_workers=1) as ex:
    ...     ex.gather([ex.submit(sum, [1, 2, 3])])
    [6]
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import multiprocessing as mp
import multiprocessing.connection as mpc
import multiprocessing.forkserver as mp_forkserver
import os
import resource
import signal
import socket
import sys
import threading
import time
import traceback
import weakref
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

PRELOAD = [
    "kakehashi.executors._forkserver",  # first: the forkserver exits when the driver dies
    "kakehashi",
    "kakehashi.backends",
    "kakehashi.engines",
    "kakehashi.executors.race",
]
_PR_SET_PDEATHSIG = 1
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class InProcessExecutor(Executor):
    """Runs each callable immediately in this process; nothing to stop afterwards.

    Example:
        >>> ex = InProcessExecutor()
        >>> ex.submit(max, 3, 7).result()
        7
    """

    name = "in-process"
    _ids = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Run:
        InProcessExecutor._ids += 1
        run = Run(InProcessExecutor._ids, status=RUNNING)
        run.started_at = time.perf_counter()
        run.where = {"executor": self.name, "host": socket.gethostname(), "pid": os.getpid()}
        cpu0 = time.process_time()
        outer = progress.set_channel(run._event)
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            run._finish(FAILED, error=exc)
        else:
            run._finish(DONE, value)
        finally:
            progress.set_channel(outer)  # whoever followed this process before (a job)
            run.cpu_seconds = time.process_time() - cpu0
        return run

    def _poll(self, timeout: float) -> None:
        time.sleep(timeout)

    def _stop(self, runs: Sequence[Run], grace: float) -> None:
        for run in runs:  # only reachable for runs already finished
            run._finish(CANCELLED)


class _Slot:
    """One worker process (started on demand), its pipe, its cores, and its current run."""

    def __init__(self, index: int, cores: list[int], pinned: bool) -> None:
        self.index, self.cores, self.pinned = index, cores, pinned
        self.process: Any = None
        self.conn: Any = None
        self.run: Run | None = None
        self.cpu_at_start = 0.0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()


class ProcessExecutor(Executor):
    """Runs callables in worker processes, at most ``max_workers`` at a time.

    ``cores_per_run`` cores are reserved for each worker (default: all usable cores divided
    among the workers, at least one); ``reuse=True`` keeps a worker for the next run (warm
    kernels, caches: benchmarks), ``reuse=False`` gives every run a fresh process (races).
    Runs submitted beyond ``max_workers`` wait in the driver and start as workers free up.

    Example:
        >>> with ProcessExecutor(max_workers=2, reuse=False) as ex:
        ...     runs = [ex.submit(pow, 2, k) for k in (3, 4)]
        ...     ex.gather(runs), runs[0].where["executor"]
        ([8, 16], 'process')
    """

    name = "process"

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        cores_per_run: int | None = None,
        reuse: bool = True,
        method: str = "forkserver",
    ) -> None:
        usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        usable = usable or list(range(os.cpu_count() or 1))
        if max_workers is not None and max_workers < 1:
            raise ExecutorError(f"max_workers must be ≥ 1, got {max_workers}")
        if cores_per_run is not None and cores_per_run < 1:
            raise ExecutorError(f"cores_per_run must be ≥ 1, got {cores_per_run}")
        per = cores_per_run or max(1, len(usable) // (max_workers or len(usable)))
        workers = max_workers or max(1, len(usable) // per)
        # more workers × cores than the machine has: cores are shared, and the record says so
        pinned = workers * per <= len(usable)
        self._slots = [
            _Slot(i, [usable[(i * per + j) % len(usable)] for j in range(per)], pinned)
            for i in range(workers)
        ]
        if method not in mp.get_all_start_methods():
            raise ExecutorError(
                f"start method {method!r} is not available here; use one of "
                f"{', '.join(mp.get_all_start_methods())}"
            )
        self._ctx = mp.get_context(method)
        if method == "forkserver":
            self._ctx.set_forkserver_preload(PRELOAD)
        self.reuse = reuse
        self._queue: collections.deque[tuple[Run, Any]] = collections.deque()
        self._next_id = 0
        self._closed = False
        self._finalizer = weakref.finalize(self, _kill_slots, self._slots)

    @property
    def max_workers(self) -> int:
        return len(self._slots)

    # ------------------------------------------------------------------ submit
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Run:
        if self._closed:
            raise ExecutorError("this executor is closed; make a new one")
        self._next_id += 1
        run = Run(self._next_id)
        self._queue.append((run, (fn, args, kwargs)))
        self._dispatch()
        return run

    def _dispatch(self) -> None:
        for slot in self._slots:
            if not self._queue:
                return
            if slot.run is not None:
                continue
            run, task = self._queue.popleft()
            try:
                if not slot.alive:
                    self._start_worker(slot)
                slot.conn.send((run.id, *task))
            except Exception as exc:  # unpicklable callable or arguments
                run._finish(FAILED, error=ExecutorError(f"could not send run {run.id}: {exc}"))
                continue
            slot.run = run
            run.status = RUNNING

    def _start_worker(self, slot: _Slot) -> None:
        self._reap(slot)
        parent, child = self._ctx.Pipe(duplex=True)
        slot.process = self._ctx.Process(
            target=_worker_main,
            args=(child, slot.cores, slot.pinned),
            daemon=True,
            name=f"kakehashi-worker-{slot.index}",
        )
        try:
            with _main_not_reimported():
                slot.process.start()
        except BaseException:
            slot.process = None  # never started: nothing to join or kill later
            parent.close()
            raise
        finally:
            child.close()
        slot.conn = parent

    # ------------------------------------------------------------------ events
    def _poll(self, timeout: float) -> None:
        busy = [s for s in self._slots if s.run is not None]
        if not busy:
            self._dispatch()
            time.sleep(timeout)
            return
        handles = [s.conn for s in busy] + [s.process.sentinel for s in busy]
        ready = set(mpc.wait(handles, timeout))
        for slot in busy:
            if slot.conn is not None and slot.conn in ready:
                self._drain(slot)
            if slot.run is not None and slot.process.sentinel in ready:
                self._drain(slot)
                if slot.run is not None:  # died without a word: killed from outside, or crashed
                    slot.process.join(0.1)
                    code = slot.process.exitcode
                    self._end(slot, FAILED, error=RunFailed(
                        f"worker process {slot.process.pid} died (exit code {code}) before "
                        "returning; out of memory or killed from outside?"
                    ))  # fmt: skip
                self._reap(slot)
        self._dispatch()

    def _drain(self, slot: _Slot) -> None:
        try:
            while slot.conn is not None and slot.conn.poll():
                self._handle(slot, slot.conn.recv())
        except (EOFError, OSError):
            pass

    def _handle(self, slot: _Slot, msg: tuple[Any, ...]) -> None:
        kind, run_id = msg[0], msg[1]
        run = slot.run
        if run is None or run.id != run_id:
            return
        if kind == "started":
            run.started_at = time.perf_counter()
            run.where = {"executor": self.name, **msg[2]}
            slot.cpu_at_start = msg[3]
        elif kind == "progress":
            run._event(msg[2])
        elif kind == "done":
            ok, payload, cpu = msg[2], msg[3], msg[4]
            run.cpu_seconds = cpu
            self._end(slot, DONE if ok else FAILED, payload if ok else None,
                      None if ok else payload)  # fmt: skip
            if not self.reuse:
                self._retire(slot)

    def _end(self, slot: _Slot, status: str, value: Any = None, error: Any = None) -> None:
        if slot.run is not None:
            slot.run._finish(status, value, error)
            slot.run = None

    # ------------------------------------------------------------------ stopping
    def _stop(self, runs: Sequence[Run], grace: float) -> None:
        queued = {r.id for r in runs}
        for run, task in list(self._queue):
            if run.id in queued:
                self._queue.remove((run, task))
                run._finish(CANCELLED)
        slots = [s for s in self._slots if s.run is not None and s.run in runs]
        for slot in slots:
            self._drain(slot)  # it may have finished just now: keep its answer
        slots = [s for s in slots if s.run is not None]
        for slot in slots:
            slot.run.cpu_seconds = _process_cpu_seconds(slot.process.pid, slot.cpu_at_start)
            with contextlib.suppress(ProcessLookupError):
                os.kill(slot.process.pid, signal.SIGTERM)  # stop hooks run, then it exits
        deadline = time.perf_counter() + grace
        for slot in slots:
            slot.process.join(max(0.0, deadline - time.perf_counter()))
        for slot in slots:
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            self._end(slot, CANCELLED)
            self._reap(slot)
        self._dispatch()

    def _retire(self, slot: _Slot) -> None:
        with contextlib.suppress(Exception):
            slot.conn.send(None)
        if slot.process is not None:
            slot.process.join(1.0)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
        self._reap(slot)

    def _reap(self, slot: _Slot) -> None:
        if slot.conn is not None:
            with contextlib.suppress(Exception):
                slot.conn.close()
        if slot.process is not None and not slot.process.is_alive():
            with contextlib.suppress(Exception):
                slot.process.close()
            slot.process = None
        slot.conn = None if slot.process is None else slot.conn

    def worker_pids(self) -> list[int]:
        """Process ids of the workers alive now (tests check these are gone after close)."""
        return [s.process.pid for s in self._slots if s.alive]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        running = [s.run for s in self._slots if s.run is not None]
        running += [r for r, _ in self._queue]
        if running:
            self.cancel(running, grace=0.2)
        for slot in self._slots:
            self._retire(slot)
        self._finalizer.detach()


@contextlib.contextmanager
def _main_not_reimported():
    """Start a worker without it importing the caller's ``__main__`` script again.

    multiprocessing's spawn and forkserver children re-run the main script (as
    ``__mp_main__``) so that functions defined there can be unpickled; a script without an
    ``if __name__ == "__main__":`` guard then races again inside every worker, which
    multiprocessing refuses. A worker only runs importable callables (kakehashi's race and
    benchmark tasks), so the main script is hidden from the child's preparation data while it
    starts. Submit functions from an importable module, not from ``__main__``.
    """
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__dict__["__spec__"] = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)
            if "__spec__" not in saved:
                main.__dict__.pop("__spec__", None)


def _forget_parents_forkserver() -> None:
    """After ``fork``: drop the forkserver this process's parent started, so that the next
    worker starts a forkserver of this process's own.

    multiprocessing keeps one forkserver per process tree in module state that a forked
    child inherits as is; the child then asks ``os.waitpid`` about a server that is not its
    child (``ChildProcessError``: the worker never starts and the executor's cleanup failed
    with "can only join a started process"). Even if it could use the server, its workers
    would be its parent's grandchildren — outliving it when it is killed (a cancelled job's
    runner) — and its copy of the server's "alive" pipe would keep that server running.
    Runs only in processes that inherited a started server (never in the forkserver itself
    or its workers, which set that state from the server's own file descriptors).
    """
    server = mp_forkserver._forkserver
    if getattr(server, "_forkserver_pid", None) is None:
        return
    if server._forkserver_alive_fd is not None:
        with contextlib.suppress(OSError):
            os.close(server._forkserver_alive_fd)
    server._forkserver_address = None
    server._forkserver_alive_fd = None
    server._forkserver_pid = None
    if hasattr(server, "_forkserver_authkey"):  # Python 3.13.x and later
        server._forkserver_authkey = None
    server._lock = threading.Lock()  # another thread may have held it at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parents_forkserver)


def _kill_slots(slots: list[_Slot]) -> None:
    """Last resort at garbage collection or interpreter exit: kill every worker."""
    for slot in slots:
        if slot.process is not None:
            with contextlib.suppress(Exception):
                slot.process.kill()


def _process_cpu_seconds(pid: int, baseline: float) -> float | None:
    """CPU seconds (user + system, all threads) process ``pid`` used since ``baseline``."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return max(0.0, (int(fields[11]) + int(fields[12])) / ticks - baseline)
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------------- in the worker
def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphans); no-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def pin_to(cores: list[int]) -> int:
    """Run this process on ``cores`` only, with numba and BLAS threads to match."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, set(cores))
    return set_threads(len(cores))


def set_threads(threads: int) -> int:
    """Make numba (and libraries that read ``OMP_NUM_THREADS`` when they start) use
    ``threads`` threads; return what numba will use."""
    for var in _THREAD_ENV:
        os.environ[var] = str(threads)
    with contextlib.suppress(Exception):
        import numba

        threads = min(threads, numba.config.NUMBA_NUM_THREADS)
        numba.set_num_threads(threads)
    return threads


def _no_numba_process_lock() -> None:
    """numba guards its thread-pool start with a *named* multiprocessing lock whenever the
    start method contains "fork" — "forkserver" included. A worker that is killed (a race
    lost) cannot unlink it, and Python's resource tracker then warns of a leaked semaphore
    per killed worker at exit. A worker forks no one, so a no-op lock is as safe."""
    with contextlib.suppress(Exception):
        from numba.np.ufunc import parallel

        if not parallel._backend_init_process_lock:
            parallel._backend_init_process_lock = parallel._nop()


def _worker_main(conn: Any, cores: list[int], pinned: bool) -> None:
    die_with_parent()
    _no_numba_process_lock()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    # SIGTERM keeps its default (instant exit) unless code holds a stop hook: then
    # kakehashi.progress.on_stop catches it to cancel remote jobs first
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threads = pin_to(cores)
    where = {"host": socket.gethostname(), "pid": os.getpid(), "cores": cores,
             "pinned": pinned, "threads": threads}  # fmt: skip
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        run_id, fn, args, kwargs = msg
        start = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = start.ru_utime + start.ru_stime
        conn.send(("started", run_id, where, cpu0))
        progress.set_channel(lambda ev, rid=run_id: conn.send(("progress", rid, ev)))
        try:
            ok, payload = True, fn(*args, **kwargs)
        except BaseException as exc:
            ok, payload = False, exc
        progress.set_channel(None)
        end = resource.getrusage(resource.RUSAGE_SELF)
        cpu = end.ru_utime + end.ru_stime - cpu0
        try:
            conn.send(("done", run_id, ok, payload, cpu))
        except Exception as exc:  # the value or the exception does not pickle
            text = "".join(traceback.format_exception_only(type(payload), payload)).strip()
            reason = text if not ok else f"its value could not be sent back ({exc})"
            conn.send(("done", run_id, False, RunFailed(f"run {run_id} failed: {reason}"), cpu))
