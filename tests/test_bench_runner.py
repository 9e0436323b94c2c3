"""The runner and its store: every run recorded with provenance, the same budget for every
backend, and resuming after an interruption loses nothing and repeats nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

import kakehashi
from kakehashi.backends import get_backend
from kakehashi.bench.runner import BenchPlan, run_plan, run_seed
from kakehashi.bench.store import RunStore
from kakehashi.bench.suite import InstanceSpec


class CountingExact:
    """Delegates to the exact backend, counts calls, and can simulate Ctrl-C or a crash."""

    def __init__(self, interrupt_at: int | None = None, fail: bool = False) -> None:
        self.inner = get_backend("exact")
        self.name = "counting-exact"
        self.info = self.inner.info
        self.calls = 0
        self.interrupt_at = interrupt_at
        self.fail = fail
        self.time_limits: list[float] = []

    def available(self):
        return self.inner.available()

    def solve(self, problem, *, time_limit=None, seed=None, **options):
        self.calls += 1
        self.time_limits.append(time_limit)
        if self.interrupt_at is not None and self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        if self.fail:
            raise RuntimeError("simulated crash inside a backend")
        return self.inner.solve(problem, time_limit=time_limit, seed=seed, **options)


def _instances():
    return [
        InstanceSpec("mc", "generator", {"generator": "maxcut-random", "params": {"n": 8}},
                     best_known="exact"),
        InstanceSpec("ks", "generator", {"generator": "knapsack", "params": {"n": 8, "seed": 2}}),
    ]  # fmt: skip


def test_runs_are_stored_with_provenance_and_the_same_budget():
    backend = CountingExact()
    sa = get_backend("reference-sa")
    store = RunStore(":memory:")
    plan = BenchPlan(_instances(), [backend, sa], repeats=2, time_limits=(0.2,), warmup=False)
    outcome = run_plan(plan, store, progress=False)
    assert outcome.new_runs == 8 and outcome.errors == 0
    rows = store.runs()
    assert {r["time_limit"] for r in rows} == {0.2}  # one budget for every backend
    assert backend.time_limits == [0.2] * 4
    for r in rows:
        assert r["status"] == "ok" and r["objective"] is not None
        assert r["seed"] == run_seed(0, r["instance"], r["repeat"])  # same seed across backends
        versions = json.loads(r["versions_json"])
        assert versions["kakehashi"] and versions["numpy"]
        assert json.loads(r["backend_info_json"])["modality"]
        assert json.loads(r["params_json"])["time_limit"] == 0.2
        assert r["energy_joules"] > 0 and r["co2_grams"] > 0 and r["money"] > 0
        assert r["started_at"] <= r["finished_at"]
    machine = store.machines()[0]
    assert machine["cpu_model"] and machine["cores_usable"] >= 1 and machine["memory_gb"] > 0
    assert all(r["machine_id"] == machine["id"] for r in rows)
    assert store.instances()["mc"]["best_known_source"] == "exhaustive enumeration"


def test_resume_after_interruption_skips_finished_runs(tmp_path):
    path = tmp_path / "runs.sqlite"
    plan_args = {"repeats": 3, "time_limits": (0.1,), "warmup": False}
    first = CountingExact(interrupt_at=4)
    outcome = run_plan(
        BenchPlan(_instances(), [first], **plan_args), RunStore(path), progress=False
    )
    assert outcome.interrupted and outcome.new_runs == 3
    assert RunStore(path).count() == 3  # the three finished runs survived "Ctrl-C"

    second = CountingExact()
    outcome = run_plan(
        BenchPlan(_instances(), [second], **plan_args), RunStore(path), progress=False
    )
    assert not outcome.interrupted
    assert outcome.skipped_done == 3 and outcome.new_runs == 3 and second.calls == 3
    rows = RunStore(path).runs()
    keys = {(r["instance"], r["repeat"]) for r in rows}
    assert len(rows) == 6 and len(keys) == 6  # nothing lost, nothing run twice

    third = CountingExact()
    outcome = run_plan(
        BenchPlan(_instances(), [third], **plan_args), RunStore(path), progress=False
    )
    assert third.calls == 0 and outcome.new_runs == 0 and outcome.skipped_done == 6


def test_errors_are_recorded_and_retried_on_rerun():
    store = RunStore(":memory:")
    broken = CountingExact(fail=True)
    plan = BenchPlan(_instances()[:1], [broken], repeats=2, time_limits=(0.1,), warmup=False)
    outcome = run_plan(plan, store, progress=False)
    assert outcome.errors == 2
    assert all("simulated crash" in r["error"] for r in store.runs())
    fixed = CountingExact()
    run_plan(BenchPlan(_instances()[:1], [fixed], repeats=2, time_limits=(0.1,), warmup=False),
             store, progress=False)  # fmt: skip
    assert fixed.calls == 2
    assert [r["status"] for r in store.runs()] == ["ok", "ok"]


def test_size_limits_and_unsupported_runs_are_recorded_not_fatal():
    store = RunStore(":memory:")
    big = InstanceSpec("big", "generator", {"generator": "qubo-random", "params": {"n": 30}})
    plan = BenchPlan([big], [get_backend("exact")], repeats=1, time_limits=(0.1,), warmup=False,
                     max_variables={"exact": 20})  # fmt: skip
    run_plan(plan, store, progress=False)
    (row,) = store.runs()
    assert row["status"] == "skipped" and "up to 20 variables" in row["error"]
    store2 = RunStore(":memory:")
    plan.max_variables = {}
    huge = InstanceSpec("huge", "generator", {"generator": "qubo-random", "params": {"n": 40}})
    plan.instances = [huge]
    run_plan(plan, store2, progress=False)
    (row,) = store2.runs()
    assert row["status"] == "unsupported" and "2^24" in row["error"]


def test_unavailable_instance_is_noted(tmp_path):
    inst = InstanceSpec("gone", "file", {"file": "missing.txt"}, base_dir=tmp_path)
    outcome = run_plan(BenchPlan([inst], [get_backend("exact")], repeats=1, warmup=False),
                       RunStore(":memory:"), progress=False)  # fmt: skip
    assert outcome.new_runs == 0 and "gone not run" in outcome.notes[0]


def test_ctrl_c_on_the_command_line_then_resume(tmp_path):
    """A real SIGINT to `kakehashi bench`: finished runs stay, a re-run completes the rest."""
    suite = tmp_path / "s.toml"
    suite.write_text(
        '[suite]\nname = "sig"\nrepeats = 4\ntime_limit = 0.2\n'
        '[[instance]]\nname = "k1"\ngenerator = "knapsack"\nparams = { n = 12, seed = 1 }\n'
        '[[instance]]\nname = "k2"\ngenerator = "knapsack"\nparams = { n = 12, seed = 2 }\n'
    )
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "kakehashi.cli", "bench", str(suite), "--backends",
           "reference-sa", "--out", str(out), "--no-report"]  # fmt: skip
    env = {**os.environ, "COLUMNS": "120"}
    # a shell's background jobs inherit SIGINT ignored; give the child the default action so
    # that Python installs its KeyboardInterrupt handler, as in an interactive terminal
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    db = out / "runs.sqlite"
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            with sqlite3.connect(db) as conn:
                try:
                    stored = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                except sqlite3.OperationalError:
                    stored = 0
            if stored >= 2:
                break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip("the benchmark finished before it could be interrupted")
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 130, output
    assert "interrupted" in output
    kept = RunStore(db).count()
    assert 2 <= kept < 8
    done = subprocess.run(cmd, capture_output=True, env=env, timeout=180)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    text = done.stdout.decode()
    assert f"{8 - kept} new runs, {kept} already stored" in text
    rows = RunStore(db).runs()
    assert len(rows) == 8 and len({(r["instance"], r["repeat"]) for r in rows}) == 8


def test_compare_resumes_into_a_store_file(tmp_path):
    path = tmp_path / "cmp.sqlite"
    p = kakehashi.examples.small_maxcut()
    kakehashi.compare([p], ["exact"], repeats=2, time_limit=0.1, store=path, warmup=False)
    again = kakehashi.compare([p], ["exact"], repeats=3, time_limit=0.1, store=path, warmup=False)
    assert again.outcome.skipped_done == 2 and again.outcome.new_runs == 1


def test_an_instance_that_fails_to_build_does_not_stop_the_benchmark():
    broken = InstanceSpec("broken", "python", {"python": "json:loads", "params": {"s": "{"}})
    fine = _instances()[1]
    outcome = run_plan(BenchPlan([broken, fine], [get_backend("exact")], repeats=1, warmup=False),
                       RunStore(":memory:"), progress=False)  # fmt: skip
    assert outcome.new_runs == 1
    assert "broken not run: it could not be built (JSONDecodeError" in outcome.notes[0]
