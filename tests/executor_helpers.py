"""Callables the executor tests run in workers, and process-tree helpers (by PID)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kakehashi.errors import ModelError
from kakehashi.executors import on_stop, report


def count_up(n: int, pause: float = 0.05) -> int:
    for i in range(n):
        report(step=i)
        time.sleep(pause)
    return os.getpid()


def sleep_forever(marker: str | None = None) -> None:
    """Sleeps in short Python-level naps (so SIGTERM's handler gets to run)."""
    if marker:
        with on_stop(lambda: Path(marker).write_text("cancelled at the provider")):
            while True:
                time.sleep(0.02)
    while True:
        time.sleep(0.02)


def refuse(message: str) -> None:
    raise ModelError(message)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie awaiting its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` in the process tree (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def wait_gone(pids: set[int], seconds: float = 20.0) -> set[int]:
    """Wait (bounded) for ``pids`` to exit; return those still alive."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {p for p in pids if alive(p)}
        if not left:
            return set()
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


def parent_of(pid: int) -> int:
    """The parent process id of ``pid`` (Linux /proc)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def drive_from_a_forked_child(conn) -> None:
    """In a forked child: run one task in a ProcessExecutor and send back this process's
    id and the parent of the worker's forkserver (or the error)."""
    import traceback

    from kakehashi.executors import ProcessExecutor

    try:
        with ProcessExecutor(max_workers=1) as ex:
            server = ex.gather([ex.submit(os.getppid)])[0]
        conn.send(("ok", os.getpid(), parent_of(server)))
    except BaseException:
        conn.send(("error", traceback.format_exc(), None))
