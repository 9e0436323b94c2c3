"""Portfolio selection: data checks, validation of broken portfolios, exact optimum, SCIP
baseline, OR-Library reader."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

import kakehashi
from kakehashi.apps import AppDataError, get_use_case, use_case_names
from kakehashi.apps.portfolio import Portfolio, PortfolioData, portfolio_scores
from kakehashi.errors import InputFormatError

pytest.importorskip("pyscipopt")

PF = get_use_case("portfolio")


@pytest.fixture(scope="module")
def market():
    data = PF.generate(12, seed=3)
    return data, PF.baseline(data, time_limit=30)


def _with_lots(answer: Portfolio, lots) -> Portfolio:
    return dataclasses.replace(answer, lots=np.asarray(lots))


def test_registered_and_generator_seeded(market):
    data, _ = market
    assert "portfolio" in use_case_names()
    again = PF.generate(12, seed=3)
    assert np.array_equal(again.covariance, data.covariance)
    assert np.array_equal(again.expected_return, data.expected_return)
    assert data.max_assets == 4 and data.num_lots == 10
    assert np.linalg.eigvalsh(data.covariance).min() > 0


def test_baseline_is_optimal_and_valid(market):
    data, ref = market
    assert ref.status == "optimal"
    check = PF.validate(ref.answer, data)
    assert check.valid, check.errors
    assert check.objective == pytest.approx(ref.objective)
    assert ref.answer.lots.sum() == data.num_lots
    assert np.count_nonzero(ref.answer.lots) <= data.max_assets


def test_validation_catches_cardinality_budget_and_limits(market):
    data, ref = market
    spread = np.zeros(data.num_assets, dtype=np.int64)
    spread[: data.max_assets + 1] = 1
    spread[0] += data.num_lots - spread.sum()  # budget still met
    check = PF.validate(_with_lots(ref.answer, spread), data)
    assert not check.valid
    assert any("cardinality exceeded" in e for e in check.errors)
    assert any("outside 1.." in e for e in check.errors)  # asset 0 over its lot limit
    short = ref.answer.lots.copy()
    short[np.flatnonzero(short)[0]] -= 1
    errors = " | ".join(PF.validate(_with_lots(ref.answer, short), data).errors)
    assert "budget" in errors
    negative = ref.answer.lots.copy()
    negative[np.flatnonzero(negative == 0)[0]] = -1
    errors = " | ".join(PF.validate(_with_lots(ref.answer, negative), data).errors)
    assert "short position" in errors
    check = PF.validate(_with_lots(ref.answer, [1, 2]), data)
    assert not check.valid and check.objective is None


def test_scores():
    data = PortfolioData(
        ["a", "b"], [0.1, 0.2], [[0.04, 0.0], [0.0, 0.09]], 2, 2, risk_aversion=2.0
    )
    obj, ret, var = portfolio_scores(np.array([1, 1]), data)
    assert ret == pytest.approx(0.15)
    assert var == pytest.approx(0.25 * 0.04 + 0.25 * 0.09)
    assert obj == pytest.approx(2 * var - ret)


def test_exact_optimum_matches_exhaustive_and_scip():
    data = PF.generate(4, seed=7, num_lots=4, max_assets=2)
    problem = PF.build(data)
    result = kakehashi.solve(problem, backend="exact")
    answer = PF.decode(result, data)
    check = PF.validate(answer, data)
    assert check.valid, check.errors
    assert answer.objective == pytest.approx(result.objective)
    best = min(
        v.objective
        for lots in itertools.product(*(range(int(u) + 1) for u in data.max_lots))
        if (v := PF.validate(_with_lots(answer, lots), data)).valid
    )
    assert answer.objective == pytest.approx(best)
    ref = PF.baseline(data, time_limit=10)
    assert ref.status == "optimal" and ref.objective == pytest.approx(best, abs=1e-7)


def test_minimum_buy_in_is_respected():
    data = PF.generate(4, seed=7, num_lots=4, max_assets=2)
    data = dataclasses.replace(data, min_lots=2, max_lots=2)
    result = kakehashi.solve(PF.build(data), backend="exact")
    answer = PF.decode(result, data)
    assert PF.validate(answer, data).valid
    assert sorted(answer.lots.tolist()) == [0, 0, 2, 2]
    assert PF.validate(_with_lots(answer, [1, 1, 2, 0]), data).errors


def test_orlib_reader(tmp_path):
    path = tmp_path / "port0.txt"
    path.write_text(
        "3\n 0.004 0.04\n 0.002 0.02\n 0.003 0.05\n"
        "1 1 1.0\n1 2 0.3\n1 3 -0.1\n2 2 1.0\n2 3 0.2\n3 3 1.0\n"
    )
    data = PF.load(path)  # any path works, as for every use case
    assert data.assets == ["asset1", "asset2", "asset3"]
    assert data.covariance[0, 1] == pytest.approx(0.3 * 0.04 * 0.02)
    assert data.covariance[2, 0] == pytest.approx(-0.1 * 0.04 * 0.05)
    assert data.covariance[1, 1] == pytest.approx(0.02**2)
    assert data.max_assets == 3
    ref = PF.baseline(data, time_limit=10)
    assert PF.validate(ref.answer, data).valid
    bad = tmp_path / "bad.txt"
    bad.write_text("3\n0.1 0.2\n")
    with pytest.raises(InputFormatError, match="OR-Library"):
        PF.read(bad)


def test_bad_data_is_rejected_with_a_reason():
    base = {
        "assets": ["a", "b"],
        "expected_return": [0.1, 0.2],
        "covariance": [[0.04, 0.0], [0.0, 0.09]],
        "num_lots": 4,
        "max_assets": 2,
    }
    with pytest.raises(AppDataError, match="symmetric"):
        PortfolioData(**{**base, "covariance": [[0.04, 0.01], [0.0, 0.09]]})
    with pytest.raises(AppDataError, match="positive semidefinite"):
        PortfolioData(**{**base, "covariance": [[0.01, 0.1], [0.1, 0.01]]})
    with pytest.raises(AppDataError, match="cannot be invested"):
        PortfolioData(**{**base, "max_assets": 1, "max_lots": 2})
    with pytest.raises(AppDataError, match="min_lots <= max_lots"):
        PortfolioData(**{**base, "min_lots": 3, "max_lots": 2})
    with pytest.raises(AppDataError, match="expected_return must have"):
        PortfolioData(**{**base, "expected_return": [0.1]})


def test_model_and_independent_miqp_agree_on_a_mip_backend():
    if "scip" not in kakehashi.backend_names():
        pytest.skip("the 'scip' backend is not in this tree")
    data = PF.generate(8, seed=5)
    ref = PF.baseline(data, time_limit=20)
    assert ref.status == "optimal"
    result = kakehashi.solve(PF.build(data), backend="scip", time_limit=20, seed=0)
    answer = PF.decode(result, data)
    assert PF.validate(answer, data).valid
    assert answer.objective == pytest.approx(ref.objective, abs=1e-7)


def test_decode_reports_a_broken_one_hot_instead_of_repairing_it():
    from kakehashi.result import Result, Timing

    data = PF.generate(4, seed=7, num_lots=4, max_assets=2)
    problem = PF.build(data)
    choice = np.zeros((4, 3))
    choice[:, 0] = 1
    choice[0] = [0, 1, 1]  # asset 0 "holds" 1 and 2 lots at once: reads as 3 lots
    result = Result.from_samples(problem, choice.ravel(), backend="hand", timing=Timing(), seed=0)
    assert not result.feasible
    answer = PF.decode(result, data)
    assert answer.lots.tolist() == [3, 0, 0, 0]
    errors = " | ".join(PF.validate(answer, data).errors)
    assert "budget" in errors and "outside 1..2" in errors
