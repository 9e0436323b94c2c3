"""The adaptive penalty loop reaches feasible answers on constrained instances from
../shared/data (QAPLIB, market split) and on generated assignment and knapsack problems,
with kakehashi's own engines."""

from __future__ import annotations

import pytest

import kakehashi
from kakehashi.apps.qap import Qap, read_qaplib
from kakehashi.bench.qoblib import read_marketsplit


@pytest.mark.parametrize("instance", ["nug12", "chr12a", "had12"])
def test_qaplib_assignments_come_back_feasible(shared_data, instance):
    data = read_qaplib(shared_data / "qaplib" / f"{instance}.dat")
    problem = Qap().build(data)
    r = kakehashi.solve(problem, backend="tabu", time_limit=3, seed=1)
    assert r.feasible, r.constraint_violations
    optimum = {"nug12": 578, "chr12a": 9552, "had12": 1652}[instance]
    assert r.objective >= optimum  # never better than the proven optimum


def test_market_split_feasible(shared_data):
    path = shared_data / "qoblib" / "marketsplit" / "ms_03_050_002.dat"
    if not path.exists():
        pytest.skip("market split instance absent")
    problem = read_marketsplit(path)
    r = kakehashi.solve(problem, backend="tabu", time_limit=10, seed=2)
    assert r.feasible  # hard: equality rows with coefficients up to ~100, one solution family


@pytest.mark.parametrize("backend", ["sa", "tabu", "pt"])
def test_assignment_and_knapsack_reach_the_optimum(backend):
    assignment = kakehashi.examples.random_assignment(6, seed=3)
    knapsack = kakehashi.examples.knapsack(16, seed=4)
    for problem in (assignment, knapsack):
        exact = kakehashi.solve(problem, backend="exact") if problem.num_variables <= 24 else None
        r = kakehashi.solve(problem, backend=backend, time_limit=2, seed=5)
        assert r.feasible
        if exact is not None:
            assert r.objective == pytest.approx(exact.objective)
