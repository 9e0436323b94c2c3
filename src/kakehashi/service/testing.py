"""Throw-away servers for tests and benchmarks: a PostgreSQL cluster in a temporary
directory and ``kakehashi serve`` processes on free loopback ports.

PostgreSQL: Debian's ``initdb`` and ``pg_ctl`` (newest under ``/usr/lib/postgresql``, or
``KAKEHASHI_PG_BIN``), run as the ``postgres`` user when the caller is root (initdb refuses
root), listening only on a unix socket in the temporary directory.

Example::

    >>> cluster = PostgresCluster()                       # doctest: +SKIP
    >>> server = ServerProcess(tmp, cluster.new_database()).start()   # doctest: +SKIP
    >>> server.admin_key.startswith("kh_")                 # doctest: +SKIP
    True
"""

from __future__ import annotations

import contextlib
import glob
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


def _pg_bin() -> Path:
    if os.environ.get("KAKEHASHI_PG_BIN"):
        return Path(os.environ["KAKEHASHI_PG_BIN"])
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
SRC = Path(__file__).resolve().parents[2]

# fast clocks so that dead workers are noticed within a couple of seconds
FAST = {
    "KAKEHASHI_HEARTBEAT_SECONDS": "0.2",
    "KAKEHASHI_HEARTBEAT_TIMEOUT": "2",
    "KAKEHASHI_POLL_SECONDS": "0.05",
    "KAKEHASHI_RATE_LIMIT": "1000",
    "KAKEHASHI_RATE_BURST": "1000",
    "KAKEHASHI_WARM_UP": "tabu",
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


class ServerProcess:
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

    def start(self, timeout: float = 60) -> ServerProcess:
        import httpx

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

    def restart(self) -> ServerProcess:
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
