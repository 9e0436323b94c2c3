"""Shift rostering: data checks, validation of broken rosters, exact optimum, CP-SAT baseline."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import kakehashi
from kakehashi.apps import AppDataError, get_use_case, use_case_names
from kakehashi.apps.rostering import Roster, RosteringData, longest_run

pytest.importorskip("ortools")

ROSTERING = get_use_case("rostering")


@pytest.fixture(scope="module")
def week():
    """A generated week for 8 employees and its CP-SAT roster (valid by the test below)."""
    data = ROSTERING.generate(8, seed=11)
    return data, ROSTERING.baseline(data, time_limit=20)


def _broken(roster: Roster, works: np.ndarray) -> Roster:
    return Roster(0.0, works, roster.employees, roster.shifts)


def test_registered():
    assert "rostering" in use_case_names()
    assert ROSTERING.sense == "min" and ROSTERING.baseline_tool == "OR-Tools CP-SAT"


def test_generator_is_seeded_and_feasible(week):
    data, ref = week
    again = ROSTERING.generate(8, seed=11)
    assert np.array_equal(again.demand, data.demand)
    assert np.array_equal(again.preference_cost, data.preference_cost)
    assert data.demand.shape == (7, 3) and data.demand.sum() > 0
    assert ref.status == "optimal"
    check = ROSTERING.validate(ref.answer, data)
    assert check.valid, check.errors
    assert check.objective == pytest.approx(ref.objective)


def test_validation_catches_under_covered_shift(week):
    data, ref = week
    works = ref.answer.works.copy()
    e, d, s = np.argwhere(works)[0]
    works[e, d, s] = False
    check = ROSTERING.validate(_broken(ref.answer, works), data)
    assert not check.valid
    assert any("under-covered" in err for err in check.errors)


def test_validation_catches_broken_rest_rule(week):
    data, ref = week
    late, early = data.shifts.index("late"), data.shifts.index("early")
    works = ref.answer.works.copy()
    works[0, :, :] = False
    works[0, 0, late] = works[0, 1, early] = True
    check = ROSTERING.validate(_broken(ref.answer, works), data)
    assert any("rest rule broken" in err and "day 0" in err for err in check.errors)


def test_validation_catches_double_shift_unavailability_and_long_runs(week):
    data, ref = week
    works = np.zeros_like(ref.answer.works)
    works[1, :, 0] = True  # seven early shifts in a row
    works[1, 2, 1] = True  # and a second shift on day 2
    data_blocked = ROSTERING.generate(8, seed=11)
    data_blocked.available[1, 3, 0] = False
    errors = " | ".join(ROSTERING.validate(_broken(ref.answer, works), data_blocked).errors)
    assert "more than one shift on day 2" in errors
    assert "7 days in a row" in errors
    assert "not available" in errors
    assert "the contract says" in errors
    assert "over-staffed" not in errors or data.max_overstaffing == 0


def test_validation_rejects_wrong_shape(week):
    data, ref = week
    check = ROSTERING.validate(_broken(ref.answer, ref.answer.works[:, :3]), data)
    assert not check.valid and check.objective is None


def _tiny() -> RosteringData:
    return ROSTERING.generate(2, seed=5, num_days=3, shifts=("early", "late"))


def _brute_force(data: RosteringData) -> float:
    """Cheapest roster by trying every assignment, checked with validate() alone."""
    E, D, S = data.available.shape
    best = np.inf
    for choice in itertools.product(range(S + 1), repeat=E * D):  # S means "off"
        works = np.zeros((E, D, S), dtype=bool)
        for k, s in enumerate(choice):
            if s < S:
                works[k // D, k % D, s] = True
        check = ROSTERING.validate(Roster(0.0, works, data.employees, data.shifts), data)
        if check.valid:
            best = min(best, check.objective)
    return best


def test_exact_solve_matches_brute_force_and_cp_sat():
    data = _tiny()
    problem = ROSTERING.build(data)
    assert problem.num_variables == 18  # 2 employees x 3 days x (2 shifts + off)
    result = kakehashi.solve(problem, backend="exact")
    answer = ROSTERING.decode(result, data)
    check = ROSTERING.validate(answer, data)
    assert check.valid, check.errors
    assert answer.objective == pytest.approx(result.objective)
    optimum = _brute_force(data)
    assert answer.objective == pytest.approx(optimum)
    ref = ROSTERING.baseline(data, time_limit=10)
    assert ref.status == "optimal" and ref.objective == pytest.approx(optimum)


def test_overstaffing_allowance_and_run_pipeline():
    data = _tiny()
    data.max_overstaffing = 1
    run = ROSTERING.run(data, backend="exact", seed=0, baseline_time_limit=10)
    assert run.validation.valid
    assert run.answer.objective == pytest.approx(run.baseline.objective)
    assert run.gap == 0.0
    assert "use case   rostering" in run.summary()


def test_bad_data_is_rejected_with_a_reason():
    data = _tiny()
    with pytest.raises(AppDataError, match="shape"):
        RosteringData(
            data.employees,
            data.shifts,
            3,
            data.demand[:2],
            data.available,
            data.preference_cost,
            data.min_shifts,
            data.max_shifts,
        )
    with pytest.raises(AppDataError, match="unknown shifts"):
        RosteringData(
            data.employees,
            data.shifts,
            3,
            data.demand,
            data.available,
            data.preference_cost,
            data.min_shifts,
            data.max_shifts,
            forbidden_successions=[("night", "early")],
        )
    nobody = np.zeros_like(data.available)
    with pytest.raises(AppDataError, match="only 0 employees are available"):
        RosteringData(
            data.employees,
            data.shifts,
            3,
            data.demand + 1,
            nobody,
            data.preference_cost,
            data.min_shifts,
            data.max_shifts,
        )
    with pytest.raises(AppDataError):
        ROSTERING.generate(0)


def test_longest_run():
    assert longest_run(np.array([0, 1, 1, 1, 0, 1], bool)) == 3
    assert longest_run(np.zeros(4, bool)) == 0


def test_model_and_independent_cp_sat_agree_on_a_mip_backend(week):
    data, ref = week
    if "highs" not in kakehashi.backend_names():
        pytest.skip("the 'highs' backend is not in this tree")
    result = kakehashi.solve(ROSTERING.build(data), backend="highs", time_limit=30, seed=0)
    answer = ROSTERING.decode(result, data)
    assert ROSTERING.validate(answer, data).valid
    assert answer.objective == pytest.approx(ref.objective)
