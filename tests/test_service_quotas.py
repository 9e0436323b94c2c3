"""Quotas and spending caps: checked before a job is queued (so before anything is sent to a
machine), from the catalog's estimate, and never exceeded by many submissions at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("fastapi")

import kakehashi
from kakehashi.backends import get_backend
from kakehashi.backends.catalog import estimate_run
from service_support import Api, api, database, postgres, qubo_bytes, run_next_in_a_fresh_process


def tabu_estimate(problem_bytes: bytes, time_limit: float):
    from kakehashi.service.jobs import read_problem

    return estimate_run(
        get_backend("tabu"), read_problem(problem_bytes, "p.json"), time_limit=time_limit
    )


def burst(api: Api, key: str, n: int, **form) -> list:
    """``n`` submissions at once from as many threads."""
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda i: api.submit(key, data=qubo_bytes(i), **form), range(n)))


def codes(responses) -> dict[int, int]:
    out: dict[int, int] = {}
    for r in responses:
        out[r.status_code] = out.get(r.status_code, 0) + 1
    return out


def test_money_cap_is_never_exceeded_under_concurrent_submissions(api):
    est = tabu_estimate(qubo_bytes(0), 1.0)
    cap = est.money * 10.5  # room for exactly ten
    key = api.tenant("a", money_per_month=cap)
    rs = burst(api, key, 32, backend="tabu", time_limit=1)
    assert codes(rs) == {201: 10, 429: 22}, codes(rs)
    refused = next(r for r in rs if r.status_code == 429).json()
    assert refused["error"] == "quota_exceeded" and "money" in refused["detail"]
    usage = api.http.get("/v1/usage", headers=api.headers(key)).json()
    assert usage["used"]["money_this_month"] <= cap
    assert len(api.http.get("/v1/jobs?limit=100", headers=api.headers(key)).json()["jobs"]) == 10
    # cancelling a queued job gives its reservation back: one more fits
    job = next(r for r in rs if r.status_code == 201).json()["id"]
    api.http.delete(f"/v1/jobs/{job}", headers=api.headers(key))
    assert api.submit(key, backend="tabu", time_limit=1).status_code == 201
    assert api.submit(key, backend="tabu", time_limit=1).status_code == 429


def test_concurrent_job_limit(api):
    key = api.tenant("a", max_concurrent_jobs=3)
    rs = burst(api, key, 12)
    assert codes(rs) == {201: 3, 429: 9}
    api.run_next()  # one finishes: one more may be queued
    assert api.submit(key).status_code == 201
    assert api.submit(key).status_code == 429


def test_cpu_seconds_per_day(api):
    est = tabu_estimate(qubo_bytes(0), 1.0)
    key = api.tenant("a", cpu_seconds_per_day=est.cpu_seconds * 2.5)
    rs = burst(api, key, 8, backend="tabu", time_limit=1)
    assert codes(rs) == {201: 2, 429: 6}
    assert "CPU-seconds" in next(r for r in rs if r.status_code == 429).json()["detail"]


def test_qpu_seconds_and_unpriced_machines_are_refused_before_anything_is_sent(api):
    problem = kakehashi.examples.small_maxcut()
    est = estimate_run(get_backend("qaoa-ibm"), problem)
    assert est.cpu_seconds is None and est.seconds > 0  # a cloud machine's time
    key = api.tenant("a", qpu_seconds_per_month=est.seconds * 2.5, money_per_month=1e6)
    from kakehashi.client import _problem_upload

    _name, data = _problem_upload(problem)
    rs = [api.submit(key, data=data, filename="p.ommx", backend="qaoa-ibm") for _ in range(4)]
    assert [r.status_code for r in rs] == [201, 201, 429, 429]
    assert "QPU-seconds" in rs[2].json()["detail"]
    # D-Wave publishes no list price: with a spending cap in force it cannot be accepted
    r = api.submit(key, data=data, filename="p.ommx", backend="dwave-qpu")
    assert r.status_code == 429 and "cannot be priced" in r.json()["detail"]


def test_max_cost_per_job_is_checked_against_the_estimate(api):
    key = api.tenant("a")
    est = tabu_estimate(qubo_bytes(0), 2.0)
    ok = api.submit(key, backend="tabu", time_limit=2, max_cost=est.money * 1.01)
    assert ok.status_code == 201
    r = api.submit(key, backend="tabu", time_limit=2, max_cost=est.money * 0.5)
    assert r.status_code == 400 and r.json()["error"] == "budget"


def test_a_race_reserves_every_backend(api):
    one = tabu_estimate(qubo_bytes(0), 1.0).money
    key = api.tenant("a")
    r = api.submit(key, backend="tabu,sa", time_limit=1)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["backend"] == ["tabu", "sa"] and len(body["estimate"]) == 2
    assert body["charges"]["money"] > one
    # the runner is forked from a process whose own forkserver is already running (a
    # driver that raced already): the runner must start its own, and the race complete
    run_next_in_a_fresh_process(api.settings.data_dir, api.settings.database, True)
    h = api.headers(key)
    done = api.http.get(f"/v1/jobs/{body['id']}", headers=h).json()
    assert done["status"] == "completed", done.get("error")
    result = api.http.get(f"/v1/jobs/{body['id']}/result", headers=h).json()
    assert result["objective"] == -1.0
    assert result["info"]["race"]["winner"] in ("tabu", "sa")
