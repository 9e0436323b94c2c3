"""Frequency assignment: data checks, validation of broken plans, exact optimum, baselines."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

import kakehashi
from kakehashi.apps import AppDataError, get_use_case, use_case_names
from kakehashi.apps.frequency import (
    ChannelPlan,
    FrequencyData,
    dsatur_assignment,
    interference_cost,
)

pytest.importorskip("ortools")

FAP = get_use_case("frequency")


@pytest.fixture(scope="module")
def network():
    data = FAP.generate(12, seed=2)
    return data, FAP.baseline(data, time_limit=20)


def _plan(assigned: np.ndarray, data: FrequencyData) -> ChannelPlan:
    return ChannelPlan(0.0, assigned, list(data.cells))


def test_registered_and_generator_seeded(network):
    data, _ = network
    assert "frequency" in use_case_names()
    again = FAP.generate(12, seed=2)
    assert np.array_equal(again.edges, data.edges)
    assert np.array_equal(again.interference, data.interference)
    assert again.num_channels == data.num_channels
    # the sectors of one site are always separated
    same_site = [e for e in data.edges.tolist() if e[0] // 3 == e[1] // 3]
    assert same_site and all(data.separated[data.edges.tolist().index(e)] for e in same_site)


def test_baselines_are_valid(network):
    data, ref = network
    assert ref.status == "optimal"
    check = FAP.validate(ref.answer, data)
    assert check.valid, check.errors
    assert check.objective == pytest.approx(ref.objective)
    greedy = FAP.baseline(data, method="dsatur")
    assert greedy.status == "heuristic" and FAP.validate(greedy.answer, data).valid
    assert greedy.objective >= ref.objective - 1e-9  # CP-SAT proved optimality
    with pytest.raises(AppDataError, match="unknown baseline method"):
        FAP.baseline(data, method="tabu")


def test_validation_catches_interfering_cells_on_one_channel(network):
    data, ref = network
    i, j = data.edges[data.separated][0]
    plan = ref.answer.assigned.copy()
    plan[j] = False
    plan[j, np.flatnonzero(plan[i])[0]] = True  # j now uses one of i's channels
    check = FAP.validate(_plan(plan, data), data)
    assert not check.valid
    shared = f"interfering cells {data.cells[i]} and {data.cells[j]} share channel"
    assert any(shared in e for e in check.errors)


def test_validation_catches_demand_blocking_and_spacing(network):
    data, _ = network
    plan = np.zeros((data.num_cells, data.num_channels), dtype=bool)
    plan[0, 0] = plan[0, 1] = True  # two adjacent channels for one cell
    b = np.argwhere(data.blocked)
    if b.size:
        plan[b[0, 0], b[0, 1]] = True
    errors = " | ".join(FAP.validate(_plan(plan, data), data).errors)
    assert "uses adjacent channels 0 and 1" in errors
    assert f"cell {data.cells[1]} has 0 channels" in errors
    if b.size:
        assert "which is blocked for it" in errors
    check = FAP.validate(_plan(plan[:, :2], data), data)
    assert not check.valid and check.objective is None


def test_interference_cost_counts_co_and_adjacent_channels():
    data = FrequencyData(["a", "b"], 3, [1, 1], [[0, 1]], [10.0], adjacent_factor=0.25)
    assert interference_cost(np.array([[1, 0, 0], [1, 0, 0]], bool), data) == 10.0
    assert interference_cost(np.array([[0, 1, 0], [1, 0, 0]], bool), data) == 2.5
    assert interference_cost(np.array([[1, 0, 0], [0, 0, 1]], bool), data) == 0.0


@pytest.mark.parametrize("seed", [1, 2])
def test_exact_optimum_matches_exhaustive_and_cp_sat(seed):
    data = FAP.generate(3, seed=seed)
    problem = FAP.build(data)
    assert problem.num_variables <= 20
    result = kakehashi.solve(problem, backend="exact")
    answer = FAP.decode(result, data)
    check = FAP.validate(answer, data)
    assert check.valid, check.errors
    assert answer.objective == pytest.approx(result.objective)
    # exhaustive over the domain: every choice of channel sets per cell
    choices = [
        [set(c) for c in itertools.combinations(range(data.num_channels), int(d))]
        for d in data.demand
    ]
    best = np.inf
    for combo in itertools.product(*choices):
        plan = np.zeros((data.num_cells, data.num_channels), dtype=bool)
        for i, chans in enumerate(combo):
            plan[i, list(chans)] = True
        v = FAP.validate(_plan(plan, data), data)
        if v.valid:
            best = min(best, v.objective)
    assert answer.objective == pytest.approx(best)
    ref = FAP.baseline(data, time_limit=10)
    assert ref.status == "optimal" and ref.objective == pytest.approx(best)


def test_dsatur_reports_when_stuck():
    # a triangle of mutually separated cells cannot be coloured with two channels
    tri = FrequencyData(
        ["a", "b", "c"], 2, [1, 1, 1], [[0, 1], [1, 2], [0, 2]], [1.0, 1.0, 1.0], [True, True, True]
    )
    assert dsatur_assignment(tri) is None
    with pytest.raises(AppDataError, match="DSatur could not"):
        FAP.baseline(tri, method="dsatur")


def test_bad_data_is_rejected_with_a_reason():
    base = {
        "cells": ["a", "b"],
        "num_channels": 3,
        "demand": [1, 1],
        "edges": [[0, 1]],
        "interference": [1.0],
    }
    with pytest.raises(AppDataError, match="itself"):
        FrequencyData(**{**base, "edges": [[0, 0]]})
    with pytest.raises(AppDataError, match="listed twice"):
        FrequencyData(**{**base, "edges": [[0, 1], [1, 0]], "interference": [1.0, 1.0]})
    with pytest.raises(AppDataError, match="non-adjacent channels"):
        FrequencyData(**{**base, "demand": [3, 1]})
    with pytest.raises(AppDataError, match="interference has"):
        FrequencyData(**{**base, "interference": [1.0, 2.0]})
    with pytest.raises(AppDataError, match="at least 2 cells"):
        FAP.generate(1)
    data = FrequencyData(**base)
    assert dataclasses.replace(data, adjacent_factor=0.5).adjacent_factor == 0.5


def test_model_and_independent_cp_sat_agree_on_a_mip_backend():
    if "cpsat" not in kakehashi.backend_names():
        pytest.skip("the 'cpsat' backend is not in this tree")
    data = FAP.generate(8, seed=5)
    ref = FAP.baseline(data, time_limit=20)
    assert ref.status == "optimal"
    result = kakehashi.solve(FAP.build(data), backend="cpsat", time_limit=20, seed=0)
    answer = FAP.decode(result, data)
    assert FAP.validate(answer, data).valid
    assert answer.objective == pytest.approx(ref.objective)
