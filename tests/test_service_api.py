"""The REST API in-process on real SQLite and PostgreSQL stores: every endpoint's happy path,
its errors ({error, detail, fix}), tenant isolation, idempotency, cancellation, limits."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi")

from service_support import QUBO, api, database, postgres, qubo_bytes


def assert_error(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail", "fix"} and body["detail"] and body["fix"], body
    if code:
        assert body["error"] == code, body
    return body


def test_health_and_backends_are_public(api):
    assert api.http.get("/v1/health").json() == {"status": "ok"}
    names = {b["name"]: b for b in api.http.get("/v1/backends").json()}
    assert names["exact"]["available"] is True and "tabu" in names


def test_openapi_document_describes_every_endpoint(api):
    doc = api.http.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    expected = {
        "/v1/jobs": {"get", "post"},
        "/v1/jobs/{job_id}": {"get", "delete"},
        "/v1/jobs/{job_id}/result": {"get"},
        "/v1/jobs/{job_id}/problem": {"get"},
        "/v1/comparisons": {"post"},
        "/v1/comparisons/{cmp_id}": {"get"},
        "/v1/comparisons/{cmp_id}/report": {"get"},
        "/v1/suites": {"get"},
        "/v1/backends": {"get"},
        "/v1/usage": {"get"},
        "/v1/admin/tenants": {"get", "post"},
        "/v1/admin/tenants/{tenant_id}/keys": {"post"},
        "/v1/admin/keys/{key_id}": {"delete"},
        "/v1/admin/workers": {"get"},
        "/v1/keys": {"get"},
        "/v1/keys/{key_id}": {"delete"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    post = paths["/v1/jobs"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert any(p["name"] == "idempotency-key" for p in post["parameters"])
    schemas = doc["components"]["schemas"]
    assert {"JobOut", "ErrorOut", "UsageOut", "NewKeyOut", "SuiteOut"} <= set(schemas)
    # a comparison takes uploaded files or a suite's name (and its instances)
    cmp_body = paths["/v1/comparisons"]["post"]["requestBody"]["content"]
    cmp_form = schemas[cmp_body["multipart/form-data"]["schema"]["$ref"].split("/")[-1]]
    assert {"files", "suite", "instances", "backends", "time_limit"} <= set(cmp_form["properties"])
    assert "429" in post["responses"] and "ErrorOut" in json.dumps(post["responses"]["429"])
    # every operation but the public ones declares the key schemes
    assert doc["components"]["securitySchemes"]
    # the dashboard's pages are not API
    assert not any(p.startswith("/ui") for p in paths)


@pytest.mark.parametrize(
    "headers, code",
    [({}, 401), ({"Authorization": "Bearer nope"}, 401), ({"X-API-Key": "kh_00_x"}, 401)],
)
def test_requests_without_a_valid_key_are_refused(api, headers, code):
    for method, path in (("get", "/v1/jobs"), ("get", "/v1/usage"), ("get", "/v1/jobs/x")):
        assert_error(getattr(api.http, method)(path, headers=headers), code, "unauthenticated")


def test_submit_status_result_happy_path(api):
    key = api.tenant("a")
    r = api.submit(key, seed=3)
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["status"] == "queued" and r.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["problem"]["num_variables"] == 3 and job["charges"]["money"] > 0
    assert job["estimate"][0]["backend"] == "exact"
    h = api.headers(key)
    assert_error(api.http.get(f"/v1/jobs/{job['id']}/result", headers=h), 404, "no_result")
    assert api.run_next() == job["id"]
    done = api.http.get(f"/v1/jobs/{job['id']}", headers=h).json()
    assert done["status"] == "completed" and done["attempts"] == 1
    assert done["summary"]["objective"] == -1.0 and done["summary"]["feasible"] is True
    result = api.http.get(f"/v1/jobs/{job['id']}/result", headers=h).json()
    assert result["objective"] == -1.0 and result["seed"] == 3 and "samples" in result
    as_ommx = api.http.get(f"/v1/jobs/{job['id']}/result?format=ommx", headers=h)
    import ommx.v1

    sampleset = ommx.v1.SampleSet.from_bytes(as_ommx.content)
    assert sampleset.best_feasible.objective == -1.0
    problem = api.http.get(f"/v1/jobs/{job['id']}/problem", headers=h)
    assert problem.content == QUBO and "p.json" in problem.headers["content-disposition"]


def test_submit_refuses_bad_jobs_before_queueing(api):
    key = api.tenant("a", max_variables=2)
    assert_error(api.submit(key, data=b"not a problem", filename="x.json"), 400, "invalid_problem")
    assert_error(api.submit(key, data=b""), 400)
    assert_error(api.submit(key), 422, "problem_too_large")  # 3 variables > 2
    key2 = api.tenant("b")
    assert_error(api.submit(key2, backend="no-such-backend"), 400, "invalid_job")
    assert_error(api.submit(key2, time_limit=-1), 400, "invalid_job")
    assert_error(api.submit(key2, options='{"api_token": "abc"}'), 400, "invalid_job")
    assert_error(api.submit(key2, options="not json"), 400, "invalid_job")
    misspelt = api.submit(key2, backend="tabu", time_limit=1, options='{"num_raeds": 5}')
    assert_error(misspelt, 400, "invalid_job")
    assert_error(api.submit(key2, max_cost=0), 400, "budget")
    r = api.http.post("/v1/jobs", data={"backend": "exact"}, headers=api.headers(key2))
    assert_error(r, 422, "invalid_request")  # no file
    lst = api.http.get("/v1/jobs", headers=api.headers(key2)).json()
    assert lst["jobs"] == []


def test_upload_size_limit(tmp_path, database):
    from service_support import Api

    a = Api(tmp_path, database, max_upload_bytes=50)
    try:
        key = a.tenant("a")
        assert_error(a.submit(key, data=QUBO + b" " * 100), 413, "payload_too_large")
    finally:
        a.close()


def test_idempotency_key_returns_the_same_job(api):
    key = api.tenant("a")
    first = api.submit(key, headers={"Idempotency-Key": "k1"})
    again = api.submit(key, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert_error(
        api.submit(key, data=qubo_bytes(5), headers={"Idempotency-Key": "k1"}), 409, "conflict"
    )
    # the same key in another tenant is another job
    other = api.submit(api.tenant("b"), headers={"Idempotency-Key": "k1"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert len(api.http.get("/v1/jobs", headers=api.headers(key)).json()["jobs"]) == 1


def test_idempotency_under_concurrent_retries(api):
    from concurrent.futures import ThreadPoolExecutor

    key = api.tenant("a")
    with ThreadPoolExecutor(8) as pool:
        rs = list(
            pool.map(lambda _: api.submit(key, headers={"Idempotency-Key": "same"}), range(16))
        )
    assert {r.status_code for r in rs} <= {200, 201}
    assert len({r.json()["id"] for r in rs}) == 1
    assert sum(r.status_code == 201 for r in rs) == 1


def test_list_pagination_and_status_filter(api):
    key = api.tenant("a")
    ids = [api.submit(key, data=qubo_bytes(i)).json()["id"] for i in range(5)]
    api.run_next()  # the oldest completes
    h = api.headers(key)
    page = api.http.get("/v1/jobs?limit=2", headers=h).json()
    seen = [j["id"] for j in page["jobs"]]
    while page["next_cursor"]:
        page = api.http.get(f"/v1/jobs?limit=2&cursor={page['next_cursor']}", headers=h).json()
        seen += [j["id"] for j in page["jobs"]]
    assert seen == ids[::-1]
    done = api.http.get("/v1/jobs?status=completed", headers=h).json()["jobs"]
    assert [j["id"] for j in done] == [ids[0]]
    assert_error(api.http.get("/v1/jobs?status=bogus", headers=h), 400)
    assert_error(api.http.get("/v1/jobs?cursor=%%%", headers=h), 400)
    assert_error(api.http.get("/v1/jobs?all_tenants=true", headers=h), 403, "forbidden")
    everyone = api.http.get("/v1/jobs?all_tenants=true", headers=api.headers(api.admin_key))
    assert len(everyone.json()["jobs"]) == 5 and everyone.json()["jobs"][0]["tenant"] == "a"


def test_cancel_a_queued_job_releases_its_reservation(api):
    key = api.tenant("a")
    h = api.headers(key)
    job = api.submit(key).json()
    r = api.http.delete(f"/v1/jobs/{job['id']}", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["charges"]["money"] == 0
    assert api.run_next() is None  # nothing left to run
    assert api.http.get("/v1/usage", headers=h).json()["used"]["money_this_month"] == 0
    # cancelling a finished job changes nothing
    assert api.http.delete(f"/v1/jobs/{job['id']}", headers=h).json()["status"] == "cancelled"
    assert_error(api.http.delete("/v1/jobs/job_missing", headers=h), 404)


def test_tenants_are_isolated_on_every_endpoint(api):
    ka, kb = api.tenant("a"), api.tenant("b")
    ha, hb = api.headers(ka), api.headers(kb)
    job = api.submit(ka).json()["id"]
    api.run_next()
    for method, path in (
        ("get", f"/v1/jobs/{job}"),
        ("get", f"/v1/jobs/{job}/result"),
        ("get", f"/v1/jobs/{job}/problem"),
        ("delete", f"/v1/jobs/{job}"),
    ):
        assert_error(getattr(api.http, method)(path, headers=hb), 404)
        assert getattr(api.http, method)(path, headers=ha).status_code == 200
    assert api.http.get("/v1/jobs", headers=hb).json()["jobs"] == []
    assert api.http.get("/v1/usage", headers=hb).json()["periods"] == []
    assert api.http.get("/v1/usage", headers=ha).json()["periods"][0]["jobs"] == 1
    # a tenant cannot reach the admin endpoints or another tenant's keys
    for method, path, body in (
        ("post", "/v1/admin/tenants", {"name": "c"}),
        ("get", "/v1/admin/tenants", None),
        ("post", "/v1/admin/tenants/1/keys", {}),
        ("delete", "/v1/admin/keys/1", None),
        ("get", "/v1/admin/workers", None),
    ):
        kwargs = {"json": body} if body is not None else {}
        assert_error(getattr(api.http, method)(path, headers=hb, **kwargs), 403, "forbidden")
    key_a = api.http.get("/v1/keys", headers=ha).json()[0]["id"]
    assert_error(api.http.delete(f"/v1/keys/{key_a}", headers=hb), 404)
    assert [k["id"] for k in api.http.get("/v1/keys", headers=hb).json()] != [key_a]


def test_admin_creates_tenants_and_keys_and_revokes(api):
    h = api.headers(api.admin_key)
    r = api.http.post("/v1/admin/tenants", json={"name": "team", "money_per_month": 1.5}, headers=h)
    body = r.json()
    assert r.status_code == 201 and body["api_key"].startswith("kh_")
    assert body["tenant"]["limits"]["money_per_month"] == 1.5
    assert_error(api.http.post("/v1/admin/tenants", json={"name": "team"}, headers=h), 409)
    assert_error(api.http.post("/v1/admin/tenants", json={"name": ""}, headers=h), 422)
    tid = body["tenant"]["id"]
    second = api.http.post(f"/v1/admin/tenants/{tid}/keys", json={"label": "ci"}, headers=h)
    assert second.status_code == 201
    assert_error(api.http.post("/v1/admin/tenants/999/keys", json={}, headers=h), 404)
    k2 = second.json()["api_key"]
    assert api.http.get("/v1/jobs", headers=api.headers(k2)).status_code == 200
    # keys are stored as hashes only
    from kakehashi.service import db
    from kakehashi.service.models import ApiKey

    with db.read_session(api.engine) as s:
        stored = [row.key_hash for row in s.query(ApiKey)]
    assert k2 not in stored and all(len(x) == 64 for x in stored)
    revoked = api.http.delete(f"/v1/admin/keys/{second.json()['key']['id']}", headers=h)
    assert revoked.json()["revoked_at"] is not None
    assert_error(api.http.get("/v1/jobs", headers=api.headers(k2)), 401)
    # a tenant may revoke its own key too
    own = api.http.delete(f"/v1/keys/{body['key']['id']}", headers=api.headers(body["api_key"]))
    assert own.status_code == 200
    assert_error(api.http.get("/v1/jobs", headers=api.headers(body["api_key"])), 401)
    assert [t["name"] for t in api.http.get("/v1/admin/tenants", headers=h).json()] == [
        "admin",
        "team",
    ]


def test_rate_limit_per_key(tmp_path, database):
    from service_support import Api

    a = Api(tmp_path, database, rate_limit=0.5, rate_burst=3)
    try:
        key = a.tenant("a")
        codes = [a.http.get("/v1/jobs", headers=a.headers(key)).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[-1] == 429
        r = a.http.get("/v1/jobs", headers=a.headers(key))
        assert_error(r, 429, "rate_limited")
        assert r.headers["retry-after"]
        # another key has its own bucket
        assert a.http.get("/v1/jobs", headers=a.headers(a.tenant("b"))).status_code == 200
    finally:
        a.close()


def test_credentials_never_reach_results(tmp_path, database, monkeypatch):
    from service_support import Api

    monkeypatch.setenv("DWAVE_API_TOKEN", "secret-token-xyz123")
    a = Api(tmp_path, database)
    try:
        key = a.tenant("a")
        job = a.submit(key).json()["id"]
        a.run_next()
        text = a.http.get(f"/v1/jobs/{job}/result", headers=a.headers(key)).text
        assert "secret-token-xyz123" not in text
        assert (
            "secret-token-xyz123" not in a.http.get(f"/v1/jobs/{job}", headers=a.headers(key)).text
        )
    finally:
        a.close()


def test_usage_reports_periods_and_limits(api):
    key = api.tenant("a", money_per_month=2.0)
    api.submit(key)
    api.run_next()
    u = api.http.get("/v1/usage?by=day", headers=api.headers(key)).json()
    assert u["tenant"] == "a" and u["limits"]["money_per_month"] == 2.0
    assert len(u["periods"]) == 1 and len(u["periods"][0]["period"]) == 10
    assert u["periods"][0]["money"] > 0 and u["periods"][0]["energy_joules"] > 0
    assert_error(api.http.get("/v1/usage?by=year", headers=api.headers(key)), 422)


def test_migrations_build_exactly_the_models_schema_and_go_back(api):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from kakehashi.service.db import migrate
    from kakehashi.service.models import Base

    with api.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    migrate(api.engine, "0001")  # a downgrade keeps the data of the first schema
    migrate(api.engine)
    with api.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_comparison_runs_problems_on_backends_and_serves_the_report(api):
    key, other = api.tenant("a"), api.tenant("b")
    h = api.headers(key)
    files = [("files", ("one.json", qubo_bytes(1))), ("files", ("two.json", qubo_bytes(2)))]
    r = api.http.post(
        "/v1/comparisons",
        headers=h,
        files=files,
        data={"backends": "exact,tabu", "time_limit": "0.1", "repeats": "1"},
    )
    assert r.status_code == 201, r.text
    cmp = r.json()
    assert cmp["kind"] == "comparison" and cmp["charges"]["money"] > 0
    assert {e["backend"] for e in cmp["estimate"]} == {"exact", "tabu"}
    assert_error(api.http.get(f"/v1/comparisons/{cmp['id']}/report", headers=h), 404, "no_result")
    assert api.run_next() == cmp["id"]
    done = api.http.get(f"/v1/comparisons/{cmp['id']}", headers=h).json()
    assert done["status"] == "completed", done["error"]
    report = api.http.get(f"/v1/comparisons/{cmp['id']}/report", headers=h)
    assert report.status_code == 200 and "<html" in report.text.lower()
    assert "tabu" in report.text and "exact" in report.text
    assert_error(
        api.http.get(f"/v1/comparisons/{cmp['id']}/report", headers=api.headers(other)), 404
    )
    assert_error(api.http.get(f"/v1/jobs/{cmp['id']}/result", headers=h), 404)
    bad = api.http.post(
        "/v1/comparisons",
        headers=h,
        files=files[:1],
        data={"backends": "nope", "time_limit": "0.1"},
    )
    assert_error(bad, 400, "invalid_job")


def test_auto_reserves_the_backend_it_then_runs(api):
    key = api.tenant("a")
    job = api.submit(key, backend="auto", time_limit=0.5).json()
    api.run_next()
    done = api.http.get(f"/v1/jobs/{job['id']}", headers=api.headers(key)).json()
    assert done["status"] == "completed", done["error"]
    assert done["summary"]["auto_choice"] == job["estimate"][0]["backend"]
