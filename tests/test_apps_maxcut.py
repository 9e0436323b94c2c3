"""Max-cut and graph partitioning use cases: Gset via the io reader, exact and heuristic
baselines, model, decode, validation."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest

from kakehashi.apps import get_use_case
from kakehashi.apps.maxcut import (
    Cut,
    GraphData,
    Partition,
    PartitionData,
    cut_weight,
    local_search_maxcut,
)
from kakehashi.errors import KakehashiError

MC = get_use_case("maxcut")
GP = get_use_case("partition")
HAS_ORTOOLS = importlib.util.find_spec("ortools") is not None


def brute_max_cut(g: GraphData) -> float:
    return max(cut_weight(s, g) for s in itertools.product([0, 1], repeat=g.num_nodes))


def test_shipped_g11_is_read_through_the_gset_reader():
    g = MC.load("G11")
    assert (g.num_nodes, g.num_edges) == (800, 1600)
    assert set(np.unique(g.weights)) == {-1.0, 1.0}


def test_g1_certificate_reaches_the_best_known_cut(shared_data):
    g = MC.read(shared_data / "gset" / "G1.txt")
    side = np.loadtxt(shared_data / "gset" / "cuts" / "G1.cut", comments="#").astype(int)
    answer = Cut(objective=cut_weight(side, g), side=side.tolist())
    check = MC.validate(answer, g)
    assert check.valid and check.objective == 11624


@pytest.mark.parametrize("seed", [0, 1])
def test_exact_solve_and_exhaustive_baseline_agree_with_brute_force(seed):
    g = MC.generate(10, seed=seed)
    run = MC.run(g, backend="exact")
    assert run.validation.valid and run.baseline.status == "optimal"
    assert run.answer.objective == run.baseline.objective == brute_max_cut(g)


def test_weighted_and_negative_edges_are_cut_correctly():
    g = GraphData(4, [[0, 1], [1, 2], [2, 3], [0, 3], [0, 2]], [3.0, -1.0, 2.0, 1.0, -2.0])
    run = MC.run(g, backend="exact")
    assert run.answer.objective == brute_max_cut(g) == run.baseline.objective


def test_local_search_finds_the_optimum_of_a_small_graph():
    g = MC.generate(18, seed=4)
    side, info = local_search_maxcut(g, time_limit=0.3, seed=0)
    assert cut_weight(side, g) == MC.baseline(g).objective  # 18 nodes: exhaustive
    assert info["kicks"] > 0


def test_local_search_baseline_on_g11_is_valid_and_below_the_best_known():
    g = MC.load("G11")
    ref = MC.baseline(g, time_limit=0.5)
    assert ref.status == "heuristic" and MC.validate(ref.answer, g).valid
    assert 0.9 * 564 <= ref.objective <= 564


def test_maxcut_validation_catches_broken_answers():
    g = MC.generate(6, seed=0)
    assert not MC.validate(Cut(objective=0.0, side=[0, 1, 2, 0, 1, 0]), g).valid
    assert not MC.validate(Cut(objective=0.0, side=[0, 1]), g).valid
    side = [0, 1, 0, 1, 0, 1]
    assert MC.validate(Cut(objective=cut_weight(side, g), side=side), g).valid
    assert not MC.validate(Cut(objective=cut_weight(side, g) + 1, side=side), g).valid


def brute_partition(g: PartitionData) -> float:
    lo, hi = g.size_bounds
    best = np.inf
    for lab in itertools.product(range(g.parts), repeat=g.num_nodes):
        counts = np.bincount(lab, minlength=g.parts)
        if np.all((counts >= lo) & (counts <= hi)):
            best = min(best, cut_weight(lab, g))
    return best


def test_partition_exact_solve_and_baseline_agree_with_brute_force():
    g = GP.generate(8, seed=1)  # 16 binaries
    run = GP.run(g, backend="exact")
    assert run.validation.valid
    assert run.answer.objective == run.baseline.objective == brute_partition(g)


def test_three_way_partition_baseline_matches_brute_force():
    g = GP.generate(9, seed=2, parts=3)
    ref = GP.baseline(g)
    assert GP.validate(ref.answer, g).valid and ref.status == "optimal"
    assert ref.objective == brute_partition(g)


@pytest.mark.skipif(not HAS_ORTOOLS, reason="OR-Tools not installed")
def test_cpsat_partition_baseline_runs_on_a_medium_graph():
    g = GP.generate(24, seed=3)  # beyond enumeration: CP-SAT runs
    ref = GP.baseline(g, time_limit=1.5)
    assert ref.tool == "OR-Tools CP-SAT"
    assert GP.validate(ref.answer, g).valid
    assert ref.bound is not None and ref.bound <= ref.objective


def test_partition_validation_catches_unbalanced_and_missing_nodes():
    g = PartitionData(4, [[0, 1], [1, 2], [2, 3]], [1, 1, 1], parts=2)
    lopsided = Partition(objective=1.0, part=[0, 0, 0, 1])
    assert any("balanced" in e for e in GP.validate(lopsided, g).errors)
    missing = Partition(objective=float("nan"), part=[0, 0, -1, 1])
    assert not GP.validate(missing, g).valid
    good = Partition(objective=1.0, part=[0, 0, 1, 1])
    assert GP.validate(good, g).valid


def test_bad_graphs_are_rejected():
    with pytest.raises(KakehashiError, match="outside"):
        GraphData(3, [[0, 5]], [1.0])
    with pytest.raises(KakehashiError, match="one weight per edge"):
        GraphData(3, [[0, 1]], [1.0, 2.0])
    with pytest.raises(KakehashiError, match="parts"):
        PartitionData(3, [[0, 1]], [1.0], parts=5)
