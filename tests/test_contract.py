"""The backend contract: solve's arguments, applicability reports, one pricing formula, and
samples evaluated once."""

from __future__ import annotations

import numpy as np
import pytest

import kakehashi
from kakehashi.backends import get_backend
from kakehashi.backends.arguments import MAX_SEED, MAX_TIME_LIMIT
from kakehashi.backends.catalog import device_entry, estimate
from kakehashi.bench.accounting import price
from kakehashi.errors import OptionError, UnsupportedError
from kakehashi.model.problem import Problem
from kakehashi.testing import tiny_mip

MAXCUT = kakehashi.examples.small_maxcut


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"time_limit": float("inf")}, "finite number of seconds"),
        ({"time_limit": 1e308}, "finite number of seconds"),
        ({"time_limit": MAX_TIME_LIMIT * 2}, "one week"),
        ({"time_limit": 0}, "finite number of seconds"),
        ({"time_limit": "1"}, "is not a number"),
        ({"seed": -1}, "is negative"),
        ({"seed": 1.5}, "is not an integer"),
        ({"seed": True}, "is not an integer"),
        ({"seed": MAX_SEED + 1}, "too large"),
        ({"backend": None}, "is not a backend"),
        ({"backend": 3}, "is not a backend"),
        ({"backend": "tabbu"}, "Did you mean tabu"),
        ({"time_limt": 1}, "did you mean 'time_limit'"),
        ({"backend": "sa", "num_raeds": 4}, "did you mean 'num_reads'"),
        ({"backend": "sa", "num_reads": 0}, "must be ≥ 1"),
        ({"backend": "sa", "num_reads": 2.5}, "must be an integer"),
        ({"backend": "highs", "mip_gap": float("nan")}, "finite"),
    ],
)
def test_bad_arguments_are_one_clear_error(kwargs, match):
    with pytest.raises(OptionError, match=match):
        kakehashi.solve(MAXCUT(), **kwargs)


@pytest.mark.parametrize("name", ["tabu", "sa", "exact"])
def test_the_whole_seed_range_runs(name):
    r = kakehashi.solve(MAXCUT(), backend=name, time_limit=0.2, seed=MAX_SEED)
    assert r.seed == MAX_SEED and r.objective == -5.0


def test_check_reports_why_and_solve_refuses_early(monkeypatch):
    tabu = get_backend("tabu")
    report = tabu.check(tiny_mip())
    assert not report and "continuous" in report.reasons[0]
    assert report.forms == ["mip", "constrained"]
    unbounded = Problem.from_arrays(linear=[1.0], vtype="integer", lower=[0], upper=[np.inf])
    assert "no finite bounds" in tabu.check(unbounded).reasons[0]
    assert get_backend("highs").check(unbounded)  # MIP solvers take unbounded integers

    def must_not_run(*args, **kwargs):
        raise AssertionError("ran although check() refused")

    monkeypatch.setattr(tabu, "run", must_not_run)
    monkeypatch.setattr(tabu, "warm_up", must_not_run)
    with pytest.raises(UnsupportedError, match="cannot take this problem: it takes no continuous"):
        kakehashi.solve(tiny_mip(), backend="tabu")


def test_exact_refuses_a_huge_domain_without_building_it():
    huge = Problem.from_arrays(linear=[1.0], vtype="integer", lower=[0], upper=[1e9])
    with pytest.raises(UnsupportedError, match="at most 2\\^24 assignments"):
        kakehashi.solve(huge, backend="exact")


def test_estimate_and_accounting_price_alike():
    # the same shots, tasks and seconds give the same money before and after a run
    pm = device_entry("qaoa-braket", "arn:aws:braket:::device/qpu/ionq/Aria-1")["price"]
    est = estimate(
        "qaoa-braket", None, device="arn:aws:braket:::device/qpu/ionq/Aria-1", shots=500, tasks=3
    )
    assert est.total_shots == 1500
    after = price(pm, seconds=est.seconds or 0.0, shots=est.total_shots, tasks=est.tasks)
    assert est.money == pytest.approx(after) and est.money > 0


def test_samples_are_evaluated_once(monkeypatch):
    calls = []
    original = Problem.evaluate

    def counting(self, X, **kw):
        calls.append(np.asarray(X).shape[0])
        return original(self, X, **kw)

    monkeypatch.setattr(Problem, "evaluate", counting)
    r = kakehashi.solve(
        kakehashi.examples.random_assignment(3), backend="tabu", time_limit=0.3, seed=1
    )
    rounds = r.info["rounds"]
    assert sum(calls) == r.num_samples == sum(x["samples"] for x in rounds)


def test_resources_are_filled_from_measured_cpu_time():
    r = kakehashi.solve(kakehashi.examples.random_assignment(3), backend="sa", time_limit=0.3)
    res = r.resources
    assert res.cpu_seconds is not None and res.cpu_seconds > 0
    assert res.money is not None and res.energy_joules is not None
    assert "modelled" in res.notes and res.currency == "USD"
