"""Progress and stop hooks for code that runs under an executor.

A leaf module (it imports nothing of kakehashi), so any layer may report: the penalty loop
reports each round, the race's contestant its answer; executors install the channel.

A callable running under an executor calls :func:`report` whenever it has something new
(best-so-far objective, a finished penalty round); the executor carries the event to the
driver. Outside an executor :func:`report` does nothing, so library code can call it freely.

Code that holds a remote job (a cloud QPU task) registers its vendor's cancel call with
:func:`on_stop`; when the executor stops the run (SIGTERM before SIGKILL), the hooks run
first, so the job is cancelled at the provider and not left running (and billing).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

_channel: Callable[[dict[str, Any]], None] | None = None
_stop_hooks: list[Callable[[], Any]] = []
_lock = threading.Lock()


def report(**event: Any) -> None:
    """Send a progress event (plain JSON-able values) to the driver, if there is one.

    Example:
        >>> report(objective=-5.0, feasible=True)   # outside an executor: ignored
    """
    channel = _channel
    if channel is not None:
        try:
            channel(event)
        except Exception:  # progress is best effort: never let it break the run
            pass


def listening() -> bool:
    """Whether :func:`report` goes anywhere (lets a caller skip preparing an event).

    Example:
        >>> listening()
        False
    """
    return _channel is not None


def set_channel(
    channel: Callable[[dict[str, Any]], None] | None,
) -> Callable[[dict[str, Any]], None] | None:
    """Install (or remove, with ``None``) where :func:`report` sends events; executors call
    it. Returns the channel it replaces, for one that nests (an in-process run inside a job
    the service follows) to put back."""
    global _channel
    previous, _channel = _channel, channel
    return previous


@contextlib.contextmanager
def on_stop(hook: Callable[[], Any]) -> Iterator[None]:
    """Run ``hook`` (e.g. ``task.cancel``) if the run is stopped while inside this block.

    Example:
        >>> with on_stop(lambda: None):
        ...     pass
    """
    with _lock:
        _stop_hooks.append(hook)
    previous = _catch_sigterm()
    try:
        yield
    finally:
        with _lock:
            if hook in _stop_hooks:
                _stop_hooks.remove(hook)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _catch_sigterm() -> Any:
    """While a hook is held, SIGTERM runs the hooks before the process exits. Only from the
    main thread, and only over the default action (a program's own handler is kept); the
    previous handler is returned for restoring, or None when nothing was changed. Without
    a hook SIGTERM keeps its default: the kernel ends the process at once, even inside a
    numba kernel, where a Python-level handler would wait for the kernel to return."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return None
        return signal.signal(signal.SIGTERM, _stop_now)
    except (ValueError, OSError):
        return None


def _stop_now(signum: int, frame: Any) -> None:
    run_stop_hooks()
    os._exit(128 + signum)


def run_stop_hooks() -> int:
    """Call every registered stop hook once (errors swallowed); return how many ran."""
    with _lock:
        hooks = list(reversed(_stop_hooks))
        _stop_hooks.clear()
    for hook in hooks:
        with contextlib.suppress(Exception):
            hook()
    return len(hooks)
