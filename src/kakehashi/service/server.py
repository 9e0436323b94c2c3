"""What ``kakehashi serve`` runs: migrations, the admin key, worker processes, the API.

Workers are supervised: one that dies is started again (its job is re-queued by the
heartbeat rule). They are started with ``KAKEHASHI_WORKER_DIE_WITH_PARENT`` so that they go
when the server goes, even on SIGKILL.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time

from kakehashi.service import db
from kakehashi.service.settings import Settings


class WorkerPool:
    """``n`` worker processes kept alive until :meth:`stop`."""

    def __init__(self, settings: Settings, n: int) -> None:
        self.settings, self.n = settings, n
        self.procs: list[subprocess.Popen] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="worker-pool")

    def _spawn(self) -> subprocess.Popen:
        env = {**os.environ, **self.settings.to_env(), "KAKEHASHI_WORKER_DIE_WITH_PARENT": "1"}
        return subprocess.Popen([sys.executable, "-m", "kakehashi.service.workers"], env=env)

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.n)]
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            for i, p in enumerate(self.procs):
                if p.poll() is not None and not self._stop.is_set():
                    print(
                        f"worker {p.pid} exited ({p.returncode}); starting another",
                        file=sys.stderr,
                        flush=True,
                    )
                    self.procs[i] = self._spawn()

    def stop(self) -> None:
        self._stop.set()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 10
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()


def warm_api() -> None:
    """Import and exercise what the first submission needs (readers, catalog, estimates), so
    that the first request is as fast as the rest."""
    from kakehashi.service.jobs import JobSpec, estimate_charges, read_problem

    problem = read_problem(b'{"vartype": "BINARY", "linear": {"a": 1}}', "warm.json")
    estimate_charges(problem, JobSpec(backend="exact"), Settings())


def tune_interpreter() -> None:
    """Settings for a server process whose threads (the event loop, the admission queue,
    request threads) take turns holding the GIL: hand it over every 0.5 ms rather than 5 ms,
    since a thread waiting its turn is a request waiting; and move the objects made at
    start (modules, the app) out of the garbage collector's sight, so its full collections
    stay short."""
    sys.setswitchinterval(0.0005)
    gc.collect()
    gc.freeze()


def serve(settings: Settings) -> None:
    """Run the service in the foreground until interrupted."""
    import uvicorn

    from kakehashi.service.app import create_app, ensure_admin

    if not settings.database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db.check_database(settings.database_url)
    app = create_app(settings)
    warm_api()
    key = ensure_admin(app.state.kakehashi.engine)
    where = settings.database_url.split("@")[-1]
    print(f"kakehashi service: database {where}", flush=True)
    if key:
        print(f"admin API key (shown once, keep it safe): {key}", flush=True)
    pool = WorkerPool(settings, settings.workers)
    pool.start()
    tune_interpreter()
    print(
        f"kakehashi service on http://{settings.host}:{settings.port} ({settings.workers} workers)",
        flush=True,
    )
    try:
        uvicorn.run(
            app, host=settings.host, port=settings.port, log_level="warning", access_log=False
        )
    finally:
        pool.stop()
