"""Travelling salesman use case: TSPLIB distance rules, optima, model, decode, validation."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import kakehashi
from kakehashi.apps import get_use_case
from kakehashi.apps._tsplib import distance_matrix, explicit_matrix, read_tsplib
from kakehashi.apps.base import shipped_instance_dir
from kakehashi.apps.tsp import TspData, held_karp, make_tour, tour_length
from kakehashi.errors import InputFormatError, KakehashiError

TSP = get_use_case("tsp")
HAS_ORTOOLS = importlib.util.find_spec("ortools") is not None


@pytest.mark.parametrize(
    ("name", "optimum"), [("burma14", 3323), ("ulysses16", 6859), ("gr17", 2085)]
)
def test_tsplib_distances_give_published_optimum(name, optimum):
    # Held–Karp is exact: the optimum only comes out when GEO / EXPLICIT rules are right
    data = TSP.load(name)
    length, tour = held_karp(data.distances)
    assert length == optimum
    assert sorted(tour) == list(range(data.n))
    assert tour_length(tour, data.distances) == optimum


def test_shipped_files_equal_shared_benchmark_copies(shared_data):
    for name in ("burma14", "ulysses16", "gr17"):
        ours = read_tsplib(shipped_instance_dir() / f"{name}.tsp").distances
        theirs = read_tsplib(shared_data / "tsplib" / f"{name}.tsp").distances
        assert np.array_equal(ours, theirs)


def test_distance_functions_follow_tsplib():
    pts = np.array([[0.0, 0.0], [3.0, 4.2], [10.0, 0.0], [30.0, 40.0]])
    euc = distance_matrix(pts, "EUC_2D")
    assert euc[0, 1] == 5 and euc[0, 3] == 50  # nint(5.16) = 5
    assert distance_matrix(pts, "CEIL_2D")[0, 1] == 6  # ceil(5.16)
    att = distance_matrix(pts, "ATT")
    assert att[0, 2] == 4  # r = √10 ≈ 3.16, nint 3 < r → 4
    assert att[0, 3] == 16  # r = √250 ≈ 15.8, nint 16 ≥ r → 16
    assert distance_matrix(pts, "MAN_2D")[0, 1] == 7  # nint(7.2)
    assert distance_matrix(pts, "MAX_2D")[0, 1] == 4
    # GEO: burma14 cities 1 and 2, 153 km by TSPLIB's formula (DDD.MM coordinates)
    geo = distance_matrix(np.array([[16.47, 96.10], [16.47, 94.44]]), "GEO")
    assert geo[0, 1] == 153


@pytest.mark.parametrize(
    "fmt",
    [
        "FULL_MATRIX",
        "UPPER_ROW",
        "LOWER_ROW",
        "UPPER_DIAG_ROW",
        "LOWER_DIAG_ROW",
        "UPPER_COL",
        "LOWER_COL",
        "UPPER_DIAG_COL",
        "LOWER_DIAG_COL",
    ],
)
def test_every_explicit_layout_reads_back(fmt, tmp_path):
    rng = np.random.default_rng(1)
    n = 5
    m = rng.integers(1, 99, size=(n, n))
    m = np.triu(m, 1) + np.triu(m, 1).T
    k = 0 if "DIAG" in fmt else 1
    if fmt == "FULL_MATRIX":
        vals = m.ravel()
    elif fmt in ("UPPER_ROW", "UPPER_DIAG_ROW", "LOWER_COL", "LOWER_DIAG_COL"):
        vals = m[np.triu_indices(n, k)]  # row-wise upper == column-wise lower
    else:
        vals = m[np.tril_indices(n, -k)]
    path = tmp_path / "x.tsp"
    path.write_text(
        f"NAME: x\nTYPE: TSP\nDIMENSION: {n}\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
        f"EDGE_WEIGHT_FORMAT: {fmt}\nEDGE_WEIGHT_SECTION\n" + " ".join(map(str, vals)) + "\nEOF\n"
    )
    assert np.array_equal(read_tsplib(path).distances, m)
    assert np.array_equal(explicit_matrix(vals.astype(float), n, fmt), m)


def test_reader_errors_say_what_is_wrong(tmp_path):
    bad = tmp_path / "bad.tsp"
    bad.write_text(
        "NAME: bad\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\n"
        "NODE_COORD_SECTION\n1 0 0\n2 1 1\nEOF\n"
    )
    with pytest.raises(InputFormatError, match="truncated"):
        read_tsplib(bad)
    bad.write_text("NAME: bad\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: XRAY\nEOF\n")
    with pytest.raises(InputFormatError, match="not supported"):
        read_tsplib(bad)
    with pytest.raises(InputFormatError, match="shipped"):
        TSP.load("no-such-instance")


def test_the_model_scores_the_optimal_burma14_tour_at_3323():
    data = TSP.load("burma14")
    _, tour = held_karp(data.distances)
    problem = TSP.build(data)
    x = np.zeros((data.n - 1, data.n - 1))
    for step, city in enumerate(tour[1:]):
        x[step, city - 1] = 1
    ev = problem.evaluate(x.ravel())
    assert ev["feasible"][0] and ev["objective"][0] == 3323


def test_exact_solve_of_a_small_tsp_decodes_to_the_optimum():
    data = TSP.generate(5, seed=4)
    run = TSP.run(data, backend="exact")
    assert run.validation.valid
    assert run.answer.objective == held_karp(data.distances)[0]
    assert run.baseline.status == "optimal" and run.gap == 0.0


def heuristic_backend() -> str:
    """The first fast QUBO engine installed (they land separately from the apps)."""
    for name in ("tabu", "sa"):
        if name in kakehashi.backend_names() and kakehashi.get_backend(name).available():
            return name
    pytest.skip("no fast QUBO engine ('tabu' or 'sa') is registered yet")


def test_heuristic_solve_of_a_six_city_tsp_is_valid_and_optimal():
    data = TSP.generate(6, seed=2)
    result = kakehashi.solve(TSP.build(data), backend=heuristic_backend(), time_limit=3, seed=5)
    answer = TSP.decode(result, data)
    assert TSP.validate(answer, data).valid
    assert answer.objective == held_karp(data.distances)[0]


def test_validation_catches_broken_tours():
    data = TSP.generate(6, seed=0)
    missing = make_tour([0, 1, 2, 3, 4], data)
    assert not TSP.validate(missing, data).valid
    assert "city 5 is never visited" in TSP.validate(missing, data).errors
    twice = make_tour([0, 1, 2, 3, 4, 4], data)
    assert any("visited 2 times" in e for e in TSP.validate(twice, data).errors)
    stranger = make_tour([0, 1, 2, 3, 4, 9], data)
    assert not TSP.validate(stranger, data).valid
    good = make_tour([0, 1, 2, 3, 4, 5], data)
    assert TSP.validate(good, data).valid
    good.objective -= 1  # a wrong stated length is caught too
    assert not TSP.validate(good, data).valid


def test_decode_reports_a_broken_sample_instead_of_repairing_it():
    data = TSP.generate(4, seed=0)
    problem = TSP.build(data)
    x = np.zeros((3, 3))
    x[0, 0] = x[1, 0] = 1  # city 1 twice, city 2 and 3 never
    result = kakehashi.Result.from_samples(
        problem, x.ravel(), backend="test", timing=kakehashi.result.Timing(), seed=0
    )
    answer = TSP.decode(result, data)
    assert np.isnan(answer.objective)
    assert not TSP.validate(answer, data).valid


@pytest.mark.skipif(not HAS_ORTOOLS, reason="OR-Tools not installed")
def test_ortools_baseline_reaches_the_ulysses16_optimum():
    data = TSP.load("ulysses16")  # 16 cities: above the Held–Karp cut-off, so OR-Tools runs
    ref = TSP.baseline(data, time_limit=1.0)
    assert ref.tool.startswith("OR-Tools")
    assert TSP.validate(ref.answer, data).valid
    assert 6859 <= ref.objective <= 6859 * 1.02


def test_bad_data_is_rejected():
    with pytest.raises(KakehashiError, match="square"):
        TspData(np.zeros((3, 4)))
    with pytest.raises(KakehashiError, match="non-negative"):
        TspData(-np.ones((3, 3)))
