"""Knapsack use case: exact DP against brute force, exact solve, validation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kakehashi.apps import get_use_case
from kakehashi.apps.knapsack import KnapsackData, knapsack_dp, make_packing
from kakehashi.errors import KakehashiError

KS = get_use_case("knapsack")


def brute_force(data: KnapsackData) -> float:
    best = 0.0
    for mask in itertools.product([0, 1], repeat=data.n):
        take = np.array(mask, dtype=bool)
        if data.weights[take].sum() <= data.capacity:
            best = max(best, float(data.values[take].sum()))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_dp_matches_brute_force(seed):
    data = KS.generate(11, seed=seed)
    items = knapsack_dp(data.values, data.weights, data.capacity)
    answer = make_packing(items, data)
    assert KS.validate(answer, data).valid
    assert answer.objective == brute_force(data)


def test_exact_solve_decodes_to_the_optimum():
    data = KS.generate(12, seed=7)
    run = KS.run(data, backend="exact")
    assert run.validation.valid and run.baseline.status == "optimal"
    assert run.answer.objective == run.baseline.objective == brute_force(data)
    assert run.gap == 0.0


def test_dp_handles_items_heavier_than_the_capacity():
    data = KnapsackData(values=[100, 1, 2], weights=[50, 1, 1], capacity=2)
    assert knapsack_dp(data.values, data.weights, data.capacity) == [1, 2]


def test_validation_catches_an_overfull_knapsack():
    data = KnapsackData(values=[6, 5, 4], weights=[4, 3, 2], capacity=5)
    over = make_packing([0, 1], data)
    assert KS.validate(over, data).errors == ["total weight 7 exceeds the capacity 5"]
    assert not KS.validate(make_packing([7], data), data).valid
    fine = make_packing([1, 2], data)
    assert KS.validate(fine, data).valid and fine.objective == 9
    fine.objective = 10
    assert not KS.validate(fine, data).valid


def test_bad_data_is_rejected():
    with pytest.raises(KakehashiError, match="integers"):
        KnapsackData(values=[1, 2], weights=[0.5, 1], capacity=3)
    with pytest.raises(KakehashiError, match="equally long"):
        KnapsackData(values=[1, 2], weights=[1], capacity=3)
