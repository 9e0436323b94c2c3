"""Where runs run: in this process, in killable child processes, or on a Ray cluster.

Every executor has the same small surface — ``submit(fn, *args, **kwargs) -> Run``,
``wait(runs, timeout=, return_when=)``, ``cancel(runs)``, ``gather(runs)``, ``close()`` — and
knows nothing of problems. :func:`get_executor` turns a name into one.

Example:
    >>> from kakehashi.executors import get_executor
    >>> with get_executor("in-process") as ex:
    ...     ex.gather([ex.submit(abs, -2)])
    [2]
"""

from __future__ import annotations

from typing import Any

from kakehashi.executors.base import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    Executor,
    ExecutorError,
    Run,
    RunCancelled,
    RunFailed,
)
from kakehashi.executors.local import InProcessExecutor, ProcessExecutor
from kakehashi.progress import on_stop, report

EXECUTOR_NAMES = ("in-process", "process", "ray")

__all__ = [
    "ALL_COMPLETED",
    "EXECUTOR_NAMES",
    "FIRST_COMPLETED",
    "Executor",
    "ExecutorError",
    "InProcessExecutor",
    "ProcessExecutor",
    "Run",
    "RunCancelled",
    "RunFailed",
    "get_executor",
    "on_stop",
    "report",
]


def get_executor(executor: str | Executor = "process", **options: Any) -> Executor:
    """An executor by name (``"in-process"``, ``"process"``, ``"ray"``), or ``executor`` itself.

    ``options`` go to the executor: ``max_workers``, ``cores_per_run``, ``reuse`` for
    ``"process"``; ``address``, ``cpus_per_run``, ``max_in_flight`` for ``"ray"``.

    Example:
        >>> get_executor("process", max_workers=1).name
        'process'
    """
    if isinstance(executor, Executor):
        return executor
    if executor == "in-process":
        return InProcessExecutor()
    if executor == "process":
        return ProcessExecutor(**options)
    if executor == "ray":
        from kakehashi.executors.ray import RayExecutor

        return RayExecutor(**options)
    from difflib import get_close_matches

    close = get_close_matches(str(executor), EXECUTOR_NAMES, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ExecutorError(
        f"unknown executor {executor!r}.{hint} Use one of: {', '.join(EXECUTOR_NAMES)}"
    )
