"""Capacitated vehicle routing use case: reader, exact DP, OR-Tools baseline, model, checks."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest

import kakehashi
from kakehashi.apps import get_use_case
from kakehashi.apps.cvrp import CvrpData, exact_cvrp, make_routes, max_stops, routes_length
from kakehashi.errors import KakehashiError

CVRP = get_use_case("cvrp")
HAS_ORTOOLS = importlib.util.find_spec("ortools") is not None


def brute_force(data: CvrpData) -> float:
    """Cheapest plan by trying every truck assignment and every visiting order."""
    n, best = data.customers, np.inf
    for trucks in itertools.product(range(data.vehicles), repeat=n):
        groups = [[c + 1 for c in range(n) if trucks[c] == k] for k in range(data.vehicles)]
        if any(data.demand[g].sum() > data.capacity for g in groups):
            continue
        total = sum(
            min(routes_length([list(p)], data.distances) for p in itertools.permutations(g))
            for g in groups
        )
        best = min(best, total)
    return best


def test_reader_puts_the_depot_first_and_reads_the_fleet():
    data = CVRP.load("P-n16-k8")
    assert data.customers == 15 and data.capacity == 35 and data.vehicles == 8
    assert data.demand[0] == 0 and data.demand.sum() == 246
    assert data.distances[0, 1] == 14  # EUC_2D: nint(√(7² + 12²)) = nint(13.9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_dp_matches_brute_force(seed):
    data = CVRP.generate(5, seed=seed)
    plan = exact_cvrp(data)
    assert CVRP.validate(plan, data).valid
    assert plan.objective == brute_force(data)


def test_exact_backend_on_the_model_finds_the_optimum():
    data = CVRP.generate(3, seed=0)  # 2 trucks × 2 slots × 4 nodes = 16 binaries
    assert CVRP.build(data).num_variables <= 20
    run = CVRP.run(data, backend="exact")
    assert run.validation.valid
    assert run.answer.objective == run.baseline.objective == brute_force(data)


def test_the_model_scores_a_plan_at_its_route_length():
    data = CVRP.generate(8, seed=3)
    plan = exact_cvrp(data)
    problem = CVRP.build(data)
    k_max, t_max = data.vehicles, max_stops(data)
    x = np.zeros((k_max, t_max, data.customers + 1))
    x[:, :, 0] = 1  # empty slots hold the depot
    for k, route in enumerate(plan.routes):
        for t, c in enumerate(route):
            x[k, t, 0], x[k, t, c] = 0, 1
    ev = problem.evaluate(x.ravel())
    assert ev["feasible"][0]
    assert ev["objective"][0] == pytest.approx(plan.objective)


@pytest.mark.skipif(not HAS_ORTOOLS, reason="OR-Tools not installed")
def test_ortools_baseline_on_p_n16_k8_is_valid_and_near_the_published_optimum():
    data = CVRP.load("P-n16-k8")
    ref = CVRP.baseline(data, time_limit=1.5)
    assert ref.tool.startswith("OR-Tools")
    assert CVRP.validate(ref.answer, data).valid
    # 450 is optimal (CVRPLIB): a plan below it would mean the distances are wrong
    assert 450 <= ref.objective <= 450 * 1.05


def test_validation_catches_broken_plans():
    data = CVRP.generate(6, seed=1)
    good = exact_cvrp(data)
    assert CVRP.validate(good, data).valid
    missing = make_routes([r[:-1] if i == 0 else r for i, r in enumerate(good.routes)], data)
    assert any("never served" in e for e in CVRP.validate(missing, data).errors)
    twice = make_routes([*good.routes, [good.routes[0][0]]], data)
    assert any("served 2 times" in e for e in CVRP.validate(twice, data).errors)
    all_in_one = make_routes([[c for r in good.routes for c in r]], data)
    assert any("more than the capacity" in e for e in CVRP.validate(all_in_one, data).errors)
    too_many = make_routes([[c] for r in good.routes for c in r], data)
    assert any("trucks" in e for e in CVRP.validate(too_many, data).errors)
    stranger = make_routes([[99]], data)
    assert not CVRP.validate(stranger, data).valid


def test_bad_data_is_rejected():
    d = np.array([[0, 4, 4], [4, 0, 2], [4, 2, 0]])
    with pytest.raises(KakehashiError, match="capacity"):
        CvrpData(d, np.array([0, 9, 1]), capacity=5, vehicles=2)
    with pytest.raises(KakehashiError, match="depot"):
        CvrpData(d, np.array([1, 1, 1]), capacity=5, vehicles=2)
    with pytest.raises(KakehashiError, match="add trucks"):
        CvrpData(d, np.array([0, 5, 5]), capacity=5, vehicles=1)


def test_decode_keeps_what_the_sample_says():
    data = CVRP.generate(3, seed=0)
    problem = CVRP.build(data)
    x = np.zeros((data.vehicles, max_stops(data), data.customers + 1))
    x[:, :, 0] = 1
    x[0, 0, 0], x[0, 0, 1] = 0, 1  # only customer 1 is served
    result = kakehashi.Result.from_samples(
        problem, x.ravel(), backend="test", timing=kakehashi.result.Timing(), seed=0
    )
    answer = CVRP.decode(result, data)
    assert answer.routes == [[1]]
    assert not CVRP.validate(answer, data).valid
