"""Fixtures for the service's tests: real SQLite and PostgreSQL stores, live servers.

PostgreSQL: a throw-away cluster in a temporary directory (Debian's initdb and pg_ctl, run
as the ``postgres`` user when the tests run as root, since initdb refuses root), listening
only on a unix socket. Tests that need it skip with the reason when it cannot start.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

PG_BIN = Path(os.environ.get("KAKEHASHI_PG_BIN", "/usr/lib/postgresql/15/bin"))
SRC = Path(__file__).resolve().parents[1] / "src"

# fast clocks so that dead workers are noticed within a couple of seconds
FAST = {
    "KAKEHASHI_HEARTBEAT_SECONDS": "0.2",
    "KAKEHASHI_HEARTBEAT_TIMEOUT": "2",
    "KAKEHASHI_POLL_SECONDS": "0.05",
    "KAKEHASHI_RATE_LIMIT": "1000",
    "KAKEHASHI_RATE_BURST": "1000",
    "KAKEHASHI_WARM_UP": "tabu",  # the only numba backend the tests run
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """initdb + pg_ctl in a temporary directory; ``new_database()`` gives a fresh URL."""

    def __init__(self) -> None:
        for tool in ("initdb", "pg_ctl"):
            if not (PG_BIN / tool).exists():
                raise RuntimeError(f"{PG_BIN / tool} is missing (apt-get install postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="kh-pg-"))
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise RuntimeError("running as root and there is no 'postgres' user") from exc
            self.user = "postgres"
            os.chmod(self.root, 0o755)
            for p in (self.root, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self._run(
            [
                PG_BIN / "initdb",
                "-D",
                self.data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        )
        opts = (
            f"-p {self.port} -k {self.sock} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            [
                PG_BIN / "pg_ctl",
                "-D",
                self.data,
                "-o",
                opts,
                "-w",
                "-t",
                "30",
                "-l",
                self.root / "log",
                "start",
            ]
        )

    def _run(self, cmd) -> None:
        cmd = [str(c) for c in cmd]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if out.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {out.stderr.strip()[-500:]}")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.sock}&port={self.port}"

    def new_database(self) -> str:
        import psycopg

        name = "kh_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run([PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


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


class Server:
    """A ``kakehashi serve`` process on a free loopback port."""

    def __init__(
        self,
        data_dir: Path,
        database: str | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir, self.database, self.workers = Path(data_dir), database, workers
        self.env = {**FAST, **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_key: str | None = None
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = self.data_dir / f"server-{time.time_ns()}.log"
        cmd = [
            sys.executable,
            "-m",
            "kakehashi.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--workers",
            str(self.workers),
        ]
        if self.database:
            cmd += ["--database", self.database]
        env = {
            **os.environ,
            **self.env,
            "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        }
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")
        for line in self.log.read_text().splitlines():
            if "admin API key" in line:
                self.admin_key = line.split()[-1]
        return self

    def restart(self) -> Server:
        """SIGKILL and start again on the same store (the admin key is kept)."""
        key = self.admin_key
        self.kill()
        self.start()
        self.admin_key = key
        return self

    def kill(self) -> None:
        """SIGKILL the server (its workers die with it)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._wait_workers_gone()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._wait_workers_gone()

    def _wait_workers_gone(self) -> None:
        # workers run in the server's session: make sure none outlives it
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        time.sleep(0.2)


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

        worker = WorkerProcess(self.settings, self.engine)
        job = queue.claim(self.engine, worker.id)
        if job is None:
            return None
        worker.run_one(job)
        return job["id"]

    def close(self) -> None:
        self.http.close()
        self.engine.dispose()


@pytest.fixture
def api(tmp_path, database):
    a = Api(tmp_path, database)
    yield a
    a.close()
