"""Unit commitment / VPP dispatch: data checks, validation of broken schedules, exact optimum
against the HiGHS MILP baseline."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import kakehashi
from kakehashi.apps import AppDataError, get_use_case, use_case_names
from kakehashi.apps.unit_commitment import UnitCommitmentData, dispatch_cost

pytest.importorskip("highspy")

UC = get_use_case("unit_commitment")


def tiny() -> UnitCommitmentData:
    """Two units over two hours, every part present; small enough to enumerate."""
    return UnitCommitmentData(
        units=["gas", "chp"],
        p_min_mw=[10, 10],
        p_max_mw=[30, 20],
        marginal_cost=[50.0, 30.0],
        no_load_cost=[20.0, 10.0],
        startup_cost=[100.0, 300.0],
        initially_on=[True, False],
        demand_mw=[30, 50],
        renewable_mw=[5.0, 12.0],
        storage_capacity_mwh=20,
        storage_power_mw=10,
        storage_initial_mwh=10,
        storage_cycle_cost=5.0,
        import_max_mw=10,
        import_price=[200.0, 250.0],
        step_mw=10,
    )


@pytest.fixture(scope="module")
def day():
    data = UC.generate(3, seed=4, horizon=12)
    return data, UC.baseline(data, time_limit=30)


def test_registered_and_generator_seeded(day):
    data, _ = day
    assert "unit_commitment" in use_case_names()
    again = UC.generate(3, seed=4, horizon=12)
    assert np.array_equal(again.demand_mw, data.demand_mw)
    assert np.array_equal(again.renewable_mw, data.renewable_mw)
    assert data.horizon == 12 and data.num_units == 3
    assert np.all(data.demand_mw % data.step_mw == 0)


def test_baseline_is_optimal_and_valid(day):
    data, ref = day
    assert ref.status == "optimal"
    check = UC.validate(ref.answer, data)
    assert check.valid, check.errors
    assert check.objective == pytest.approx(ref.objective)
    assert ref.bound == pytest.approx(ref.objective, rel=1e-6)


def test_validation_catches_unmet_demand(day):
    data, ref = day
    a = ref.answer
    g, t = np.argwhere(a.on & (a.output_mw > data.p_min_mw[:, None]))[0]
    out = a.output_mw.copy()
    out[g, t] -= data.step_mw
    check = UC.validate(dataclasses.replace(a, output_mw=out), data)
    assert not check.valid
    assert any(f"demand not met in hour {t}" in e for e in check.errors)


def test_validation_catches_physics_and_limits(day):
    data, ref = day
    a = ref.answer
    on = a.on.copy()
    g, t = np.argwhere(a.on)[0]
    on[g, t] = False  # output stays: producing while off
    soc = a.storage_mwh.copy()
    soc[-1] = -5.0  # impossible charge, below the final minimum, energy not adding up
    imp = a.import_mw.copy()
    imp[0] = data.import_max_mw + 100
    errors = " | ".join(
        UC.validate(dataclasses.replace(a, on=on, storage_mwh=soc, import_mw=imp), data).errors
    )
    assert f"is off in hour {t} but produces" in errors
    assert "battery energy does not add up" in errors
    assert "battery ends with" in errors
    assert "grid import in hour 0" in errors
    assert "over-supply in hour 0" in errors
    high = a.output_mw.copy()
    high[g, t] = data.p_max_mw[g] + 50
    errors = " | ".join(UC.validate(dataclasses.replace(a, output_mw=high), data).errors)
    assert "outside its range" in errors


def test_validation_rejects_wrong_shapes(day):
    data, ref = day
    check = UC.validate(dataclasses.replace(ref.answer, charge_mw=np.zeros(3)), data)
    assert not check.valid and check.objective is None


def test_exact_optimum_matches_highs():
    data = tiny()
    problem = UC.build(data)
    result = kakehashi.solve(problem, backend="exact")
    answer = UC.decode(result, data)
    check = UC.validate(answer, data)
    assert check.valid, check.errors
    assert answer.objective == pytest.approx(result.objective)  # model cost == domain cost
    ref = UC.baseline(data, time_limit=10)
    assert ref.status == "optimal"
    assert answer.objective == pytest.approx(ref.objective)


def test_start_up_cost_is_charged_once_per_start():
    data = tiny()
    ref = UC.baseline(data, time_limit=10).answer
    on = np.array([[False, True], [True, True]])
    manual = dataclasses.replace(ref, on=on)
    base = dispatch_cost(dataclasses.replace(ref, on=np.zeros_like(on)), data)
    extra = dispatch_cost(manual, data) - base
    # gas restarts in hour 1 (it ran before the horizon, so hour 0 off then on is one start);
    # chp starts in hour 0 and keeps running
    assert extra == pytest.approx(20 + 100 + 10 * 2 + 300)


def test_without_storage_or_import():
    data = UC.generate(2, seed=1, horizon=4)
    data = dataclasses.replace(
        data,
        storage_capacity_mwh=0.0,
        storage_power_mw=0.0,
        storage_initial_mwh=0.0,
        storage_final_min_mwh=0.0,
        import_max_mw=0.0,
    )
    problem = UC.build(data)
    assert {va.name for va in problem.var_arrays} == {"on", "extra", "renewable"}
    ref = UC.baseline(data, time_limit=10)
    assert UC.validate(ref.answer, data).valid


def test_model_and_independent_milp_agree_on_a_mip_backend(day):
    data, ref = day
    if "highs" not in kakehashi.backend_names():
        pytest.skip("the 'highs' backend is not in this tree")
    result = kakehashi.solve(UC.build(data), backend="highs", time_limit=30, seed=0)
    answer = UC.decode(result, data)
    assert UC.validate(answer, data).valid
    assert answer.objective == pytest.approx(ref.objective, rel=1e-6)


def test_bad_data_is_rejected_with_a_reason():
    fields = dataclasses.asdict(tiny())
    with pytest.raises(AppDataError, match="multiple of step_mw"):
        UnitCommitmentData(**{**fields, "demand_mw": [30, 45]})
    with pytest.raises(AppDataError, match="at most"):
        UnitCommitmentData(**{**fields, "demand_mw": [30, 500]})
    with pytest.raises(AppDataError, match="p_min_mw <= p_max_mw"):
        UnitCommitmentData(**{**fields, "p_min_mw": [40, 10]})
    with pytest.raises(AppDataError, match="expected 2"):
        UnitCommitmentData(**{**fields, "renewable_mw": [1.0]})
    with pytest.raises(AppDataError, match="exceed the capacity"):
        UnitCommitmentData(**{**fields, "storage_initial_mwh": 30})
