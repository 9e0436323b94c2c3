"""A running job's live best-so-far: engines calling back between batches, the penalty loop
reporting, the runner coalescing, the worker's heartbeat writing it, the API and the
dashboard showing it — down to a real worker process on a real SQLite store."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp

import kakehashi
from kakehashi import progress
from kakehashi.engines import anneal, bifurcate, energies
from kakehashi.engines._core import as_arrays
from kakehashi.service.live import BestSoFar, Coalescer, LiveProgress


def max_cut(n: int = 1500, p: float = 0.004, seed: int = 0) -> kakehashi.Problem:
    """Max-cut of a sparse random graph written as a *maximisation* (objective = the cut),
    so that the sign of a best-so-far is checked, not only its order."""
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(n, 1)
    keep = rng.random(iu[0].size) < p
    e = np.column_stack([iu[0][keep], iu[1][keep]])
    lin = np.bincount(e.ravel(), minlength=n).astype(float)
    quad = sp.coo_matrix((np.full(len(e), -2.0), (e[:, 0], e[:, 1])), shape=(n, n))
    return kakehashi.Problem.from_arrays(linear=lin, quadratic=quad, sense="max", name="cut")


def sparse_qubo(n: int = 400, seed: int = 1):
    """A random sparse QUBO with pendant chains, so presolve eliminates some variables."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, 3 * n)
    cols = rng.integers(0, n, 3 * n)
    keep = rows != cols
    J = sp.coo_matrix((rng.normal(size=keep.sum()), (rows[keep], cols[keep])), shape=(n, n))
    J = (J + J.T).tocsr()
    J.setdiag(0)
    J.eliminate_zeros()
    return as_arrays((rng.normal(size=n), J))


# ---------------------------------------------------------------------- engines
@pytest.mark.parametrize("engine", [anneal, bifurcate])
def test_engines_call_back_with_full_rows_of_improving_energy(engine):
    q = sparse_qubo()
    seen: list[tuple[np.ndarray, float]] = []
    res = engine(q, seed=3, time_limit=0.6, on_improve=lambda row, e: seen.append((row, e)))
    assert res.info.get("presolve", {}).get("kept", q.n) < q.n  # the lift is exercised
    assert seen, "a timed run works in batches and calls back after the first"
    for row, e in seen:
        assert row.shape == (q.n,)  # lifted to the Qubo the caller gave
        assert energies(q, row[None, :])[0] == pytest.approx(e)
    values = [e for _, e in seen]
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert res.best_energy <= values[-1] + 1e-9  # never better than the answer


def test_engines_without_a_callback_behave_as_before():
    q = sparse_qubo()
    a = anneal(q, seed=5, num_reads=4, num_sweeps=100)
    b = anneal(q, seed=5, num_reads=4, num_sweeps=100, on_improve=lambda row, e: None)
    assert np.array_equal(a.samples, b.samples)


# ---------------------------------------------------------------------- the penalty loop
def events_of(problem, backend: str, **kw) -> tuple[list[dict], kakehashi.Result]:
    events: list[dict] = []
    progress.set_channel(events.append)
    try:
        result = kakehashi.solve(problem, backend=backend, seed=2, **kw)
    finally:
        progress.set_channel(None)
    return events, result


def test_annealing_reports_improving_objectives_in_the_problems_sense():
    events, result = events_of(max_cut(), "sa", time_limit=1.5)
    feasible = [e["objective"] for e in events if e.get("feasible")]
    assert len(feasible) >= 2  # within the one round of an unconstrained problem
    assert all(v > 0 for v in feasible)  # a cut, as written: not the Qubo's energy
    assert feasible == sorted(feasible)  # maximisation: each better than the last
    assert max(feasible) <= result.objective
    assert all(0 <= e["elapsed"] <= 3 * e["budget"] and e["budget"] == 1.5 for e in events)


def test_a_constrained_problems_reports_are_feasible_and_never_beat_the_answer():
    problem = kakehashi.examples.knapsack(40, seed=3)  # maximise value under a capacity
    events, result = events_of(problem, "sa", time_limit=1.0)
    assert result.feasible
    feasible = [e["objective"] for e in events if e.get("feasible")]
    assert feasible and max(feasible) <= result.objective + 1e-9


def test_a_backend_whose_kernel_runs_to_the_end_reports_only_its_round():
    events, result = events_of(max_cut(), "tabu", time_limit=0.5)
    assert [e["round"] for e in events] == [0]
    assert events[0]["objective"] == result.objective


def test_nobody_following_means_no_callbacks(monkeypatch):
    calls = []
    real = kakehashi.engines.anneal

    def spy(*args, **kw):  # the real engine, noting whether it was asked to call back
        calls.append("on_improve" in kw)
        return real(*args, **kw)

    monkeypatch.setattr(kakehashi.engines, "anneal", spy)
    kakehashi.solve(max_cut(200), backend="sa", time_limit=0.2, seed=1)  # warms up, too
    assert calls[-1] is False
    calls.clear()
    events_of(max_cut(200), "sa", time_limit=0.2)
    assert calls == [True]


@pytest.mark.parametrize("backend", ["cpsat", "highs", "scip"])
def test_exact_solvers_report_their_incumbents_in_the_problems_sense(backend):
    for problem in (
        kakehashi.examples.knapsack(60, seed=4),
        kakehashi.examples.random_assignment(8),
    ):
        events, result = events_of(problem, backend, time_limit=20)
        values = [e["objective"] for e in events]
        assert values and all(e["feasible"] for e in events), events
        ordered = sorted(values, reverse=problem.sense == "min")
        assert values == ordered and len(set(values)) == len(values)  # each one better
        assert values[-1] == pytest.approx(result.objective)  # the last is the optimum


def test_batch_samplers_of_other_packages_report_between_their_calls():
    pytest.importorskip("dwave.samplers")
    events, result = events_of(max_cut(300), "dwave-sd", time_limit=1.0)
    feasible = [e["objective"] for e in events if e.get("feasible")]
    assert len(feasible) >= 2 and feasible == sorted(feasible)
    assert max(feasible) <= result.objective


def test_a_race_relays_its_fields_best_and_an_in_process_run_puts_the_channel_back():
    from kakehashi.executors import InProcessExecutor

    events, result = events_of(max_cut(300), ["sa", "tabu"], time_limit=1.0)
    relayed = [e for e in events if "backend" in e]
    assert relayed and {e["backend"] for e in relayed} <= {"sa", "tabu"}
    values = [e["objective"] for e in relayed if e["feasible"]]
    assert values == sorted(values) and values[-1] <= result.objective

    outer: list[dict] = []
    progress.set_channel(outer.append)
    try:
        InProcessExecutor().submit(progress.report, inner=True).result()
        progress.report(outer=True)
    finally:
        progress.set_channel(None)
    assert outer == [{"outer": True}]


# ---------------------------------------------------------------------- runner → worker
def test_best_so_far_keeps_the_best_feasible_value_in_the_problems_sense():
    for sense, values, best in (("min", [5, 7, 3, 4], 3), ("max", [5, 7, 3, 9], 9)):
        sent: list[dict] = []
        track = BestSoFar(sense, sent.append)
        for v in values:
            track({"objective": float(v), "feasible": True, "elapsed": 0.1, "budget": 2.0})
        track({"objective": -1e9 if sense == "min" else 1e9, "feasible": False})
        assert sent[-1]["best_so_far"] == best and sent[-1]["budget"] == 2.0


def test_the_coalescer_sends_the_latest_value_a_few_times_a_second():
    out: list[dict] = []
    lock = threading.Lock()
    c = Coalescer(out.append, lock, per_second=20)
    start = time.monotonic()
    for k in range(2000):
        c.offer({"k": k})
    spent = time.monotonic() - start
    deadline = time.monotonic() + 10
    while (not out or out[-1]["k"] != 1999) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert out[-1] == {"k": 1999}  # the last one always arrives
    assert len(out) <= 2 + spent * 20  # the first at once, then at most 20 a second
    c.offer({"k": "late"})
    c.close()
    time.sleep(0.2)
    assert {"k": "late"} not in out  # closed: nothing follows the job's answer


def test_live_progress_takes_its_jobs_messages_and_the_backends_clock():
    live = LiveProgress("job-1", time_limit=None)
    assert live.fraction() is None and live.best_so_far is None
    live.take({"job": "other", "best_so_far": 1.0})
    assert live.best_so_far is None
    live.take({"job": "job-1", "best_so_far": 4.0, "elapsed": 1.0, "budget": 10.0})
    assert live.best_so_far == 4.0 and 0.1 <= live.fraction() <= 0.99


# ---------------------------------------------------------------------- a live server
def watch(client: kakehashi.Client, *job_ids: str, timeout: float = 120.0):
    """Poll jobs until they end: by id, the last description and every (status, best,
    progress) seen."""
    seen: dict[str, list[tuple[str, float | None, float | None]]] = {j: [] for j in job_ids}
    last: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for job_id in set(job_ids) - set(last):
            job = client.status(job_id)
            seen[job_id].append((job["status"], job["best_so_far"], job["progress"]))
            if job["status"] in ("completed", "failed", "cancelled"):
                last[job_id] = job
        if len(last) == len(job_ids):
            return last, seen
        time.sleep(0.05)
    raise AssertionError(f"jobs did not end within {timeout} s: {seen}")


@pytest.fixture(scope="module")
def progress_server(tmp_path_factory):
    pytest.importorskip("fastapi")
    from kakehashi.service.testing import ServerProcess

    server = ServerProcess(
        tmp_path_factory.mktemp("progress"), workers=2, env={"KAKEHASHI_WARM_UP": "sa,tabu"}
    ).start()
    yield server
    server.stop()


def test_running_jobs_show_their_best_so_far_a_race_too_and_a_silent_one_none(progress_server):
    server = progress_server
    admin = kakehashi.Client(server.url, server.admin_key)
    team = kakehashi.Client(server.url, admin.create_tenant("live")["api_key"])
    problem = max_cut()
    reporting = team.submit(problem, backend="sa", time_limit=4, seed=1)
    silent = team.submit(problem, backend="tabu", time_limit=3, seed=1)
    race = team.submit(problem, backend=["sa", "tabu"], time_limit=3, seed=1)

    ends, seen_by_job = watch(team, reporting, silent, race)
    done, seen = ends[reporting], seen_by_job[reporting]
    assert done["status"] == "completed", done["error"]
    final = team.result(reporting).objective
    live = [best for status, best, _ in seen if status == "running" and best is not None]
    assert live, f"no best-so-far while running: {seen}"
    assert all(0 < best <= final for best in live)  # a cut as written, never above the answer
    assert live == sorted(live)  # a maximisation only improves upwards
    fractions = [p for status, _, p in seen if status == "running" and p is not None]
    assert fractions and all(0 <= p <= 0.99 for p in fractions)
    assert done["best_so_far"] == final and done["progress"] == 1.0

    done, seen = ends[silent], seen_by_job[silent]
    assert done["status"] == "completed", done["error"]
    final = team.result(silent).objective
    running = [best for status, best, _ in seen if status == "running"]
    # tabu's kernel runs to the end of its budget: nothing to show until then, but its end
    # (the round's report) may reach the row a moment before the job is marked completed
    assert running and all(best in (None, final) for best in running)
    assert sum(best is None for best in running) > len(running) / 2
    assert done["best_so_far"] == final

    # a race: its contestants report to the race in the runner, which relays its best
    done, seen = ends[race], seen_by_job[race]
    assert done["status"] == "completed", done["error"]
    final = team.result(race).objective
    live = [best for status, best, _ in seen if status == "running" and best is not None]
    assert live and live == sorted(live) and all(0 < best <= final for best in live)


def test_news_reaches_the_row_long_before_the_next_regular_heartbeat(tmp_path):
    from kakehashi.service.testing import ServerProcess

    slow_beats = {
        "KAKEHASHI_HEARTBEAT_SECONDS": "60",  # no regular heartbeat during this job
        "KAKEHASHI_HEARTBEAT_TIMEOUT": "600",
        "KAKEHASHI_WARM_UP": "sa",
    }
    server = ServerProcess(tmp_path / "data", workers=1, env=slow_beats).start()
    try:
        admin = kakehashi.Client(server.url, server.admin_key)
        team = kakehashi.Client(server.url, admin.create_tenant("news")["api_key"])
        job = team.submit(max_cut(), backend="sa", time_limit=4, seed=2)
        ends, seen = watch(team, job)
        assert ends[job]["status"] == "completed", ends[job]["error"]
        live = [(best, p) for status, best, p in seen[job] if status == "running" and best]
        assert live, seen[job]  # written by an early heartbeat, on news
        assert all(0 < p <= 0.99 for _, p in live)  # the fraction went with it
    finally:
        server.stop()


# ---------------------------------------------------------------------- store, API, dashboard
from service_support import api, database, headless_chromium, postgres, sign_in_browser  # noqa: E402


def jobs_triggers(engine) -> set[str]:
    """The triggers on the jobs table (the usage ledger's)."""
    import sqlalchemy as sa

    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'jobs'"
        if engine.dialect.name == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE tgrelid = 'jobs'::regclass AND NOT tgisinternal"
    )
    with engine.connect() as conn:
        return set(conn.execute(sa.text(sql)).scalars())


def test_the_heartbeat_stores_it_the_api_and_dashboard_show_it_and_0004_goes_down(api):
    import sqlalchemy as sa

    from kakehashi.service import queue
    from kakehashi.service.db import migrate

    key = api.tenant("a")
    job_id = api.submit(key).json()["id"]
    h = api.headers(key)
    assert api.http.get(f"/v1/jobs/{job_id}", headers=h).json()["best_so_far"] is None
    assert queue.claim(api.engine, "w-test")["id"] == job_id
    assert queue.heartbeat(api.engine, job_id, "w-test", 0.25, best_so_far=-7.5) == "running"
    job = api.http.get(f"/v1/jobs/{job_id}", headers=h).json()
    assert (job["status"], job["best_so_far"], job["progress"]) == ("running", -7.5, 0.25)
    api.http.post("/ui/login", data={"api_key": key})
    assert 'id="best-so-far">-7.5<' in api.http.get(f"/ui/fragments/jobs/{job_id}").text
    assert "-7.5 so far" in api.http.get("/ui/fragments/jobs").text

    triggers = jobs_triggers(api.engine)
    assert triggers  # the usage ledger's (migration 0003)
    migrate(api.engine, "0003")  # down: the column goes; the job and the triggers stay
    columns = {c["name"] for c in sa.inspect(api.engine).get_columns("jobs")}
    assert "best_so_far" not in columns and "progress" in columns
    with api.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id FROM jobs")).scalars().all() == [job_id]
    assert jobs_triggers(api.engine) == triggers
    migrate(api.engine)
    assert "best_so_far" in {c["name"] for c in sa.inspect(api.engine).get_columns("jobs")}
    assert jobs_triggers(api.engine) == triggers
    assert api.http.get(f"/v1/jobs/{job_id}", headers=h).json()["best_so_far"] is None
    queue.release(api.engine, job_id, "w-test")  # queued again: nothing to show
    assert api.http.get(f"/v1/jobs/{job_id}", headers=h).json()["best_so_far"] is None


def test_the_dashboard_shows_the_best_so_far_live_in_chromium(progress_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    server = progress_server
    key = kakehashi.Client(server.url, server.admin_key).create_tenant("web-live")["api_key"]
    team = kakehashi.Client(server.url, key)

    def live_value(browser) -> float | None:
        """The job page's best-so-far while the job runs (None: not shown yet)."""
        try:
            if browser.find_element(By.ID, "job-status").text != "running":
                return None
            return float(browser.find_element(By.ID, "best-so-far").text)
        except Exception:  # not there yet, replaced mid-read, or "none reported yet"
            return None

    with headless_chromium() as browser:
        wait = WebDriverWait(browser, 90, poll_frequency=0.1)
        sign_in_browser(browser, wait, server.url, key, "web-live", page="/")
        job = team.submit(max_cut(), backend="sa", time_limit=8, seed=4)
        browser.get(f"{server.url}/ui/jobs/{job}")
        seen = wait.until(live_value)  # the page's own polling brought it in
        assert seen > 0
        browser.find_element(By.ID, "nav-jobs").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "jobs"), "so far"))
        assert team.wait(job, timeout=90).objective >= seen


def test_the_cli_lists_a_running_jobs_best_so_far_and_the_examples_run():
    import doctest

    from kakehashi.engines import _core
    from kakehashi.service import cli as service_cli
    from kakehashi.service import live

    running = {"id": "job_1", "status": "running", "problem": {"filename": "p.mps"}}
    running |= {"backend": "sa", "best_so_far": -3.5, "progress": 0.5}
    assert service_cli.job_line(running).endswith("sa best so far -3.5 (50%)")
    done = {**running, "status": "completed", "summary": {"objective": -4.0}}
    assert service_cli.job_line(done).endswith("sa objective -4")
    assert service_cli.job_line({**running, "best_so_far": None}).endswith("  sa")
    for module in (live, service_cli, _core, progress):
        result = doctest.testmod(module)
        assert result.attempted and not result.failed, module.__name__
