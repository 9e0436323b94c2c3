"""Load and fault benchmark of `kakehashi serve` (loopback only, bounded in count and time).

Load runs, per database (SQLite, PostgreSQL): ``--clients`` concurrent clients submit
``--jobs`` small jobs (a 3-variable JSON QUBO each, backend ``exact``) to a server with two
workers, and the job is then waited for until every job has completed. A tenant with a
spending cap submits alongside; its cap must hold.

* closed loop: each client sends its next submission as soon as the last is answered — the
  most submissions per second the server takes. With 50 submissions always in flight each
  waits about 50 / throughput (Little's law), so this run's latency says little;
* open loop (``--rate``, default 200/s): submissions are sent on a fixed schedule, whether or
  not earlier ones were answered, and each latency runs from when it was due — the latency a
  client sees at that load (no coordinated omission).

Fault run: the closed-loop load, but when about 40 % of the jobs are accepted the server and
one worker are killed with SIGKILL (the other worker dies with its server), restarted on the
same store, and the clients carry on — retrying any submission whose answer was lost with the
same ``Idempotency-Key``. At the end every accepted job must be completed exactly once (one
``completed`` event in the job log, one job per key) with its result intact (the objective a
local exact solve gives for that problem).

The clients are a minimal asyncio HTTP/1.1 client (:class:`RawHttp`), so that the load
generator takes little of the CPU the server is measured on. Before the clock starts, each
client connects and ``WARM_UP_JOBS`` submissions are made one at a time (they are checked
like the rest): a server that has taken no submission yet compiles its statements and fills
its key cache on the first ones, and 50 of those at once on a cold server wait up to 200 ms.

    python benchmarks/service_load.py                     # both databases, all runs
    python benchmarks/service_load.py --database sqlite --jobs 200 --no-fault
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import kakehashi
from kakehashi.service.testing import PostgresCluster, ServerProcess

CAPPED_JOBS = 25  # the capped tenant's cap has room for this many jobs
WARM_UP_JOBS = 10  # submitted one at a time before the clock, by both tenants


def problem_bytes(i: int) -> bytes:
    c = (i % 7) - 3  # seven distinct problems, so results can be checked against a local solve
    return (
        b'{"vartype": "BINARY", "linear": {"a": -1, "b": -1, "c": %d}, '
        b'"quadratic": {"a,b": 2}, "name": "load-%d"}' % (c, i)
    )


def expected_objective(i: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "p.json"
        p.write_bytes(problem_bytes(i))
        return kakehashi.solve(kakehashi.load(p), backend="exact", seed=0).objective


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator.

    It shares the two cores with the server it measures, so it must cost little: httpx
    spends about 3 ms of CPU per multipart request here, more than the server's own work.
    It sends a prepared request and reads one response (status line, headers,
    ``Content-Length`` body); anything else (a dropped connection, a chunked or unframed
    body) raises ``ConnectionError`` and the connection is opened afresh.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> RawHttp:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        await self.connect()
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            length = None
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is None:
                raise ConnectionError("response without Content-Length")
            return status, await self.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            self.close()
            raise ConnectionError(str(exc)) from exc

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def multipart_submit(host: str, key: str, idempotency_key: str, filename: str, body: bytes):
    """The bytes of ``POST /v1/jobs`` with the problem and ``backend=exact, seed=0``."""
    b = "kh" + uuid.uuid4().hex
    parts = []
    for name, value in (("backend", "exact"), ("seed", "0")):
        parts.append(f'--{b}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n')
    payload = (
        "".join(parts).encode()
        + f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/json\r\n\r\n".encode()
        + body
        + f"\r\n--{b}--\r\n".encode()
    )
    head = (
        f"POST /v1/jobs HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        f"Idempotency-Key: {idempotency_key}\r\n"
        f"Content-Type: multipart/form-data; boundary={b}\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


class Load:
    """Clients sharing one queue of job numbers; each submission retried until answered.

    Closed loop (``rate`` None): each client sends its next submission as soon as the last
    is answered, which measures the most the server takes (with ``n_clients`` in flight, a
    submission waits about ``n_clients / throughput``). Open loop (``rate`` per second, over
    all clients): submissions are started on a fixed schedule whether or not earlier ones are
    answered, which measures the latency a client sees at that load.
    """

    def __init__(
        self,
        url: str,
        key: str,
        capped_key: str,
        n_jobs: int,
        n_clients: int,
        rate: float | None = None,
    ):
        self.url, self.key, self.capped_key = url, key, capped_key
        self.host, _, port = url.split("//")[1].partition(":")
        self.port = int(port)
        self.n_jobs, self.n_clients, self.rate = n_jobs, n_clients, rate
        self.next = 0
        self.accepted: dict[int, str] = {}
        self.capped: dict[int, int] = {}
        self.latencies: list[float] = []
        self.retries = 0
        self.t0 = 0.0

    async def submit(self, http: RawHttp, i: int, due: float | None = None) -> None:
        """Submit job ``i`` until answered; its latency runs from ``due`` (open loop: when it
        should have been sent, so a late start counts) or from the first attempt."""
        capped = i % 10 == 0  # every tenth job goes to the capped tenant
        key = self.capped_key if capped else self.key
        raw = multipart_submit(self.host, key, f"job-{i}", f"p{i}.json", problem_bytes(i))
        t0 = time.perf_counter() if due is None else due
        while True:
            try:
                status, body = await http.request(raw)
            except ConnectionError:
                self.retries += 1
                await asyncio.sleep(0.2)
                continue
            if status >= 500 or (status == 429 and not capped):
                self.retries += 1
                await asyncio.sleep(0.2)
                continue
            self.latencies.append(time.perf_counter() - t0)
            if capped:
                self.capped[status] = self.capped.get(status, 0) + 1
                if status in (200, 201):
                    self.accepted[i] = json.loads(body)["id"]
            else:
                assert status in (200, 201), body
                self.accepted[i] = json.loads(body)["id"]
            return

    async def client(self, http: RawHttp) -> None:
        try:
            while self.next < self.n_jobs:
                i = self.next
                self.next += 1
                due = None
                if self.rate:  # open loop: job i is due at i / rate
                    due = self.t0 + i / self.rate
                    if due > time.perf_counter():
                        await asyncio.sleep(due - time.perf_counter())
                await self.submit(http, i, due)
        finally:
            http.close()

    async def run(self) -> float:
        # each client connects before the clock starts, as a client with a connection pool
        # would have: the load measures submissions, not TCP handshakes
        pool = [RawHttp(self.host, self.port) for _ in range(self.n_clients)]
        await asyncio.gather(*(http.connect() for http in pool))
        for i in range(self.n_jobs, self.n_jobs + WARM_UP_JOBS):  # one after another, unclocked
            await self.submit(pool[0], i)
        self.latencies.clear()
        self.t0 = time.perf_counter()
        await asyncio.gather(*(self.client(http) for http in pool))
        return time.perf_counter() - self.t0


def setup_tenants(server: ServerProcess, n_jobs: int) -> tuple[str, str, float]:
    from kakehashi.service.jobs import JobSpec, estimate_charges, read_problem
    from kakehashi.service.settings import Settings

    admin = kakehashi.Client(server.url, server.admin_key)
    key = admin.create_tenant("load", max_concurrent_jobs=10 * n_jobs, money_per_month=1e6)[
        "api_key"
    ]
    one, _ = estimate_charges(
        read_problem(problem_bytes(0), "p.json"), JobSpec(backend="exact", seed=0), Settings()
    )
    cap = one.money * (CAPPED_JOBS + 0.5)
    capped = admin.create_tenant("capped", money_per_month=cap, max_concurrent_jobs=10 * n_jobs)[
        "api_key"
    ]
    return key, capped, cap


def wait_all_completed(server: ServerProcess, ids: set[str], timeout: float) -> float:
    """Seconds until every job in ``ids`` (any tenant's) has completed."""
    t0 = time.perf_counter()
    admin = kakehashi.Client(server.url, server.admin_key)
    while time.perf_counter() - t0 < timeout:
        done = {j["id"] for j in admin.jobs(status="completed", all_tenants=True)}
        if ids <= done:
            return time.perf_counter() - t0
        time.sleep(0.5)
    raise SystemExit(f"timed out: {len(ids - done)} of {len(ids)} jobs not completed")


def verify(server: ServerProcess, load: Load, keys: tuple[str, str], cap: float) -> dict:
    """Every accepted job completed exactly once, with its result intact; the cap held."""
    import sqlalchemy as sa

    from kakehashi.service.db import make_engine
    from kakehashi.service.settings import Settings

    engine = make_engine(Settings(data_dir=server.data_dir, database=server.database).database_url)
    with engine.connect() as conn:
        completions = dict(
            conn.execute(
                sa.text(
                    "select job_id, count(*) from job_events where event = 'completed' "
                    "group by job_id"
                )
            ).all()
        )
        per_key = conn.execute(
            sa.text(
                "select count(*), count(distinct tenant_id || ':' || idempotency_key) from jobs"
            )
        ).one()
        capped_money = conn.execute(
            sa.text(
                "select coalesce(sum(charge_money), 0) from jobs "
                "join tenants t on t.id = tenant_id where t.name = 'capped'"
            )
        ).scalar_one()
    engine.dispose()
    expected = {k: expected_objective(k) for k in range(7)}
    clients = {
        k: kakehashi.Client(server.url, key)
        for k, key in zip(("load", "capped"), keys, strict=True)
    }
    lost = twice = wrong = 0
    for job in load.accepted.values():
        n = completions.get(job, 0)
        lost += n == 0
        twice += n > 1
    # results intact: a sample of jobs' results against a local solve of the same problem
    for i, job in list(load.accepted.items())[:: max(1, len(load.accepted) // 100)]:
        r = clients["capped" if i % 10 == 0 else "load"].result(job)
        wrong += not (r.feasible and r.objective == expected[i % 7])
    return {
        "accepted": len(load.accepted),
        "lost": lost,
        "completed_twice": twice,
        "results_checked": min(len(load.accepted), 100),
        "results_wrong": wrong,
        "jobs_rows": per_key[0],
        "distinct_idempotency_keys": per_key[1],
        "capped_accepted": sum(v for k, v in load.capped.items() if k in (200, 201)),
        "capped_refused": load.capped.get(429, 0),
        "capped_money": capped_money,
        "cap": cap,
        "cap_held": capped_money <= cap,
    }


def run_load(
    database: str | None, n_jobs: int, n_clients: int, fault: bool, rate: float | None
) -> dict:
    data = Path(tempfile.mkdtemp(prefix="kh-load-"))
    env = {
        "KAKEHASHI_RATE_LIMIT": "100000",
        "KAKEHASHI_RATE_BURST": "100000",
        "KAKEHASHI_WARM_UP": "",
    }
    server = ServerProcess(data, database, workers=2, env=env).start()
    try:
        key, capped_key, cap = setup_tenants(server, n_jobs)
        load = Load(server.url, key, capped_key, n_jobs, n_clients, rate)
        restarted_after = None

        async def main() -> float:
            task = asyncio.create_task(load.run())
            if fault:
                while len(load.accepted) < 0.4 * n_jobs:
                    await asyncio.sleep(0.01)
                nonlocal restarted_after
                restarted_after = len(load.accepted)
                workers = kakehashi.Client(server.url, server.admin_key)._json(
                    "GET", "/v1/admin/workers"
                )
                os.kill(server.proc.pid, signal.SIGKILL)
                if workers:
                    os.kill(workers[0]["pid"], signal.SIGKILL)
                await asyncio.to_thread(server.restart)
            return await task

        wall = asyncio.run(main())
        # every accepted job, the capped tenant's too, before results are checked
        drain = wait_all_completed(server, set(load.accepted.values()), timeout=600)
        out = {
            "database": "postgresql" if database else "sqlite",
            "fault": fault,
            "offered_per_second": rate,
            "jobs": n_jobs,
            "clients": n_clients,
            "submit_seconds": wall,
            "submissions_per_second": n_jobs / wall,
            "p50_ms": 1000 * statistics.median(load.latencies),
            "p99_ms": 1000 * percentile(load.latencies, 0.99),
            "retries": load.retries,
            "drain_seconds_after_submit": drain,
            "killed_after_accepted": restarted_after,
        }
        out.update(verify(server, load, (key, capped_key), cap))
        return out
    finally:
        server.stop()


def run_name(r: dict) -> str:
    if r["fault"]:
        return "fault"
    if r["offered_per_second"]:
        return f"open loop, {r['offered_per_second']:g}/s offered"
    return "closed loop"


def median_rows(rows: list[dict]) -> list[dict]:
    """One row per (database, run): the median of each figure over the repeats, the worst
    of the correctness counts (any lost job in any repeat shows)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["database"], run_name(r)), []).append(r)
    out = []
    for group in groups.values():
        m = dict(group[0])
        for k in ("submissions_per_second", "p50_ms", "p99_ms", "drain_seconds_after_submit"):
            m[k] = statistics.median(r[k] for r in group)
        for k in ("lost", "completed_twice", "results_wrong"):
            m[k] = max(r[k] for r in group)
        m["accepted"] = min(r["accepted"] for r in group)
        m["cap_held"] = all(r["cap_held"] for r in group)
        m["repeats"] = len(group)
        out.append(m)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument(
        "--rate",
        type=float,
        default=200.0,
        help="submissions per second offered in the open-loop run (0: skip that run)",
    )
    ap.add_argument("--no-fault", action="store_true", help="skip the fault run")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the table shows medians")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if not 1 <= args.jobs <= 5000 or not 1 <= args.clients <= 200 or not 1 <= args.repeat <= 9:
        sys.exit("keep it bounded: --jobs 1..5000, --clients 1..200, --repeat 1..9")
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    cluster = PostgresCluster() if "postgresql" in kinds else None
    rows = []
    try:
        runs = [(False, None)] + ([(False, args.rate)] if args.rate > 0 else [])
        runs += [] if args.no_fault else [(True, None)]
        for _ in range(args.repeat):
            for kind in kinds:
                for fault, rate in runs:
                    db = cluster.new_database() if kind == "postgresql" else None
                    row = run_load(db, args.jobs, args.clients, fault, rate)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    finally:
        if cluster:
            cluster.stop()
    print(
        f"\nmedians of {args.repeat} run(s) each\n"
        "| database | run | submissions/s | p50 ms | p99 ms | accepted | lost | twice | "
        "results wrong | cap held |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in median_rows(rows):
        print(
            f"| {r['database']} | {run_name(r)} | "
            f"{r['submissions_per_second']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['accepted']} | {r['lost']} | {r['completed_twice']} | {r['results_wrong']} | "
            f"{'yes' if r['cap_held'] else 'NO'} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
