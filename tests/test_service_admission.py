"""Admission in batches: a batch decides its submissions in order, as one at a time would —
caps and limits hold within a batch, retries inside one batch make one job, and a submission
that cannot be stored fails alone. Real SQLite and PostgreSQL stores."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

pytest.importorskip("fastapi")

from kakehashi.service.admission import AdmissionQueue, admit
from kakehashi.service.auth import Caller
from kakehashi.service.errors import ConflictError, QuotaExceededError
from kakehashi.service.jobs import JobSpec, prepare
from service_support import Api, api, database, postgres, qubo_bytes


def caller_of(api: Api, key: str) -> Caller:
    from kakehashi.service import db
    from kakehashi.service.auth import authenticate

    with db.read_session(api.engine) as session:
        return authenticate(session, key)


def jobs_of(api: Api, key: str) -> list[dict]:
    r = api.http.get("/v1/jobs?limit=500", headers=api.headers(key))
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def test_a_batch_keeps_the_money_cap_and_decides_in_order(api):
    spec = JobSpec(backend="tabu", time_limit=1.0)
    one = prepare(api.settings, Caller(1, "admin", True, 1, None), spec, qubo_bytes(0), "p.json")
    key = api.tenant("capped", money_per_month=one.charges.money * 4.5)  # room for four
    who = caller_of(api, key)
    subs = [prepare(api.settings, who, spec, qubo_bytes(i), "p.json", f"k{i}") for i in range(9)]
    outcomes = admit(api.engine, api.settings, subs)
    accepted = [o for o in outcomes if not isinstance(o, Exception)]
    assert [isinstance(o, QuotaExceededError) for o in outcomes] == [False] * 4 + [True] * 5
    assert all(created for _job, created in accepted)
    listed = jobs_of(api, key)
    assert sorted(j["id"] for j in listed) == sorted(job.id for job, _ in accepted)
    usage = api.http.get("/v1/usage", headers=api.headers(key)).json()
    assert usage["used"]["money_this_month"] <= one.charges.money * 4.5


def test_concurrent_job_limit_holds_across_tenants_in_one_batch(api):
    a, b = api.tenant("a", max_concurrent_jobs=2), api.tenant("b", max_concurrent_jobs=3)
    wa, wb = caller_of(api, a), caller_of(api, b)
    spec = JobSpec(backend="exact")
    subs = [
        prepare(api.settings, w, spec, qubo_bytes(i), "p.json") for i in range(5) for w in (wa, wb)
    ]
    outcomes = admit(api.engine, api.settings, subs)
    ok = {"a": 0, "b": 0}
    for sub, out in zip(subs, outcomes, strict=True):
        if not isinstance(out, Exception):
            ok[sub.caller.tenant_name] += 1
        else:
            assert isinstance(out, QuotaExceededError) and "queued or running" in str(out)
    assert ok == {"a": 2, "b": 3}
    assert len(jobs_of(api, a)) == 2 and len(jobs_of(api, b)) == 3


def test_retries_within_one_batch_make_one_job(api):
    key = api.tenant("a")
    who = caller_of(api, key)
    spec = JobSpec(backend="exact", seed=3)
    first = prepare(api.settings, who, spec, qubo_bytes(1), "p.json", "same-key")
    again = prepare(api.settings, who, spec, qubo_bytes(1), "p.json", "same-key")
    other = prepare(api.settings, who, spec, qubo_bytes(2), "p.json", "same-key")
    out = admit(api.engine, api.settings, [first, again, other])
    (job1, created1), (job2, created2) = out[0], out[1]
    assert created1 and not created2 and job1.id == job2.id
    assert isinstance(out[2], ConflictError) and job1.id in str(out[2])
    # and in a later batch, the stored job is found
    (job3, created3) = admit(api.engine, api.settings, [again])[0]
    assert job3.id == job1.id and not created3
    assert [j["id"] for j in jobs_of(api, key)] == [job1.id]


def test_the_queue_batches_concurrent_submissions_and_answers_each(api):
    key = api.tenant("a", max_concurrent_jobs=1000)
    who = caller_of(api, key)
    queue = AdmissionQueue(api.engine, api.settings)
    spec = JobSpec(backend="exact")
    subs = [prepare(api.settings, who, spec, qubo_bytes(i), "p.json", f"k{i}") for i in range(120)]
    start = threading.Barrier(12)

    def put_ten(t: int):
        start.wait()
        futures = [queue.put(s) for s in subs[t * 10 : (t + 1) * 10]]
        return [f.result(timeout=60) for f in futures]

    with ThreadPoolExecutor(12) as pool:
        answers = [a for chunk in pool.map(put_ten, range(12)) for a in chunk]
    assert all(created for _job, created in answers)
    assert len({job.id for job, _ in answers}) == 120
    assert len(jobs_of(api, key)) == 120
    assert queue.admitted == 120 and queue.batches <= 120


def test_a_submission_the_store_refuses_fails_alone(api):
    key = api.tenant("a")
    who = caller_of(api, key)
    spec = JobSpec(backend="exact")
    good = [prepare(api.settings, who, spec, qubo_bytes(i), "p.json") for i in range(3)]
    bad = prepare(api.settings, who, spec, qubo_bytes(9), "p.json")
    bad.row["id"] = good[0].row["id"]  # a duplicate primary id: the insert must fail
    queue = AdmissionQueue(api.engine, api.settings)
    futures = [queue.put(s) for s in (*good, bad)]
    results = []
    for f in futures:
        try:
            results.append(f.result(timeout=60))
        except Exception as exc:
            results.append(exc)
    assert all(not isinstance(r, Exception) for r in results[:3]), results
    assert isinstance(results[3], Exception)
    assert sorted(j["id"] for j in jobs_of(api, key)) == sorted(s.row["id"] for s in good)


def test_a_revoked_key_is_refused_at_once_despite_the_key_cache(api):
    key = api.tenant("a")
    assert api.http.get("/v1/jobs", headers=api.headers(key)).status_code == 200  # cached now
    keys = api.http.get("/v1/keys", headers=api.headers(key)).json()
    r = api.http.delete(f"/v1/keys/{keys[0]['id']}", headers=api.headers(key))
    assert r.status_code == 200, r.text
    refused = api.http.get("/v1/jobs", headers=api.headers(key))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_an_unknown_key_is_never_cached(api):
    bogus = "kh_000000000000_" + "x" * 32
    for _ in range(2):
        assert api.http.get("/v1/jobs", headers=api.headers(bogus)).status_code == 401
    assert api.app.state.kakehashi.keys.get(bogus) is None


def test_the_key_cache_forgets_after_its_lifetime(tmp_path, database):
    a = Api(tmp_path, database, key_cache_seconds=60)
    try:
        key = a.tenant("a")
        assert a.http.get("/v1/jobs", headers=a.headers(key)).status_code == 200
        cache = a.app.state.kakehashi.keys
        assert cache.get(key) is not None
        assert cache.get(key, now=time.monotonic() + 61) is None  # a minute on: looked up again
    finally:
        a.close()


def ledger_matches_the_jobs(api: Api) -> None:
    from kakehashi.service import db
    from kakehashi.service.models import Tenant
    from kakehashi.service.quotas import standings, standings_from_jobs

    now = time.time()
    with db.read_session(api.engine) as session:
        ids = list(session.execute(sa.select(Tenant.id)).scalars())
        ledger, sums = standings(session, ids, now), standings_from_jobs(session, ids, now)
    for t in ids:
        a, b = ledger[t], sums[t]
        assert a.active == b.active, (t, a, b)
        for period in ("month", "day"):
            for field in ("money", "cpu_seconds", "qpu_seconds"):
                x, y = getattr(getattr(a, period), field), getattr(getattr(b, period), field)
                assert x == pytest.approx(y, rel=1e-9, abs=1e-15), (t, period, field, x, y)


def test_the_usage_ledger_equals_the_sums_through_every_kind_of_change(api):
    """Accept, refuse, cancel queued and running jobs, claim, finish with measured charges,
    fail, re-queue a silent worker's job: the ledger the quota check reads stays equal to the
    sums over the jobs, and a downgrade and upgrade rebuild it from them."""
    from kakehashi.service import db, queue
    from kakehashi.service.models import Job

    a, b = api.tenant("a", max_concurrent_jobs=6), api.tenant("b")
    ids = {}
    for i in range(8):
        for key in (a, b):
            r = api.submit(key, data=qubo_bytes(i), backend="tabu", time_limit=1)
            if r.status_code == 201:
                ids.setdefault(key, []).append(r.json()["id"])
    ledger_matches_the_jobs(api)
    api.http.delete(f"/v1/jobs/{ids[a][0]}", headers=api.headers(a))  # queued: released
    ledger_matches_the_jobs(api)
    queue.register_worker(api.engine, "w-test", 1, "here")
    done = queue.claim(api.engine, "w-test")
    queue.finish(
        api.engine,
        done["id"],
        "w-test",
        "completed",
        result_json="{}",
        summary={},
        charges={"charge_money": 1e-12, "charge_cpu_seconds": 0.01},
    )
    ledger_matches_the_jobs(api)
    failed = queue.claim(api.engine, "w-test")
    queue.finish(api.engine, failed["id"], "w-test", "failed", error="boom")
    running = queue.claim(api.engine, "w-test")
    owner = "a" if running["id"] in ids[a] else "b"
    key = a if owner == "a" else b
    api.http.delete(f"/v1/jobs/{running['id']}", headers=api.headers(key))  # → cancelling
    ledger_matches_the_jobs(api)
    silent = queue.claim(api.engine, "w-test")
    with db.write_session(api.engine) as session:  # its worker went silent long ago
        session.execute(
            sa.update(Job)
            .where(Job.id.in_([silent["id"], running["id"]]))
            .values(heartbeat_at=time.time() - 3600)
        )
    outcome = queue.requeue_stale(api.engine, api.settings)
    assert silent["id"] in outcome.get("queued", []) and running["id"] in outcome["cancelled"]
    ledger_matches_the_jobs(api)
    from kakehashi.service.db import migrate

    migrate(api.engine, "0002")
    migrate(api.engine)  # the ledger is rebuilt from the jobs
    ledger_matches_the_jobs(api)
    assert api.submit(b, data=qubo_bytes(99)).status_code == 201
    ledger_matches_the_jobs(api)


def test_concurrent_first_requests_with_one_key_share_one_lookup(api, monkeypatch):
    from kakehashi.service import deps

    key = api.tenant("a")
    api.app.state.kakehashi.keys.forget_key(caller_of(api, key).key_id)
    calls = []
    real = deps._look_up

    def counted(st, k):
        calls.append(k)
        time.sleep(0.5)  # ample time for the other 19 to arrive meanwhile
        return real(st, k)

    monkeypatch.setattr(deps, "_look_up", counted)
    assert [r.status_code for r in get_many(api, key, 20)] == [200] * 20
    assert len(calls) == 1
    bogus = "kh_000000000000_" + "y" * 32  # a failing lookup fails every request sharing it
    assert [r.status_code for r in get_many(api, bogus, 5)] == [401] * 5


def get_many(api: Api, key: str, n: int) -> list:
    """``n`` concurrent GET /v1/jobs in one event loop (the app in-process)."""
    import asyncio

    import httpx

    async def burst():
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            requests = [http.get("/v1/jobs", headers=api.headers(key)) for _ in range(n)]
            return await asyncio.gather(*requests)

    return asyncio.run(burst())
