"""kakehashi.solve end to end on the built-in backends; the adaptive penalty loop."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

import kakehashi
from kakehashi.errors import KakehashiError, ModelError
from kakehashi.model.problem import Problem


def test_exact_finds_maxcut_optimum():
    r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="exact")
    assert r.objective == -5.0 and r.feasible
    assert r.solution["side"].shape == (5,)
    assert r.seed is not None  # a seed is drawn and recorded when none is given


def test_reference_sa_matches_exact_on_knapsack():
    problem = kakehashi.examples.knapsack(12, seed=2)
    exact = kakehashi.solve(problem, backend="exact")
    heur = kakehashi.solve(problem, backend="reference-sa", time_limit=3, seed=5)
    assert heur.feasible
    assert heur.objective <= exact.objective  # maximise: never better than the optimum
    assert heur.objective >= 0.7 * exact.objective  # the reference SA is plain; engines do better


def test_adaptive_loop_recovers_from_weak_weights():
    # weights scaled down 20×: the first round is infeasible, the loop must raise them
    problem = kakehashi.examples.random_assignment(4, seed=1)
    r = kakehashi.solve(problem, backend="reference-sa", time_limit=6, seed=3, penalty=0.05)
    rounds = r.info["rounds"]
    assert r.feasible
    assert len(rounds) >= 2
    group = "one_task_per_worker"
    first, last = rounds[0]["weights"][group], rounds[-1]["weights"][group]
    assert last > first
    exact = kakehashi.solve(problem, backend="exact")
    assert r.objective >= exact.objective


def test_same_seed_same_answer():
    problem = kakehashi.examples.random_assignment(4, seed=2)
    a = kakehashi.solve(
        problem, backend="reference-sa", time_limit=30, seed=11, max_rounds=1, num_sweeps=50
    )
    b = kakehashi.solve(
        problem, backend="reference-sa", time_limit=30, seed=11, max_rounds=1, num_sweeps=50
    )
    assert np.array_equal(a.samples, b.samples)


def test_result_json_round_trip():
    r = kakehashi.solve(kakehashi.examples.knapsack(8), backend="exact", seed=4)
    d = json.loads(r.to_json(include_samples=True))
    assert d["objective"] == r.objective
    assert d["feasible"] is True
    assert d["seed"] == 4
    assert d["solution"]["take"] == r.solution["take"].tolist()
    assert {"compile", "queue", "solve", "total"} <= set(d["timing"])
    assert "numpy" in d["versions"]


def test_best_prefers_feasible_then_objective():
    problem = kakehashi.examples.knapsack(6, seed=0)
    X = np.array([np.ones(6), np.zeros(6)])  # all items: infeasible but high value
    r = kakehashi.Result.from_samples(
        problem, X, backend="t", timing=kakehashi.result.Timing(), seed=0
    )
    assert r.feasible and r.objective == 0.0
    assert r.constraint_violations == {"capacity": 0.0}


def test_auto_choice_is_recorded():
    r = kakehashi.solve(kakehashi.examples.small_maxcut(), seed=1)
    assert r.info["auto_choice"] == r.backend == r.info["router"]["choice"]


def test_unknown_backend_suggests_names():
    with pytest.raises(KakehashiError, match="Did you mean exact"):
        kakehashi.solve(kakehashi.examples.small_maxcut(), backend="exakt")


def test_bad_inputs_are_named():
    with pytest.raises(ModelError, match="lower bound 5 > upper bound 2"):
        Problem.from_arrays(linear=[1.0], vtype="integer", lower=[5], upper=[2]).validate()
    with pytest.raises(ModelError, match="unknown variable type 'qubit'"):
        Problem.from_arrays(linear=[1.0], vtype="qubit")
    with pytest.raises(ModelError, match="empty"):
        Problem.from_arrays(linear=[0.0, 0.0]).validate()
    with pytest.raises(KakehashiError, match=r"time_limit=.* must be a finite number of seconds"):
        kakehashi.solve(kakehashi.examples.small_maxcut(), time_limit=-1)
    with pytest.raises(ModelError, match="cannot solve an object of type list"):
        kakehashi.solve([1, 2, 3])


def test_continuous_variables_refused_by_qubo_backends():
    p = Problem.from_arrays(
        linear=[1.0, 1.0],
        vtype="continuous",
        lower=0,
        upper=1,
        A=sp.csr_matrix([[1.0, 1.0]]),
        lo=[1],
        hi=[1],
    )
    with pytest.raises(KakehashiError, match="continuous"):
        kakehashi.solve(p, backend="reference-sa", time_limit=1)
