"""Quadratic assignment use case: QAPLIB reader, nug12 optimum, robust tabu, model, checks."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest

from kakehashi.apps import get_use_case
from kakehashi.apps.qap import (
    QapData,
    exhaustive_qap,
    layout_cost,
    make_layout,
    read_qaplib,
    robust_tabu,
    swap_deltas,
)
from kakehashi.errors import InputFormatError, KakehashiError

QAP = get_use_case("qap")
# QAPLIB's published optimal assignment of nug12 (nug12.sln), 1-based locations
NUG12_OPT = [12, 7, 9, 3, 4, 8, 11, 1, 5, 6, 10, 2]


def test_nug12_optimal_permutation_costs_578():
    data = QAP.load("nug12")
    answer = make_layout([p - 1 for p in NUG12_OPT], data)
    check = QAP.validate(answer, data)
    assert check.valid and check.objective == 578


def test_the_model_scores_a_layout_at_its_cost():
    data = QAP.load("nug12")
    problem = QAP.build(data)
    x = np.zeros((12, 12))
    x[np.arange(12), np.array(NUG12_OPT) - 1] = 1
    ev = problem.evaluate(x.ravel())
    assert ev["feasible"][0] and ev["objective"][0] == 578


def test_swap_deltas_equal_recomputed_costs():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 9, (6, 6)).astype(float), rng.integers(0, 9, (6, 6)).astype(float)
    data, p = QapData(a, b), rng.permutation(6)
    delta = swap_deltas(a, b, p)
    for r, s in itertools.combinations(range(6), 2):
        q = p.copy()
        q[[r, s]] = q[[s, r]]
        assert delta[r, s] == pytest.approx(layout_cost(q, data) - layout_cost(p, data))


def test_robust_tabu_reaches_the_nug12_optimum():
    data = QAP.load("nug12")
    loc, info = robust_tabu(data, time_limit=20, seed=0, target=578)
    assert layout_cost(loc, data) == 578
    assert info["iterations"] > 0


def test_baseline_runs_and_never_beats_a_proven_optimum():
    data = QAP.load("nug12")
    ref = QAP.baseline(data, time_limit=0.5)
    assert QAP.validate(ref.answer, data).valid
    assert ref.objective >= 578


def test_exhaustive_baseline_and_exact_solve_agree_on_a_small_layout():
    data = QAP.generate(4, seed=2)
    run = QAP.run(data, backend="exact")
    assert run.validation.valid and run.baseline.status == "optimal"
    assert run.answer.objective == run.baseline.objective
    costs = [layout_cost(p, data) for p in itertools.permutations(range(4))]
    assert run.answer.objective == min(costs)
    assert layout_cost(exhaustive_qap(data), data) == min(costs)


def test_shared_qaplib_optima_hold_for_the_reader(shared_data):
    rows = list(csv.DictReader(open(shared_data / "qaplib" / "best_known.csv")))
    for row in rows:
        data = read_qaplib(shared_data / "qaplib" / f"{row['instance']}.dat")
        assert data.n == int(row["n"])
    nug12 = read_qaplib(shared_data / "qaplib" / "nug12.dat")
    assert layout_cost([p - 1 for p in NUG12_OPT], nug12) == 578


def test_validation_catches_a_non_permutation():
    data = QAP.generate(5, seed=0)
    twice = make_layout([0, 0, 2, 3, 4], data)
    errors = QAP.validate(twice, data).errors
    assert "location 0 holds 2 facilities" in errors and "location 1 holds no facility" in errors
    short = make_layout([0, 1, 2, 3], data)
    assert not QAP.validate(short, data).valid
    bad = make_layout([0, 1, 2, 3, -1], data)
    assert not QAP.validate(bad, data).valid
    good = make_layout([4, 3, 2, 1, 0], data)
    assert QAP.validate(good, data).valid
    good.objective += 1
    assert not QAP.validate(good, data).valid


def test_reader_and_data_errors(tmp_path):
    f = tmp_path / "cut.dat"
    f.write_text("3\n0 1 2\n1 0 3\n")
    with pytest.raises(InputFormatError, match="truncated"):
        read_qaplib(f)
    with pytest.raises(KakehashiError, match="same size"):
        QapData(np.ones((3, 3)), np.ones((4, 4)))
