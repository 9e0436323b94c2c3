"""Benchmarks on a process pool: the driver stays the store's only writer, each row says
where it ran, and a distributed benchmark killed mid-way resumes without loss or repeat."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import kakehashi
from executor_helpers import descendants, wait_gone
from kakehashi.backends import get_backend
from kakehashi.bench.runner import BenchPlan, run_plan
from kakehashi.bench.store import RunStore
from kakehashi.bench.suite import InstanceSpec
from kakehashi.executors import ProcessExecutor

SRC = Path(kakehashi.__file__).resolve().parents[1]


def test_jobs_store_every_run_once_with_its_placement():
    insts = [
        InstanceSpec("mc", "generator", {"generator": "maxcut-random", "params": {"n": 8}}),
        InstanceSpec("ks", "generator", {"generator": "knapsack", "params": {"n": 8, "seed": 2}}),
    ]
    plan = BenchPlan(insts, [get_backend("exact"), get_backend("tabu")], repeats=2,
                     time_limits=(0.2,), warmup=True)  # fmt: skip
    store = RunStore(":memory:")
    with ProcessExecutor(max_workers=2, cores_per_run=1) as ex:
        outcome = run_plan(plan, store, progress=False, executor=ex)
    assert outcome.new_runs == plan.total_runs == store.count() and outcome.errors == 0
    places = [json.loads(r["placement_json"]) for r in store.runs()]
    assert {p["executor"] for p in places} == {"process"}
    assert all(p["pid"] != os.getpid() and len(p["cores"]) == 1 for p in places)
    assert all(r["placement"].startswith("process on ") for r in store.runs())
    serial = RunStore(":memory:")
    run_plan(plan, serial, progress=False)
    key = lambda r: (r["instance"], r["backend"], r["repeat"], r["seed"])  # noqa: E731
    assert sorted(map(key, store.runs())) == sorted(map(key, serial.runs()))
    exact = {key(r): r["objective"] for r in serial.runs() if r["backend"] == "exact"}
    assert exact == {key(r): r["objective"] for r in store.runs() if r["backend"] == "exact"}


SUITE = """
[suite]
name = "killme"
repeats = 4
time_limit = 0.4
seed = 0
backends = [["tabu"], ["sa"]]

[[instance]]
name = "mc12"
generator = "maxcut-random"
params = { n = 12, p = 0.5, seed = 1 }

[[instance]]
name = "mc14"
generator = "maxcut-random"
params = { n = 14, p = 0.5, seed = 2 }
"""


def _bench(suite: Path, out: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, "-m", "kakehashi.cli", "bench", str(suite), "--jobs", "2",
           "--out", str(out), "--no-report", "--baseline", "tabu"]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stored(out: Path) -> int:
    try:
        with sqlite3.connect(out / "runs.sqlite") as conn:
            return int(conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_killed_distributed_bench_resumes_and_leaves_no_worker(tmp_path):
    suite = tmp_path / "killme.toml"
    suite.write_text(SUITE)
    out = tmp_path / "out"
    proc = _bench(suite, out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _stored(out) < 2 and proc.poll() is None:
        time.sleep(0.2)
    tree = descendants(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert wait_gone(tree) == set(), "bench workers outlived the killed driver"
    first = _stored(out)
    assert 0 < first < 16, "kill the driver mid-way (more runs or longer time_limit needed)"
    again = _bench(suite, out)
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()[-2000:]
    store = RunStore.open_existing(out)
    runs = store.runs()
    assert len(runs) == 16 and all(r["status"] == "ok" for r in runs)
    keys = {(r["instance"], r["backend"], r["repeat"], r["seed"]) for r in runs}
    assert len(keys) == 16  # nothing repeated, nothing lost


def test_bench_refuses_bad_executor_options(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    for args, says in (
        (["--address", "auto"], "add --executor ray"),
        (["--jobs", "0"], "--jobs must be"),
        (["--executor", "slurm"], "'process' or 'ray'"),
    ):
        cmd = [sys.executable, "-m", "kakehashi.cli", "bench", "quick", "--out", str(tmp_path)]
        out = subprocess.run([*cmd, *args], env=env, capture_output=True, text=True)
        assert out.returncode == 2 and says in out.stdout + out.stderr, out.stderr[-800:]
        assert "Traceback" not in out.stderr
