"""The service as users run it: `kakehashi serve` on a free loopback port, with worker
processes, on SQLite and on PostgreSQL — the client, the CLI, worker death, restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("fastapi")

import kakehashi
from kakehashi.model.io import data_file
from kakehashi.service.errors import NotFoundError, PermissionDeniedError
from service_support import (
    SRC,
    database,
    live_server,
    postgres,
    qubo_bytes,
    run_next_in_a_fresh_process,
    server_factory,
)


def wait_until(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def strip_timing(d: dict) -> dict:
    """The result without what is measured rather than computed: timings, and the CPU time
    with the energy, money and CO2 priced from it (and the note quoting it)."""
    measured = ("cpu_seconds", "energy_joules", "money", "co2_grams", "notes")
    out = {k: v for k, v in d.items() if k != "timing"}
    out["resources"] = {k: v for k, v in d["resources"].items() if k not in measured}
    return out


def test_client_against_a_live_server(live_server, tmp_path):
    server = live_server
    assert server.admin_key and server.admin_key.startswith("kh_")
    admin = kakehashi.Client(server.url, server.admin_key)
    assert any(b["name"] == "exact" for b in admin.backends())
    team = kakehashi.Client(server.url, admin.create_tenant("team")["api_key"])
    other = kakehashi.Client(server.url, admin.create_tenant("other")["api_key"])
    before = {j["id"] for j in admin.jobs(all_tenants=True)}

    problem = kakehashi.examples.random_assignment(3)
    job = team.submit(problem, backend="exact", seed=5)
    remote = team.wait(job, timeout=60)
    local = kakehashi.solve(problem, backend="exact", seed=5)
    assert strip_timing(remote.to_dict(include_samples=True)) == strip_timing(
        local.to_dict(include_samples=True)
    )
    assert remote.feasible and remote.solution["assign"].shape == (3, 3)

    path = tmp_path / "tiny.json"
    path.write_bytes(qubo_bytes())
    job2 = team.submit(path, backend="tabu", time_limit=0.2, seed=1)
    assert team.wait(job2, timeout=60).objective == -1.0
    assert team.result(job2).objective == -1.0
    assert [j["id"] for j in team.jobs()] == [job2, job]
    assert {j["id"] for j in admin.jobs(all_tenants=True)} - before == {job, job2}
    assert other.jobs() == []
    with pytest.raises(NotFoundError):
        other.result(job)
    with pytest.raises(NotFoundError):
        other.cancel(job)
    with pytest.raises(PermissionDeniedError):
        team.jobs(all_tenants=True)
    with pytest.raises(PermissionDeniedError):
        team.create_tenant("sneaky")
    with pytest.raises(kakehashi.KakehashiError):
        kakehashi.Client(server.url, "kh_bad_key").jobs()


def test_a_race_job_runs_in_a_worker(live_server, tmp_path):
    """A race starts its contestants' processes from the worker's forked runner."""
    server = live_server
    admin = kakehashi.Client(server.url, server.admin_key)
    team = kakehashi.Client(server.url, admin.create_tenant("racer")["api_key"])
    path = tmp_path / "tiny.json"
    path.write_bytes(qubo_bytes())
    for seed in (1, 2):  # the second reuses the warm runner and its forkserver
        job = team.submit(path, backend=["tabu", "sa"], time_limit=0.3, seed=seed)
        result = team.wait(job, timeout=90)
        assert result.objective == -1.0 and result.feasible
        race = result.info["race"]
        assert race["winner"] in ("tabu", "sa")
        assert {c["backend"] for c in race["contestants"]} == {"tabu", "sa"}
    assert team.status(job)["backend"] == ["tabu", "sa"]


def test_cancel_a_running_job_stops_it(live_server):
    server = live_server
    admin = kakehashi.Client(server.url, server.admin_key)
    team = kakehashi.Client(server.url, admin.create_tenant("canceller")["api_key"])
    job = team.submit(data_file("bqp50.txt"), backend="tabu", time_limit=60, seed=1)
    wait_until(lambda: team.status(job)["status"] == "running", what="running")
    assert team.cancel(job)["status"] == "cancelling"
    wait_until(lambda: team.status(job)["status"] == "cancelled", timeout=20, what="cancelled")
    with pytest.raises(kakehashi.KakehashiError):
        team.wait(job, timeout=5)
    # the workers are free again at once (the 30 s run was stopped, not waited for)
    nxt = team.submit(kakehashi.examples.small_maxcut(), backend="exact")
    assert team.wait(nxt, timeout=20).objective == -5.0
    assert team.status(job)["finished_at"] - team.status(job)["started_at"] < 50


def _events(server, job_id: str) -> list[str]:
    import sqlalchemy as sa

    from kakehashi.service.db import make_engine
    from kakehashi.service.settings import Settings

    url = Settings(data_dir=server.data_dir, database=server.database).database_url
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("select event from job_events where job_id = :j order by id"),
                {"j": job_id},
            )
            return [r[0] for r in rows]
    finally:
        engine.dispose()


def test_a_killed_workers_job_is_requeued_and_completes_once(server_factory, database):
    server = server_factory(database, workers=1)
    admin = kakehashi.Client(server.url, server.admin_key)
    team = kakehashi.Client(server.url, admin.create_tenant("t")["api_key"])
    job = team.submit(data_file("bqp50.txt"), backend="tabu", time_limit=1, seed=2)
    wait_until(lambda: team.status(job)["status"] == "running", what="running")
    victim = wait_until(
        lambda: [w for w in admin._json("GET", "/v1/admin/workers") if w["job_id"] == job],
        what="worker row",
    )[0]
    os.kill(victim["pid"], signal.SIGKILL)
    result = team.wait(job, timeout=120)
    assert result.feasible and result.backend == "tabu"
    status = team.status(job)
    assert status["attempts"] == 2
    events = _events(server, job)
    assert events.count("claimed") == 2 and events.count("requeued") == 1
    assert events.count("completed") == 1
    # the supervisor started a new worker
    assert all(w["pid"] != victim["pid"] for w in admin._json("GET", "/v1/admin/workers"))


def test_retries_are_bounded_then_the_job_fails_with_the_reason(tmp_path, database):
    from kakehashi.service import queue
    from service_support import Api

    api = Api(tmp_path, database, max_attempts=2, heartbeat_timeout=0.2)
    try:
        key = api.tenant("a")
        job = api.submit(key).json()["id"]
        for attempt in (1, 2):
            assert queue.claim(api.engine, f"doomed-{attempt}")["id"] == job
            time.sleep(0.3)  # the worker "dies": no heartbeat
            swept = queue.requeue_stale(api.engine, api.settings)
            assert swept == ({"queued": [job]} if attempt == 1 else {"failed": [job]})
        # a late write from the presumed-dead worker changes nothing
        assert not queue.finish(api.engine, job, "doomed-2", "completed", result_json="{}")
        body = api.http.get(f"/v1/jobs/{job}", headers=api.headers(key)).json()
        assert body["status"] == "failed" and "stopped answering" in body["error"]
    finally:
        api.close()


def test_restart_with_jobs_in_every_state(server_factory, database, tmp_path):
    from kakehashi.service import queue
    from kakehashi.service.db import make_engine
    from kakehashi.service.settings import Settings

    server = server_factory(database, workers=0)
    admin = kakehashi.Client(server.url, server.admin_key)
    team = kakehashi.Client(server.url, admin.create_tenant("t")["api_key"])
    settings = Settings(data_dir=server.data_dir, database=server.database, heartbeat_timeout=2)
    engine = make_engine(settings.database_url)
    sub = lambda k, **kw: team.submit(tmp_path / f"p{k}.json", backend="exact", **kw)  # noqa: E731
    for k in range(6):
        (tmp_path / f"p{k}.json").write_bytes(qubo_bytes(k))
    done = sub(0)
    run_next_in_a_fresh_process(server.data_dir, server.database)  # completed
    bad = sub(1)
    assert queue.claim(engine, "failing-worker")["id"] == bad
    assert queue.finish(engine, bad, "failing-worker", "failed", error="the backend crashed")
    cancelled = sub(2)
    team.cancel(cancelled)
    running = sub(3)
    assert queue.claim(engine, "ghost-worker")["id"] == running  # its worker will never return
    cancelling = sub(4)
    assert queue.claim(engine, "ghost-worker-2")["id"] == cancelling
    team.cancel(cancelling)
    queued = sub(5)
    engine.dispose()
    before = {j["id"]: j for j in team.jobs()}
    assert [before[j]["status"] for j in (done, bad, cancelled, running, cancelling, queued)] == [
        "completed",
        "failed",
        "cancelled",
        "running",
        "cancelling",
        "queued",
    ]
    done_result = team.result(done).to_dict(include_samples=True)

    server.kill()
    server.workers = 1
    server.start()
    team = kakehashi.Client(server.url, team._http.headers["authorization"].split()[-1])
    final = {j: team.wait(j, timeout=60) for j in (queued, running)}
    assert all(r.objective <= 0 for r in final.values())
    after = wait_until(
        lambda: (a := {j["id"]: j for j in team.jobs()})[cancelling]["status"] == "cancelled" and a,
        what="stale cancel resolved",
    )
    assert after[done]["status"] == "completed" and after[bad]["status"] == "failed"
    assert after[cancelled]["status"] == "cancelled"
    assert team.result(done).to_dict(include_samples=True) == done_result
    for job in (done, queued, running):
        assert _events(server, job).count("completed") == 1
    assert after[running]["attempts"] == 2


def test_cli_submit_jobs_cancel(live_server, tmp_path):
    server = live_server
    key = kakehashi.Client(server.url, server.admin_key).create_tenant("cli")["api_key"]
    path = tmp_path / "p.json"
    path.write_bytes(qubo_bytes())
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "KAKEHASHI_SERVER": server.url,
        "KAKEHASHI_API_KEY": key,
    }

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "kakehashi.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    out = cli("submit", str(path), "--backend", "exact", "--wait")
    assert out.returncode == 0, out.stderr
    assert "objective  -1" in out.stdout
    job = kakehashi.Client(server.url, key).submit(path, backend="tabu", time_limit=30)
    out = cli("cancel", job)
    assert out.returncode == 0 and job in out.stdout
    listed = json.loads(cli("jobs", "--json").stdout)
    assert {j["id"] for j in listed} >= {job}
    out = cli("jobs", "--key", "kh_wrong_key")
    assert out.returncode == 2 and "unknown API key" in out.stderr


def test_a_finished_job_is_never_charged_above_its_reservation(live_server):
    # a tiny exact job: its estimate (enumeration time) is far below the CPU time a run
    # measures (loading, evaluation), so without the clip its charge would pass a cap
    server = live_server
    admin = kakehashi.Client(server.url, server.admin_key)
    team = kakehashi.Client(server.url, admin.create_tenant("quoted")["api_key"])
    job = team.submit(kakehashi.examples.small_maxcut(), backend="exact", seed=1)
    reserved = team.status(job)["charges"]["money"]
    team.wait(job, timeout=60)
    done = team.status(job)
    assert done["charges"]["money"] <= reserved
    assert done["summary"]["measured_money"] >= 0


def test_the_client_compares_a_suite_and_uploads_on_a_live_server(live_server, tmp_path):
    server = live_server
    admin = kakehashi.Client(server.url, server.admin_key)
    team = kakehashi.Client(server.url, admin.create_tenant("comparer")["api_key"])
    other = kakehashi.Client(server.url, admin.create_tenant("onlooker")["api_key"])
    assert "quick" in {s["name"] for s in team.suites()}

    ask = {"instances": ["maxcut-g16", "bqp50-1"], "repeats": 1, "time_limit": 0.1}
    cmp = team.compare("quick", ["sb"], idempotency_key="suite-1", **ask)
    assert team.compare("quick", ["sb"], idempotency_key="suite-1", **ask) == cmp  # a retry
    out = tmp_path / "report.html"
    html = team.report(cmp, timeout=120, path=out)
    assert out.read_text(encoding="utf-8") == html
    for name in ("maxcut-g16", "bqp50-1", "sb", "tabu (baseline)"):
        assert name in html, name
    assert team.comparison(cmp)["summary"]["baseline"] == "tabu"
    with pytest.raises(kakehashi.KakehashiError, match="is a comparison"):
        team.wait(cmp, timeout=5)
    with pytest.raises(NotFoundError):
        other.report(cmp, timeout=5)
    assert other.jobs() == []

    # uploads: files and in-memory problems, each under its own name in the report
    path = tmp_path / "tiny.json"
    path.write_bytes(qubo_bytes())
    problems = [path, kakehashi.examples.small_maxcut()]
    cmp2 = team.compare(problems, "exact", repeats=1, time_limit=0.1)
    html2 = team.report(cmp2, timeout=120)
    assert "tiny" in html2 and kakehashi.examples.small_maxcut().name in html2
    with pytest.raises(kakehashi.KakehashiError, match="no suite named 'nope'"):
        team.compare("nope", ["tabu"])
    with pytest.raises(kakehashi.KakehashiError, match="instances="):
        team.compare([path], ["tabu"], instances=["x"])
