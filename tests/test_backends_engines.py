"""Backends sa / pt / tabu / sb through kakehashi.solve, constrained problems included."""

from __future__ import annotations

import numpy as np
import pytest

import kakehashi
from kakehashi.backends import backend_names, get_backend

ENGINES = ["sa", "pt", "pa", "tabu", "sb"]


def test_engine_backends_are_listed_and_available():
    names = backend_names()
    for name in ENGINES:
        assert name in names
        assert get_backend(name).available()


@pytest.mark.parametrize("name", ENGINES)
def test_unconstrained_optimum(name):
    p = kakehashi.examples.small_maxcut()
    exact = kakehashi.solve(p, backend="exact")
    r = kakehashi.solve(p, backend=name, time_limit=0.5, seed=3)
    assert r.objective == pytest.approx(exact.objective)
    assert r.backend == name


@pytest.mark.parametrize("name", ENGINES)
def test_constrained_problem_through_the_penalty_loop(name):
    p = kakehashi.examples.random_assignment(4, seed=2)
    exact = kakehashi.solve(p, backend="exact")
    r = kakehashi.solve(p, backend=name, time_limit=1.0, seed=4)
    assert r.feasible
    assert r.objective == pytest.approx(exact.objective)


@pytest.mark.parametrize(
    ("name", "work"),
    [
        ("sa", {"num_reads": 4, "num_sweeps": 200}),
        ("tabu", {"max_moves": 2000}),
        ("pt", {"max_sweeps": 200}),
        ("pa", {"steps": 200}),
        ("sb", {"steps": 200, "num_runs": 1}),
    ],
)
def test_same_seed_same_result_with_a_work_count(name, work):
    p = kakehashi.examples.knapsack(10, seed=1)
    a = kakehashi.solve(p, backend=name, time_limit=30.0, seed=11, threads=2, **work)
    b = kakehashi.solve(p, backend=name, time_limit=30.0, seed=11, threads=2, **work)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_warm_up_happens_before_the_clock():
    # kernel compilation is paid before the time limit's clock starts: the solve phase of a
    # run stays within its budget even when the kernels were not compiled yet
    backend = kakehashi.get_backend("tabu")
    backend.warm_up()
    assert type(backend)._warm
    r = kakehashi.solve(
        kakehashi.examples.random_assignment(4), backend="tabu", time_limit=0.5, seed=1
    )
    assert r.timing.solve < 0.5 + 1.0
