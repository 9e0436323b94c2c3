"""Executors (in-process, process pool) and the portfolio race: answers are checked against
the problem, races stop early on a proof or a target, and no process outlives a race, a
cancel, a Ctrl-C or a killed driver (checked by PID)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import kakehashi
from executor_helpers import alive, count_up, descendants, refuse, sleep_forever, wait_gone
from kakehashi.errors import KakehashiError, ModelError
from kakehashi.executors import (
    ExecutorError,
    InProcessExecutor,
    ProcessExecutor,
    RunCancelled,
    get_executor,
)
from kakehashi.executors.race import race

SRC = Path(kakehashi.__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


# ---------------------------------------------------------------------- executors
def test_in_process_runs_here_and_records_progress():
    ex = InProcessExecutor()
    run = ex.submit(count_up, 3, 0.0)
    assert run.result() == os.getpid()
    assert [e["step"] for e in run.events] == [0, 1, 2]
    assert run.where["executor"] == "in-process"


def test_process_pool_runs_elsewhere_streams_progress_and_carries_errors():
    with ProcessExecutor(max_workers=2) as ex:
        good = ex.submit(count_up, 4)
        bad = ex.submit(refuse, "no such variable x")
        ex.wait([good, bad], return_when="ALL_COMPLETED")
        pid = good.result()
        assert pid != os.getpid() and good.where["pid"] == pid
        assert [e["step"] for e in good.events] == [0, 1, 2, 3]
        assert good.where["cores"] and good.where["threads"] >= 1
        assert good.cpu_seconds is not None
        with pytest.raises(ModelError, match="no such variable x"):
            bad.result()
        workers = ex.worker_pids()
        assert workers
    assert wait_gone(set(workers)) == set()


def test_more_runs_than_workers_queue_and_all_finish():
    with ProcessExecutor(max_workers=1) as ex:
        runs = [ex.submit(pow, 3, k) for k in range(4)]
        assert ex.gather(runs) == [1, 3, 9, 27]
        assert len({r.where["pid"] for r in runs}) == 1  # one reused worker


def test_cancel_kills_the_run_and_runs_stop_hooks(tmp_path):
    marker = tmp_path / "cancelled"
    with ProcessExecutor(max_workers=2, reuse=False) as ex:
        hooked = ex.submit(sleep_forever, str(marker))
        plain = ex.submit(sleep_forever)
        queued = ex.submit(sleep_forever)
        while not (hooked.where and plain.where):
            ex.wait([hooked, plain], timeout=0.1)
        pids = {hooked.where["pid"], plain.where["pid"]}
        time.sleep(0.2)  # let the hook be registered
        ex.cancel([hooked, plain, queued])
        assert {r.status for r in (hooked, plain, queued)} == {"cancelled"}
        assert all(r.stop_seconds is not None for r in (hooked, plain))
        with pytest.raises(RunCancelled):
            plain.result()
    assert wait_gone(pids) == set()
    assert marker.read_text() == "cancelled at the provider"


def test_a_forked_child_of_a_driver_starts_a_forkserver_of_its_own():
    # the job service forks its runner from a process that may have raced already: the
    # child must not use (nor keep alive) the forkserver it inherited, but start its own.
    # A fresh driver process: this one may have run numba's OpenMP, which forbids fork
    script = textwrap.dedent(f"""
        import multiprocessing as mp, sys
        sys.path[:0] = [{str(SRC)!r}, {str(TESTS)!r}]
        from executor_helpers import drive_from_a_forked_child
        from kakehashi.executors import ProcessExecutor
        with ProcessExecutor(max_workers=1) as ex:
            assert ex.gather([ex.submit(abs, -1)]) == [1]  # this driver's forkserver runs
        ctx = mp.get_context("fork")
        here, there = ctx.Pipe()
        child = ctx.Process(target=drive_from_a_forked_child, args=(there,))
        child.start()
        assert here.poll(90), "the forked child did not answer"
        kind, pid, server_parent = here.recv()
        child.join(30)
        assert kind == "ok", pid
        assert server_parent == pid == child.pid and child.exitcode == 0, (pid, server_parent)
        print("ok")
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_executor_names_and_bad_shapes():
    assert get_executor("in-process").name == "in-process"
    with pytest.raises(ExecutorError, match="Did you mean 'process'"):
        get_executor("proces")
    with pytest.raises(ExecutorError, match="max_workers"):
        ProcessExecutor(max_workers=0)


# ---------------------------------------------------------------------- the race
def test_race_stops_on_a_proven_optimum_and_kills_the_losers():
    problem = kakehashi.examples.small_maxcut()
    result = race(problem, ["exact", "tabu"], time_limit=60, seed=3)
    info = result.info["race"]
    assert info["winner"] == "exact" and info["decided_by"] == "optimal"
    # the winner's answer is evaluated again in the driver, against the problem
    ev = problem.evaluate(result.best_sample[None, :])
    assert ev["feasible"][0] and ev["objective"][0] == result.objective == -5.0
    rows = {r["backend"]: r for r in info["contestants"]}
    assert rows["exact"]["status"] == "won" and rows["exact"]["proven_optimal"]
    assert rows["tabu"]["status"] in ("stopped", "finished")
    for row in rows.values():
        assert row["cpu_seconds"] is not None and row["where"]["executor"] == "process"
        assert not alive(row["where"]["pid"]) or row["where"]["pid"] == os.getpid()
    assert result.resources.cpu_seconds == pytest.approx(info["cpu_seconds_total"])


def test_race_through_solve_checks_the_winner_on_a_constrained_problem():
    problem = kakehashi.examples.knapsack(8)
    result = kakehashi.solve(problem, backend=["highs", "tabu", "sa"], time_limit=20, seed=0)
    info = result.info["race"]
    assert result.feasible and info["winner"] == "highs" and info["decided_by"] == "optimal"
    exact = kakehashi.solve(problem, backend="exact")
    assert result.objective == exact.objective
    assert {r["backend"] for r in info["contestants"]} == {"highs", "tabu", "sa"}
    assert all(r["money"] is not None for r in info["contestants"])
    assert info["losers_cpu_seconds"] >= 0.0
    assert result.to_json()  # the race record is JSON-able


def test_race_stops_when_a_contestant_reaches_the_target():
    problem = kakehashi.load(SRC / "kakehashi" / "data" / "bqp50.txt")
    best = kakehashi.solve(problem, backend="tabu", time_limit=1, seed=0).objective
    result = race(problem, ["tabu", "sa"], time_limit=60, seed=1, target=best)
    info = result.info["race"]
    assert info["decided_by"] == "target"
    assert result.feasible and result.objective >= best  # maximisation
    winner = next(r for r in info["contestants"] if r["status"] == "won")
    assert winner["improvements"] and winner["improvements"][-1][1] == result.objective


def test_race_refuses_bad_lists():
    p = kakehashi.examples.small_maxcut()
    with pytest.raises(KakehashiError, match="at least one"):
        race(p, [], time_limit=1)
    with pytest.raises(KakehashiError, match="twice"):
        race(p, ["tabu", "tabu"], time_limit=1)
    with pytest.raises(KakehashiError, match="unknown backend"):
        race(p, ["tabu", "tabuu"], time_limit=1)
    with pytest.raises(KakehashiError, match="not in the race"):
        race(p, ["tabu", "sa"], time_limit=1, backend_options={"pt": {}})
    with pytest.raises(KakehashiError, match="backend='auto'"):
        kakehashi.solve(p, backend=["tabu", "sa"], time_limit=1, portfolio=2)
    with pytest.raises(KakehashiError, match="num_reads"):  # refused before any process
        race(p, ["tabu", "sa"], time_limit=1, num_raeds=5)


def test_in_process_race_keeps_the_same_record():
    p = kakehashi.examples.small_maxcut()
    result = race(p, ["exact", "tabu"], time_limit=0.3, seed=0, executor="in-process")
    assert result.info["race"]["executor"] == "in-process"
    assert np.isclose(result.objective, -5.0)


# ---------------------------------------------------------------------- no orphans
_DRIVER = """
import sys
sys.path[:0] = [{src!r}, {tests!r}]
import kakehashi
from kakehashi.executors.race import race
print("ready", flush=True)
race(kakehashi.load({bqp!r}), ["tabu", "sa"], time_limit=120, seed=0)
"""


def _start_racing_driver(tmp_path: Path) -> tuple[subprocess.Popen, set[int]]:
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(_DRIVER).format(
        src=str(SRC), tests=str(TESTS), bqp=str(SRC / "kakehashi" / "data" / "bqp50.txt")
    ))  # fmt: skip
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    # wait (bounded) until the forkserver and both contestants exist
    deadline = time.monotonic() + 60
    tree: set[int] = set()
    while time.monotonic() < deadline and len(tree) < 3:
        time.sleep(0.2)
        tree = descendants(proc.pid)
    assert len(tree) >= 3, f"contestants did not start: {tree}"
    time.sleep(0.5)
    return proc, descendants(proc.pid)


@pytest.mark.parametrize("how", ["kill", "ctrl-c"])
def test_no_process_outlives_a_killed_or_interrupted_driver(tmp_path, how):
    proc, tree = _start_racing_driver(tmp_path)
    if how == "kill":
        os.kill(proc.pid, signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGINT)
    proc.wait(timeout=30)
    assert wait_gone(tree) == set(), "worker processes outlived the driver"


def test_a_script_without_a_main_guard_can_race(tmp_path):
    # multiprocessing children re-run an unguarded main script; the workers must not
    script = tmp_path / "plain.py"
    script.write_text(
        f"import sys; sys.path.insert(0, {str(SRC)!r})\n"
        "import kakehashi\n"
        "r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend=['exact', 'tabu'],\n"
        "                    time_limit=5, seed=0)\n"
        "print(r.info['race']['winner'])\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-1500:]
    assert out.stdout.strip() == "exact"
