"""Preloaded by multiprocessing's forkserver (see ``local.PRELOAD``); never import it yourself.

The forkserver stays alive while any process it forked is alive (each child holds its
"alive" pipe), and each worker dies only when its parent — the forkserver — does
(``PR_SET_PDEATHSIG``). So that a driver killed with SIGKILL leaves nothing behind, the
forkserver watches its own parent, the driver: once reparented it exits, and the kernel then
kills every worker. The server is a plain select loop (never in a numba kernel), so a small
thread can watch.
"""

from __future__ import annotations

import os
import sys
import threading
import time


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def _in_forkserver() -> bool:
    return "multiprocessing.forkserver" in sys.modules and sys.argv[:1] == ["-c"]


if _in_forkserver():
    threading.Thread(
        target=_exit_when_orphaned, args=(os.getppid(),), daemon=True, name="orphan-watch"
    ).start()
