"""The dashboard: its pages through the app in-process, and one user's visit in a real
headless Chromium (Debian's chromium + chromium-driver, through Selenium)."""

from __future__ import annotations

import re
import shutil

import pytest

pytest.importorskip("fastapi")

from service_support import (
    QUBO,
    api,
    database,
    headless_chromium,
    postgres,
    server_factory,
    sign_in_browser,
)


def sign_in(api, key: str) -> None:
    r = api.http.post("/ui/login", data={"api_key": key}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/jobs"


def test_pages_need_a_key_and_show_only_the_tenants_jobs(api):
    assert api.http.get("/", follow_redirects=False).headers["location"] == "/ui/login"
    assert api.http.get("/ui/jobs", follow_redirects=False).headers["location"] == "/ui/login"
    r = api.http.post("/ui/login", data={"api_key": "kh_nope_nope"})
    assert r.status_code == 401 and "unknown API key" in r.text
    ka, kb = api.tenant("a"), api.tenant("b")
    job = api.submit(ka).json()["id"]
    api.run_next()
    sign_in(api, kb)
    assert job not in api.http.get("/ui/jobs").text
    assert api.http.get(f"/ui/jobs/{job}").status_code == 404
    sign_in(api, ka)
    page = api.http.get(f"/ui/jobs/{job}").text
    assert "data-final" in page and re.search(r'id="objective">-1 ', page)
    assert re.search(r'id="feasible">yes', page) and "<th>a</th>" in page  # by variable
    assert "Usage of a" in api.http.get("/ui/usage").text


def test_template_submission_and_errors(api):
    sign_in(api, api.tenant("a"))
    r = api.http.post(
        "/ui/submit",
        data={"use_case": "knapsack", "size": "5", "backend": "exact", "seed": "3"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    api.run_next()
    page = api.http.get(r.headers["location"]).text
    assert "knapsack-5.ommx" in page and 'id="feasible">yes' in page
    bad = api.http.post("/ui/submit", data={"backend": "exact"})
    assert bad.status_code == 400 and "choose a file" in bad.text
    bad = api.http.post("/ui/submit", data={"use_case": "knapsack", "backend": "nope"})
    assert bad.status_code == 400 and "nope" in bad.text


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_sign_in_submit_and_watch_a_job_complete_in_chromium(server_factory, tmp_path, database):
    with headless_chromium() as browser:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import Select, WebDriverWait

        import kakehashi

        server = server_factory(database, workers=1)
        key = kakehashi.Client(server.url, server.admin_key).create_tenant("web")["api_key"]
        problem = tmp_path / "tiny.json"
        problem.write_bytes(QUBO)

        wait = WebDriverWait(browser, 60)
        sign_in_browser(browser, wait, server.url, key, "web", page="/")
        browser.find_element(By.ID, "file").send_keys(str(problem))
        Select(browser.find_element(By.ID, "backend")).select_by_value("exact")
        browser.find_element(By.ID, "submit").click()
        # the job page refreshes itself until the job has ended
        wait.until(ec.text_to_be_present_in_element((By.ID, "job-status"), "completed"))
        assert browser.find_element(By.ID, "objective").text.startswith("-1 ")
        assert browser.find_element(By.ID, "feasible").text == "yes"
        rows = browser.find_elements(By.CSS_SELECTOR, "#solution tr")
        assert {r.find_element(By.TAG_NAME, "th").text for r in rows} == {"a", "b", "c"}
        browser.find_element(By.ID, "nav-jobs").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "jobs"), "completed"))
        browser.find_element(By.ID, "nav-usage").click()
        assert "Usage of web" in browser.page_source
