"""A running job's live progress: from the solve's progress events to the worker's heartbeat.

The solve reports through :mod:`kakehashi.progress` (the penalty loop per round and, for
engines that work in batches, per improving batch; a race per improving contestant). In
the runner, :class:`BestSoFar` keeps the best *feasible* objective in the problem's own sense
(the sign of ``Result.objective``) and where the run is on its clock, and :class:`Coalescer`
sends that state to the worker at most a few times a second, always the latest, never
blocking the solve. In the worker, :class:`LiveProgress` takes those messages in; each
heartbeat writes its best-so-far and progress fraction to the job's row.

Example:
    >>> sent = []
    >>> best = BestSoFar("max", sent.append)
    >>> best({"objective": 3.0, "feasible": True})
    >>> best({"objective": 9.0, "feasible": False})   # infeasible: no best-so-far
    >>> best({"objective": 2.0, "feasible": True})    # worse for a maximisation
    >>> [m["best_so_far"] for m in sent]
    [3.0]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

#: at most this many progress messages a second go from the runner to its worker
MESSAGES_PER_SECOND = 4.0


class BestSoFar:
    """The progress channel of one job in the runner: turns events into the job's live state
    (``best_so_far``, ``round``, ``elapsed``/``budget`` of the backend's clock) and passes
    each change to ``send``."""

    def __init__(self, sense: str, send: Callable[[dict[str, Any]], None]) -> None:
        self.sense, self.send = sense, send
        self.state: dict[str, Any] = {"best_so_far": None}

    def better(self, value: float) -> bool:
        best = self.state["best_so_far"]
        return best is None or (value < best if self.sense == "min" else value > best)

    def __call__(self, event: dict[str, Any]) -> None:
        changed = False
        value = event.get("objective")
        if value is not None and event.get("feasible", True) and self.better(float(value)):
            self.state["best_so_far"] = float(value)
            changed = True
        if "round" in event and event["round"] != self.state.get("round"):
            self.state["round"] = int(event["round"])
            changed = True
        if "elapsed" in event and "budget" in event:
            first = "budget" not in self.state
            self.state["elapsed"] = float(event["elapsed"])
            self.state["budget"] = float(event["budget"])
            changed = changed or first
        if changed:
            self.send(dict(self.state))


class Coalescer:
    """Calls ``send`` with the latest offered message, at most ``per_second`` times a second.

    A message offered within the interval waits (replaced by any newer one) and a timer
    thread sends it when the interval is over, so the last value always arrives. ``send``
    runs under ``lock``, which the runner also holds to send a job's answer; :meth:`close`
    drops whatever still waits, so no message of a job follows its answer.

    Example:
        >>> out = []
        >>> c = Coalescer(out.append, threading.Lock(), per_second=2)
        >>> for k in range(100):
        ...     c.offer({"k": k})
        >>> c.close(); out
        [{'k': 0}]
    """

    def __init__(
        self,
        send: Callable[[Any], None],
        lock: threading.Lock,
        per_second: float = MESSAGES_PER_SECOND,
    ) -> None:
        self.send, self.lock = send, lock
        self.interval = 1.0 / per_second
        self.last_sent = -float("inf")
        self.pending: Any = None
        self.timer: threading.Timer | None = None
        self.closed = False

    def offer(self, message: Any) -> None:
        with self.lock:
            if self.closed:
                return
            self.pending = message
            wait = self.last_sent + self.interval - time.monotonic()
            if wait <= 0:
                self._send_pending()
            elif self.timer is None:
                self.timer = threading.Timer(wait, self._flush)
                self.timer.daemon = True
                self.timer.start()

    def _flush(self) -> None:
        with self.lock:
            self.timer = None
            if not self.closed:
                self._send_pending()

    def _send_pending(self) -> None:
        message, self.pending = self.pending, None
        if message is None:
            return
        self.last_sent = time.monotonic()
        try:
            self.send(message)
        except (OSError, ValueError):  # the worker is gone: the runner dies with it anyway
            self.closed = True

    def close(self) -> None:
        """Send nothing more (call before the job's answer is sent)."""
        with self.lock:
            self.closed = True
            self.pending = None
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None


class LiveProgress:
    """What the worker knows of the job its runner is solving, from the runner's messages."""

    def __init__(self, job_id: str, time_limit: float | None) -> None:
        self.job_id, self.time_limit = job_id, time_limit
        self.sent_at = time.monotonic()
        self.best_so_far: float | None = None
        self.clock_started: float | None = None  # the backend's clock, on ours
        self.budget: float | None = None
        self.news = False  # a better best-so-far not yet written (the worker clears it)

    def take(self, message: dict[str, Any]) -> None:
        """Take in one of the runner's messages (one about another job is ignored)."""
        if message.get("job") != self.job_id:
            return
        best = message.get("best_so_far")
        if best is not None and float(best) != self.best_so_far:
            self.best_so_far = float(best)
            self.news = True
        if message.get("budget"):
            self.budget = float(message["budget"])
            self.clock_started = time.monotonic() - float(message.get("elapsed") or 0.0)

    def fraction(self) -> float | None:
        """The share of the run's time budget spent, 0–0.99 (1 is for the end): on the
        backend's own clock once it reported it (warm-up and loading excluded, and the
        backend's default budget when the job set none), else since the job was sent."""
        if self.budget:
            spent, budget = time.monotonic() - float(self.clock_started or 0.0), self.budget
        elif self.time_limit:
            spent, budget = time.monotonic() - self.sent_at, float(self.time_limit)
        else:
            return None
        return max(0.0, min(spent / budget, 0.99))
