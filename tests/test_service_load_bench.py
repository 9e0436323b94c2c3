"""The load benchmark's own parts work: its lean HTTP client, a short closed-loop and an
open-loop run on a live server, and the correctness checks it reports (so that the figures
in docs/performance.md come from a benchmark that still runs)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "service_load.py"


@pytest.fixture(scope="module")
def service_load():
    spec = importlib.util.spec_from_file_location("service_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["service_load"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("rate", [None, 60.0])
def test_a_short_load_run_accepts_every_job_once_and_keeps_the_cap(service_load, rate):
    row = service_load.run_load(None, 40, 4, fault=False, rate=rate)
    jobs = 40 + service_load.WARM_UP_JOBS  # the capped tenant's share fits its cap here
    assert row["accepted"] == jobs and row["lost"] == 0 and row["completed_twice"] == 0
    assert row["results_wrong"] == 0 and row["cap_held"]
    assert row["jobs_rows"] == row["distinct_idempotency_keys"] == jobs
    assert row["p99_ms"] >= row["p50_ms"] > 0


def test_medians_keep_the_worst_correctness_count(service_load):
    base = {
        "database": "sqlite",
        "fault": False,
        "offered_per_second": None,
        "submissions_per_second": 100.0,
        "p50_ms": 10.0,
        "p99_ms": 50.0,
        "drain_seconds_after_submit": 1.0,
        "lost": 0,
        "completed_twice": 0,
        "results_wrong": 0,
        "accepted": 10,
        "cap_held": True,
    }
    rows = [base, {**base, "submissions_per_second": 300.0, "lost": 1}, {**base, "p99_ms": 90}]
    (m,) = service_load.median_rows(rows)
    assert m["submissions_per_second"] == 100.0 and m["p99_ms"] == 50.0
    assert m["lost"] == 1 and m["repeats"] == 3
