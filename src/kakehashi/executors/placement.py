"""Which runs must stay on the driver's machine: those that need vendor credentials.

Credentials (``DWAVE_API_TOKEN``, ``QISKIT_IBM_TOKEN``, AWS keys) live only where the driver
runs; they are never put in a task's arguments or shipped to a cluster. A backend whose
catalog entry lists ``credentials`` therefore runs in a local worker process even when the
race or the benchmark sends everything else to Ray. :class:`DriverSide` is the executor that
does the splitting: :meth:`DriverSide.submit` goes to the cluster,
:meth:`DriverSide.submit_here` to a process pool on this machine.

Example:
    >>> needs_driver("dwave-qpu"), needs_driver("tabu")
    (True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kakehashi.executors.base import Executor, Run


def needs_driver(backend: Any) -> bool:
    """Whether ``backend`` (a name or a backend) needs credentials that only the driver has."""
    name = backend if isinstance(backend, str) else getattr(backend, "name", "")
    try:
        from kakehashi.backends.catalog import entry

        return bool(entry(name).get("credentials"))
    except Exception:  # not in the catalog (a third-party backend): nothing to keep back
        return False


class DriverSide(Executor):
    """``remote`` for most runs, a local process pool (made when first needed) for the runs
    that must stay on the driver's machine.

    Example:
        >>> from kakehashi.executors import InProcessExecutor
        >>> ex = DriverSide(InProcessExecutor(), owns_remote=True)
        >>> ex.gather([ex.submit(abs, -1), ex.submit_here(abs, -2)])
        [1, 2]
        >>> ex.close()
    """

    def __init__(
        self, remote: Executor, *, max_local_workers: int = 1, owns_remote: bool = False
    ) -> None:
        self.remote = remote
        self.owns_remote = owns_remote
        self.name = remote.name
        self.max_local_workers = max_local_workers
        self._local: Executor | None = None
        self._owner: dict[int, Executor] = {}

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Run:
        return self._track(self.remote, self.remote.submit(fn, *args, **kwargs))

    def submit_here(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Run:
        """Submit to the driver's machine (a pinned local worker process)."""
        if self._local is None:
            from kakehashi.executors.local import ProcessExecutor

            self._local = ProcessExecutor(max_workers=self.max_local_workers, cores_per_run=1)
        return self._track(self._local, self._local.submit(fn, *args, **kwargs))

    def _track(self, ex: Executor, run: Run) -> Run:
        self._owner[id(run)] = ex
        return run

    def _executors(self) -> list[Executor]:
        return [self.remote] + ([self._local] if self._local is not None else [])

    def _poll(self, timeout: float) -> None:
        parts = self._executors()
        for ex in parts:
            ex._poll(timeout / len(parts))

    def _stop(self, runs: Sequence[Run], grace: float) -> None:
        for ex in self._executors():
            mine = [r for r in runs if self._owner.get(id(r)) is ex]
            if mine:
                ex._stop(mine, grace)

    def close(self) -> None:
        if self._local is not None:
            self._local.close()
        if self.owns_remote:
            self.remote.close()
