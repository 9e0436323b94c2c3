"""Fixtures for the service's tests: real SQLite and PostgreSQL stores, live servers.

PostgreSQL: a throw-away cluster in a temporary directory (Debian's initdb and pg_ctl, run
as the ``postgres`` user when the tests run as root, since initdb refuses root), listening
only on a unix socket. Tests that need it skip with the reason when it cannot start.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kakehashi.service.testing import SRC, PostgresCluster, free_port
from kakehashi.service.testing import ServerProcess as Server

__all__ = ["SRC", "Server", "free_port"]


@pytest.fixture(scope="session")
def postgres():
    try:
        cluster = PostgresCluster()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"no PostgreSQL for the service tests: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str | None:
    """``None`` (SQLite in the data dir) or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_server(request, tmp_path_factory):
    """One server with two workers per test module and database kind, shared by tests that
    each make their own tenants."""
    database = None
    if request.param == "postgresql":
        database = request.getfixturevalue("postgres").new_database()
    server = Server(tmp_path_factory.mktemp("live"), database, workers=2).start()
    yield server
    server.stop()


@pytest.fixture
def server_factory(tmp_path):
    started: list[Server] = []

    def make(
        database: str | None = None, workers: int = 1, data_dir: Path | None = None, **env: str
    ) -> Server:
        s = Server(data_dir or tmp_path / "data", database, workers, env).start()
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


def run_next_in_a_fresh_process(
    data_dir: Path, database: str | None, forkserver_first: bool = False
) -> str | None:
    """Run the oldest queued job as a worker would, from a fresh interpreter: the worker
    forks its runner, and fork aborts in a process that has run numba's OpenMP threads (as
    a test process may have, in another module's in-process solve). ``forkserver_first``
    starts the executors' forkserver in that interpreter before the fork, as a driver that
    raced already would have."""
    script = f"""
import sys; sys.path.insert(0, {str(SRC)!r})
from kakehashi.executors import ProcessExecutor
from kakehashi.service import queue
from kakehashi.service.db import make_engine
from kakehashi.service.settings import Settings
from kakehashi.service.workers import WorkerProcess
if {forkserver_first!r}:
    with ProcessExecutor(max_workers=1) as ex:
        assert ex.gather([ex.submit(abs, -2)]) == [2]
settings = Settings(data_dir={str(data_dir)!r}, database={database!r})
engine = make_engine(settings.database_url)
worker = WorkerProcess(settings, engine)
job = queue.claim(engine, worker.id)
try:
    if job is not None:
        worker.run_one(job)
finally:
    worker.drop_runner()
print("JOB", job["id"] if job else "")
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    last = [line for line in out.stdout.splitlines() if line.startswith("JOB")][-1]
    return last[4:] or None


def forking_is_unsafe_here() -> bool:
    """Whether this process has run numba's OpenMP thread pool, after which a fork aborts
    (the worker forks its runner). A test process may have, in another module's solve."""
    numba = sys.modules.get("numba")
    if numba is None:
        return False
    try:
        return numba.threading_layer() == "omp"
    except ValueError:  # no parallel kernel has run in this process
        return False


QUBO = b'{"vartype": "BINARY", "linear": {"a": -1, "b": -1, "c": 1}, "quadratic": {"a,b": 2}}'


def qubo_bytes(k: int = 0) -> bytes:
    """A tiny JSON QUBO; different ``k`` give different problems."""
    return (
        b'{"vartype": "BINARY", "linear": {"a": -1, "b": -1, "c": %d}, '
        b'"quadratic": {"a,b": 2}, "name": "tiny-%d"}' % (k + 1, k)
    )


class Api:
    """The app in-process (FastAPI's TestClient) on a real store, with no worker processes:
    tests run queued jobs themselves with :meth:`run_next`, deterministically."""

    def __init__(self, tmp_path: Path, database: str | None, **settings) -> None:
        from fastapi.testclient import TestClient

        from kakehashi.service.app import create_app, ensure_admin
        from kakehashi.service.settings import Settings

        base = {
            "data_dir": tmp_path / "data",
            "database": database,
            "workers": 0,
            "rate_limit": 1000,
            "rate_burst": 1000,
            "heartbeat_seconds": 0.2,
            "heartbeat_timeout": 2,
        }
        self.settings = Settings(**{**base, **settings})
        self.app = create_app(self.settings)
        self.engine = self.app.state.kakehashi.engine
        self.admin_key = ensure_admin(self.engine)
        self.http = TestClient(self.app, raise_server_exceptions=False)

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def tenant(self, name: str, **limits) -> str:
        r = self.http.post(
            "/v1/admin/tenants", json={"name": name, **limits}, headers=self.headers(self.admin_key)
        )
        assert r.status_code == 201, r.text
        return r.json()["api_key"]

    def submit(
        self,
        key: str,
        data: bytes = QUBO,
        filename: str = "p.json",
        headers: dict | None = None,
        **form,
    ):
        form = {"backend": "exact", **{k: str(v) for k, v in form.items()}}
        return self.http.post(
            "/v1/jobs",
            data=form,
            files={"file": (filename, data)},
            headers={**self.headers(key), **(headers or {})},
        )

    def run_next(self) -> str | None:
        """Claim and run the oldest queued job as a worker would; its id."""
        from kakehashi.service import queue
        from kakehashi.service.workers import WorkerProcess

        if forking_is_unsafe_here():
            return run_next_in_a_fresh_process(self.settings.data_dir, self.settings.database)

        worker = WorkerProcess(self.settings, self.engine)
        job = queue.claim(self.engine, worker.id)
        if job is None:
            return None
        try:
            worker.run_one(job)
        finally:
            worker.drop_runner()  # the runner is not a daemon: never leave one behind
        return job["id"]

    def close(self) -> None:
        self.http.close()
        self.engine.dispose()


@pytest.fixture
def api(tmp_path, database):
    a = Api(tmp_path, database)
    yield a
    a.close()


@contextlib.contextmanager
def headless_chromium():
    """A headless Chromium driven through Selenium (Debian's ``chromium`` and
    ``chromium-driver``, which .ci/run installs); the test is skipped when they are absent."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    browser = webdriver.Chrome(
        service=webdriver.ChromeService(executable_path=driver), options=options
    )
    try:
        yield browser
    finally:
        browser.quit()


def sign_in_browser(
    browser, wait, url: str, key: str, tenant: str, page: str = "/ui/login"
) -> None:
    """Open ``page`` (the sign-in form, or a page that leads to it), sign in with ``key`` and
    wait until the dashboard names ``tenant``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    browser.get(url + page)
    wait.until(ec.presence_of_element_located((By.ID, "api-key"))).send_keys(key)
    browser.find_element(By.ID, "sign-in").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "tenant-name"), tenant))
