"""Comparisons of a named suite through the service, on real SQLite and PostgreSQL stores:
the suite read on the server, every run estimated and reserved, the worker's report, the
errors, the quotas, tenant isolation, and the dashboard's form and report page.

The suite used is the shipped ``quick`` suite narrowed to one or two of its smallest
instances, with 0.1 s runs."""

from __future__ import annotations

import json
import re
import shutil

import pytest

pytest.importorskip("fastapi")

from service_support import (
    api,
    database,
    headless_chromium,
    postgres,
    qubo_bytes,
    server_factory,
    sign_in_browser,
)

TWO = "maxcut-g16,bqp50-1"  # 16 and 50 variables


def assert_error(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail", "fix"} and body["detail"] and body["fix"], body
    if code:
        assert body["error"] == code, body
    return body


def compare(api, key: str, **form):
    form = {"time_limit": "0.1", "repeats": "1", **{k: str(v) for k, v in form.items()}}
    return api.http.post("/v1/comparisons", headers=api.headers(key), data=form)


def no_jobs(api, key: str) -> bool:
    return api.http.get("/v1/jobs", headers=api.headers(key)).json()["jobs"] == []


def test_a_suite_comparison_reports_every_backend_and_instance_and_the_baseline(api, monkeypatch):
    from kakehashi.service import workers

    # no grace beyond the runs' budget: the worker must allow every run of the comparison,
    # not one run's time limit, or it stops the comparison as hung (when the worker runs
    # in this process; see service_support.Api.run_next)
    monkeypatch.setattr(workers, "GRACE_SECONDS", 0.0)
    key, other = api.tenant("a"), api.tenant("b")
    h, ho = api.headers(key), api.headers(other)
    r = compare(api, key, suite="quick", instances=TWO, backends="sb")
    assert r.status_code == 201, r.text
    cmp = r.json()
    assert cmp["kind"] == "comparison" and cmp["status"] == "queued"
    # the classical baseline kakehashi.compare adds is reserved with the backend asked for
    assert cmp["backend"] == ["sb", "tabu"]
    assert cmp["options"] == {
        "repeats": 1,
        "suite": "quick",
        "instances": ["maxcut-g16", "bqp50-1"],
        "runs": 4,
    }
    pairs = {(e["instance"], e["backend"]) for e in cmp["estimate"]}
    assert pairs == {(i, b) for i in ("maxcut-g16", "bqp50-1") for b in ("sb", "tabu")}
    assert cmp["charges"]["money"] == pytest.approx(sum(e["money"] for e in cmp["estimate"]))
    assert cmp["problem"]["num_variables"] == 50

    # another tenant sees none of it, on every endpoint
    assert_error(api.http.get(f"/v1/comparisons/{cmp['id']}", headers=ho), 404)
    assert_error(api.http.delete(f"/v1/jobs/{cmp['id']}", headers=ho), 404)
    assert no_jobs(api, other)
    assert api.http.get("/v1/usage", headers=ho).json()["used"]["money_this_month"] == 0

    assert api.run_next() == cmp["id"]
    done = api.http.get(f"/v1/comparisons/{cmp['id']}", headers=h).json()
    assert done["status"] == "completed", done["error"]
    assert done["summary"]["baseline"] == "tabu" and "tabu" in done["summary"]["verdict"]
    # charged what its runs consumed, never above what was reserved for them
    assert 0 < done["charges"]["money"] <= cmp["charges"]["money"]
    assert done["charges"]["money"] == min(
        done["summary"]["measured_money"], cmp["charges"]["money"]
    )
    assert done["charges"]["cpu_seconds"] > 0 and done["charges"]["co2_grams"] > 0
    report = api.http.get(f"/v1/comparisons/{cmp['id']}/report", headers=h).text
    for name in ("maxcut-g16", "bqp50-1", "sb", "tabu"):
        assert name in report, name
    assert "tabu (baseline)" in report
    assert "2098" in report  # bqp50-1's published optimum is the target, not the best found
    assert_error(api.http.get(f"/v1/comparisons/{cmp['id']}/report", headers=ho), 404)
    assert_error(api.http.get(f"/v1/jobs/{cmp['id']}/problem", headers=ho), 404)


def test_the_worker_allows_a_comparison_every_run_it_makes():
    from kakehashi.service.runner import run_budget

    solve = {"kind": "solve", "time_limit": 0.5}
    cmp = {"kind": "comparison", "time_limit": 0.5, "options": {"runs": 84, "repeats": 3}}
    assert run_budget(solve) == 0.5 and run_budget({"kind": "solve", "time_limit": None}) is None
    assert run_budget(cmp) > 84 * 0.5
    # queued before the count was recorded: every instance on every backend, each repeat
    old = {**cmp, "backend": ["a", "b"], "options": {"suite": "quick", "instances": ["x"] * 7,
                                                     "repeats": 3}}  # fmt: skip
    assert run_budget(old) == run_budget({**cmp, "options": {"runs": 42}})


def test_a_suites_runs_it_skips_are_neither_run_nor_reserved(api):
    key = api.tenant("a")
    r = compare(api, key, suite="quick", instances=TWO, backends="exact,tabu", repeats=2)
    assert r.status_code == 201, r.text
    cmp = r.json()
    # the quick suite runs exact enumeration only up to 17 variables
    pairs = sorted((e["instance"], e["backend"]) for e in cmp["estimate"])
    assert pairs == [("bqp50-1", "tabu"), ("maxcut-g16", "exact"), ("maxcut-g16", "tabu")]
    one_each = sum(e["money"] for e in cmp["estimate"])
    assert cmp["charges"]["money"] == pytest.approx(2 * one_each)
    assert cmp["options"]["runs"] == 6


def test_suite_defaults_and_the_listing(api):
    key = api.tenant("a")
    assert_error(api.http.get("/v1/suites"), 401)
    listed = api.http.get("/v1/suites", headers=api.headers(key)).json()
    assert [s["name"] for s in listed] == ["quick", "standard"]
    quick = listed[0]
    assert quick["repeats"] == 3 and quick["time_limit"] == 0.5 and quick["max_variables"]
    assert {"maxcut-g16", "bqp50-1", "burma14"} <= {i["name"] for i in quick["instances"]}
    assert all(i["available"] for i in quick["instances"])  # shipped with kakehashi
    # unset values take the suite's
    r = api.http.post(
        "/v1/comparisons",
        headers=api.headers(key),
        data={"suite": "quick", "instances": '["maxcut-*"]', "backends": "tabu"},
    )
    assert r.status_code == 201, r.text
    cmp = r.json()
    assert (cmp["time_limit"], cmp["options"]["repeats"], cmp["seed"]) == (0.5, 3, 0)
    assert cmp["options"]["instances"] == ["maxcut-g16"]


def test_unknown_suites_and_bad_selections_are_refused(api):
    key = api.tenant("a")
    body = assert_error(compare(api, key, suite="nope", backends="tabu"), 400, "unknown_suite")
    assert "quick" in body["detail"] and "standard" in body["detail"]
    assert_error(compare(api, key, suite="../../etc/passwd", backends="tabu"), 400, "unknown_suite")
    body = assert_error(compare(api, key, suite="quick", instances="zzz*", backends="tabu"), 400)
    assert "maxcut-g16" in body["detail"]  # the instances it does have
    body = assert_error(compare(api, key, suite="standard", backends="tabu"), 400)
    assert "at most 20" in body["detail"]
    many = ",".join(f"x{k}" for k in range(21))
    assert_error(compare(api, key, suite="quick", instances=many, backends="tabu"), 400)
    assert_error(compare(api, key, suite="quick", backends="tabu", repeats=11), 400, "invalid_job")
    assert_error(compare(api, key, suite="quick", instances=TWO, backends="nope"), 400)
    both = api.http.post(
        "/v1/comparisons",
        headers=api.headers(key),
        data={"suite": "quick", "backends": "tabu"},
        files=[("files", ("one.json", qubo_bytes(1)))],
    )
    assert "not both" in assert_error(both, 400)["detail"]
    assert "files or a suite" in assert_error(compare(api, key, backends="tabu"), 400)["detail"]
    stray = api.http.post(
        "/v1/comparisons",
        headers=api.headers(key),
        data={"instances": "maxcut-g16", "backends": "tabu"},
        files=[("files", ("one.json", qubo_bytes(1)))],
    )
    assert "needs suite=" in assert_error(stray, 400)["detail"]
    assert no_jobs(api, key)


def test_a_suite_beyond_the_tenants_quotas_is_refused_before_anything_runs(api):
    # what one 0.1 s tabu run of one instance reserves, measured by a tenant without caps
    probe = compare(
        api, api.tenant("probe"), suite="quick", instances="maxcut-g16", backends="tabu"
    )
    one_run = probe.json()["charges"]["cpu_seconds"]
    assert one_run > 0
    key = api.tenant("capped", cpu_seconds_per_day=1.5 * one_run)
    ok = compare(api, key, suite="quick", instances="maxcut-g16", backends="tabu")
    assert ok.status_code == 201, ok.text
    # the whole suite (7 instances × 3 repeats) would pass the day's CPU-seconds
    whole = compare(api, key, suite="quick", backends="tabu", repeats=3)
    assert_error(whole, 429, "quota_exceeded")
    listed = api.http.get("/v1/jobs", headers=api.headers(key)).json()["jobs"]
    assert [j["id"] for j in listed] == [ok.json()["id"]]
    used = api.http.get("/v1/usage", headers=api.headers(key)).json()["used"]
    assert used["cpu_seconds_today"] == pytest.approx(one_run)

    small = api.tenant("small", max_variables=20)
    body = assert_error(compare(api, small, suite="quick", instances=TWO, backends="tabu"), 422)
    assert "bqp50-1 (50)" in body["detail"] and "maxcut-g16" not in body["detail"]
    broke = api.tenant("broke", money_per_month=0.0)
    assert_error(compare(api, broke, suite="quick", instances=TWO, backends="tabu"), 429)
    assert no_jobs(api, small) and no_jobs(api, broke)


def sign_in(api, key: str) -> None:
    r = api.http.post("/ui/login", data={"api_key": key}, follow_redirects=False)
    assert r.status_code == 303


# the pages call the same functions as the API, whose tests run on both databases
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_dashboard_compares_a_suite_and_shows_its_report(api):
    ka, kb = api.tenant("a"), api.tenant("b")
    sign_in(api, ka)
    page = api.http.get("/ui/jobs").text
    assert 'id="cmp-suite"' in page and '<option value="quick">' in page
    r = api.http.post(
        "/ui/compare",
        data={"suite": "quick", "instances": "maxcut-g16", "backends": ["sb"], "time_limit": "0.1",
              "repeats": "1"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    cmp_page = r.headers["location"]
    cmp_id = cmp_page.rsplit("/", 1)[-1]
    assert cmp_id.startswith("cmp_") and "queued" in api.http.get(cmp_page).text
    api.run_next()
    page = api.http.get(cmp_page).text
    assert re.search(r'id="cmp-baseline">classical baseline: <b>tabu</b>', page)
    assert f'src="/ui/comparisons/{cmp_id}/report"' in page
    report = api.http.get(f"/ui/comparisons/{cmp_id}/report").text
    assert "maxcut-g16" in report and "tabu (baseline)" in report and "sb" in report
    assert "report</a>" in api.http.get("/ui/fragments/jobs").text
    # uploaded files, through the same form
    files = [("files", ("one.json", qubo_bytes(1))), ("files", ("two.json", qubo_bytes(2)))]
    r = api.http.post(
        "/ui/compare", data={"backends": ["exact"]}, files=files, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    uploaded = api.http.get(r.headers["location"]).text
    assert "tiny-1, tiny-2" in uploaded and "queued" in uploaded
    both = api.http.post("/ui/compare", data={"suite": "quick"}, files=files)
    assert both.status_code == 400 and "not both" in both.text
    bad = api.http.post("/ui/compare", data={"suite": "nope"})
    assert bad.status_code == 400 and "no suite named" in bad.text
    bad = api.http.post("/ui/compare", data={"backends": ["tabu"]})
    assert bad.status_code == 400 and "choose a suite or problem files" in bad.text
    sign_in(api, kb)
    assert api.http.get(cmp_page).status_code == 404
    assert api.http.get(f"/ui/comparisons/{cmp_id}/report").status_code == 404
    assert cmp_id not in api.http.get("/ui/jobs").text


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_compare_a_suite_and_read_its_report_in_chromium(server_factory, database):
    with headless_chromium() as browser:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import Select, WebDriverWait

        import kakehashi

        server = server_factory(database, workers=1)
        key = kakehashi.Client(server.url, server.admin_key).create_tenant("web")["api_key"]
        wait = WebDriverWait(browser, 90)
        sign_in_browser(browser, wait, server.url, key, "web")
        Select(browser.find_element(By.ID, "cmp-suite")).select_by_value("quick")
        browser.find_element(By.ID, "cmp-instances").send_keys("maxcut-g16, bqp50-1")
        browser.find_element(By.ID, "cmp-backend-sb").click()
        browser.find_element(By.ID, "cmp-repeats").send_keys("1")
        browser.find_element(By.ID, "cmp-time-limit").send_keys("0.1")
        browser.find_element(By.ID, "compare").click()
        # the comparison's page refreshes itself until it has ended, then shows the report
        wait.until(ec.text_to_be_present_in_element((By.ID, "job-status"), "completed"))
        assert "maxcut-g16, bqp50-1" in browser.find_element(By.ID, "cmp-problems").text
        assert "tabu" in browser.find_element(By.ID, "cmp-baseline").text
        wait.until(ec.frame_to_be_available_and_switch_to_it((By.ID, "report")))
        body = wait.until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "body[data-charts-total]"))
        )
        text = body.text
        for name in ("maxcut-g16", "bqp50-1", "sb", "tabu (baseline)"):
            assert name in text, name
        # every chart of the report decoded and rendered
        assert int(body.get_attribute("data-charts-total")) > 0
        assert body.get_attribute("data-charts-rendered") == body.get_attribute("data-charts-total")


def test_instances_this_server_cannot_build_are_left_out_with_a_note(tmp_path):
    from kakehashi.bench.suite import parse_suite
    from kakehashi.service import suites
    from kakehashi.service.errors import BadRequestError

    (tmp_path / "broken.txt").write_text("this is not a problem\n")
    doc = {
        "suite": {"name": "mine"},
        "instance": [
            {"name": "gen", "generator": "maxcut-random", "params": {"n": 6, "p": 0.5, "seed": 1}},
            {"name": "broken", "file": str(tmp_path / "broken.txt")},
            {"name": "absent", "file": str(tmp_path / "absent.txt")},
        ],
    }
    built, notes = suites.build(parse_suite(doc))
    assert [inst.name for inst, _problem in built] == ["gen"]
    assert [n.split(":")[0] for n in notes] == [
        "instance broken not run",
        "instance absent not run",
    ]
    listed = {i["name"]: i["available"] for i in suites.describe(parse_suite(doc))["instances"]}
    assert listed == {"gen": True, "broken": True, "absent": False}
    with pytest.raises(BadRequestError, match="no instance of suite mine can be built"):
        suites.build(suites.only(parse_suite(doc), ["broken", "absent"]))


def test_an_idempotency_key_makes_retrying_a_comparison_safe(api):
    key = api.tenant("a")
    h = {**api.headers(key), "Idempotency-Key": "nightly-2026-12-02"}
    form = {"suite": "quick", "instances": "maxcut-g16", "backends": "tabu", "time_limit": "0.1"}
    first = api.http.post("/v1/comparisons", headers=h, data=form)
    again = api.http.post("/v1/comparisons", headers=h, data=form)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == f"/v1/comparisons/{first.json()['id']}"
    other = api.http.post("/v1/comparisons", headers=h, data={**form, "instances": "bqp50-1"})
    assert_error(other, 409, "conflict")
    files = [("files", ("one.json", qubo_bytes(1)))]
    hu = {**api.headers(key), "Idempotency-Key": "uploads-1"}
    up = [api.http.post("/v1/comparisons", headers=hu, data={"backends": "tabu"}, files=files)]
    up.append(api.http.post("/v1/comparisons", headers=hu, data={"backends": "tabu"}, files=files))
    assert [r.status_code for r in up] == [201, 200] and up[0].json()["id"] == up[1].json()["id"]
    changed = [("files", ("one.json", qubo_bytes(2)))]
    assert_error(
        api.http.post("/v1/comparisons", headers=hu, data={"backends": "tabu"}, files=changed), 409
    )
    listed = api.http.get("/v1/jobs", headers=api.headers(key)).json()["jobs"]
    assert sorted(j["id"] for j in listed) == sorted([first.json()["id"], up[0].json()["id"]])
    reserved = first.json()["charges"]["cpu_seconds"] + up[0].json()["charges"]["cpu_seconds"]
    used = api.http.get("/v1/usage", headers=api.headers(key)).json()["used"]
    assert used["cpu_seconds_today"] == pytest.approx(reserved)  # each reserved once


def test_a_money_cap_holds_under_concurrent_suite_comparisons(api):
    from concurrent.futures import ThreadPoolExecutor

    form = {"suite": "quick", "instances": TWO, "backends": "tabu,sb", "time_limit": "0.1"}
    probe = api.http.post("/v1/comparisons", headers=api.headers(api.tenant("p")), data=form)
    one = probe.json()["charges"]["money"]
    cap = one * 4.5  # room for exactly four
    key = api.tenant("capped", money_per_month=cap)
    with ThreadPoolExecutor(12) as pool:
        rs = list(
            pool.map(
                lambda _: api.http.post("/v1/comparisons", headers=api.headers(key), data=form),
                range(12),
            )
        )
    assert sorted(r.status_code for r in rs) == [201] * 4 + [429] * 8
    used = api.http.get("/v1/usage", headers=api.headers(key)).json()["used"]
    assert used["money_this_month"] == pytest.approx(4 * one) and used["money_this_month"] <= cap


def test_the_report_names_the_instances_left_out_at_submission():
    from kakehashi.service.runner import run_comparison

    note = "instance G1 not run: the shared benchmark data (../shared/data) is not present"
    job = {
        "kind": "comparison",
        "backend": ["exact"],
        "time_limit": 0.1,
        "seed": 0,
        "options": {"suite": "quick", "instances": ["maxcut-g16"], "repeats": 1,
                    "not_run": [note]},
    }  # fmt: skip
    out = run_comparison(job)
    html = json.loads(out["result_json"])["html"]
    assert "maxcut-g16" in html and note in html
    assert out["summary"]["baseline"] == "exact" and out["charges"]["charge_cpu_seconds"] > 0
