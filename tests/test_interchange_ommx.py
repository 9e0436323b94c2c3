"""Problem ↔ ommx.v1.Instance: lossless round trips, OMMX's own evaluation agrees, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ommx.v1 import Constraint, DecisionVariable, Instance, Linear, Quadratic

from kakehashi.errors import UnsupportedError
from kakehashi.model.io._random import random_problem, random_samples
from kakehashi.model.ommx_io import from_ommx, result_to_sampleset, to_ommx
from kakehashi.model.problem import BINARY, SPIN, Problem
from kakehashi.result import Result, Timing


def assert_same_problem(p: Problem, q: Problem, *, atol: float = 1e-12) -> None:
    assert q.var_arrays == p.var_arrays
    assert [(g.name, g.shape, g.start) for g in q.constraint_groups] == [
        (g.name, g.shape, g.start) for g in p.constraint_groups
    ]
    assert np.array_equal(q.vtype, p.vtype)
    assert np.array_equal(q.lower, p.lower) and np.array_equal(q.upper, p.upper)
    assert (q.sense, q.name) == (p.sense, p.name)
    assert np.allclose(q.A.toarray(), p.A.toarray(), atol=atol)
    assert np.allclose(q.lo, p.lo, atol=atol) and np.allclose(q.hi, p.hi, atol=atol)
    assert q.constant == pytest.approx(p.constant, abs=atol)
    assert np.allclose(q.linear, p.linear, atol=atol)
    assert np.allclose(q.quadratic.toarray(), p.quadratic.toarray(), atol=atol)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_round_trip_is_lossless_for_random_problems(seed):
    rng = np.random.default_rng(seed)
    p = random_problem(rng)
    q = from_ommx(to_ommx(p))
    assert_same_problem(p, q)
    X = random_samples(p, rng)
    ev_p, ev_q = p.evaluate(X), q.evaluate(X)
    assert np.allclose(ev_p["objective"], ev_q["objective"])
    assert np.array_equal(ev_p["feasible"], ev_q["feasible"])
    assert np.allclose(ev_p["violation"], ev_q["violation"])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_ommx_evaluates_like_kakehashi(seed):
    rng = np.random.default_rng(seed)
    p = random_problem(rng)
    instance = to_ommx(p)
    X = random_samples(p, rng, count=6)
    ev = p.evaluate(X)
    spin = p.vtype == SPIN
    for k, x in enumerate(X):
        b = np.where(spin, (x + 1) / 2, x)  # the documented map: s = 2b − 1
        solution = instance.evaluate({i: float(v) for i, v in enumerate(b)})
        assert solution.objective == pytest.approx(ev["objective"][k], abs=1e-9)
        assert solution.feasible == bool(ev["feasible"][k])


def test_names_and_subscripts_carry_the_arrays():
    rng = np.random.default_rng(3)
    p = random_problem(rng, higher_order=False)
    instance = to_ommx(p)
    for dv in instance.decision_variables:
        va = next(va for va in p.var_arrays if va.start <= dv.id < va.stop)
        assert dv.name == va.name
        expected = list(np.unravel_index(dv.id - va.start, va.shape)) if va.shape else []
        assert list(dv.subscripts) == expected


def test_spins_become_tagged_binaries():
    p = Problem.from_arrays(linear=[1.0, -2.0], quadratic=[[0.0, 3.0], [0.0, 0.0]], vtype="spin")
    instance = to_ommx(p)
    assert all(dv.kind == DecisionVariable.BINARY for dv in instance.decision_variables)
    assert all(dv.parameters == {"kakehashi.vtype": "spin"} for dv in instance.decision_variables)
    # s = 2b − 1: s = (−1, +1) is b = (0, 1)
    assert instance.evaluate({0: 0.0, 1: 1.0}).objective == p.objective_values([[-1, 1]])[0]
    assert from_ommx(instance).vtype.tolist() == [SPIN, SPIN]


def test_higher_order_terms_travel_as_polynomial():
    p = Problem.from_arrays(linear=[1.0, 0.0, 0.0])
    p.higher_order = {3: (np.array([[0, 1, 2]]), np.array([5.0]))}
    instance = to_ommx(p)
    assert instance.objective.degree() == 3
    q = from_ommx(instance)
    assert np.array_equal(q.higher_order[3][0], [[0, 1, 2]]) and q.higher_order[3][1].tolist() == [
        5.0
    ]


def test_one_hot_group_kind_survives():
    from kakehashi.model.problem import ConstraintGroup

    p = Problem.from_arrays(linear=[1.0, 2.0, 3.0], A=np.ones((1, 3)), lo=[1.0], hi=[1.0])
    p.constraint_groups = [ConstraintGroup("pick", (1,), 0, "one_hot")]
    assert from_ommx(to_ommx(p)).constraint_groups[0].kind == "one_hot"


def test_foreign_instance_names_become_arrays():
    x = [DecisionVariable.binary(i, name="x", subscripts=[i // 2, i % 2]) for i in range(4)]
    y = DecisionVariable.integer(10, lower=0, upper=5, name="speed")
    z = DecisionVariable.continuous(11, lower=-1, upper=1)  # unnamed
    objective = Linear(terms={0: 1, 3: 2, 10: 1, 11: -1}, constant=4)
    cons = [
        Constraint(
            function=Linear(terms={0: 1, 1: 1}, constant=-1),
            equality=Constraint.EQUAL_TO_ZERO,
            name="row",
            subscripts=[0],
        ),
        Constraint(
            function=Linear(terms={2: 1, 3: 1}, constant=-1),
            equality=Constraint.EQUAL_TO_ZERO,
            name="row",
            subscripts=[1],
        ),
        Constraint(
            function=Linear(terms={10: 1, 11: 2}, constant=-4),
            equality=Constraint.LESS_THAN_OR_EQUAL_TO_ZERO,
        ),
    ]
    instance = Instance.from_components(
        objective=objective,
        constraints=cons,
        sense=Instance.MAXIMIZE,
        decision_variables=[*x, y, z],
    )
    p = from_ommx(instance)
    assert [(va.name, va.shape) for va in p.var_arrays] == [
        ("x", (2, 2)),
        ("speed", ()),
        ("x_", (1,)),
    ]
    assert [(g.name, g.shape, g.kind) for g in p.constraint_groups] == [
        ("row", (2,), "one_hot"),
        ("c", (1,), "linear"),
    ]
    assert p.sense == "max"
    assert p.objective_values([[1, 0, 0, 1, 2, -1]])[0] == 1 + 2 + 2 + 1 + 4


def test_quadratic_constraint_is_refused_by_name():
    x = [DecisionVariable.binary(i) for i in range(2)]
    con = Constraint(
        function=Quadratic(columns=[1], rows=[0], values=[1.0]),
        equality=Constraint.LESS_THAN_OR_EQUAL_TO_ZERO,
        name="pair_limit",
        subscripts=[7],
    )
    instance = Instance.from_components(
        objective=Linear(terms={0: 1}),
        constraints=[con],
        sense=Instance.MINIMIZE,
        decision_variables=x,
    )
    with pytest.raises(UnsupportedError, match=r"pair_limit\[7\].*quadratic.*linearise"):
        from_ommx(instance)


def test_semi_integer_variable_is_refused_by_name():
    v = DecisionVariable.of_type(
        DecisionVariable.SEMI_INTEGER, 0, lower=2, upper=5, name="batch", subscripts=[1]
    )
    instance = Instance.from_components(
        objective=Linear(terms={0: 1}),
        constraints=[],
        sense=Instance.MINIMIZE,
        decision_variables=[v],
    )
    with pytest.raises(UnsupportedError, match=r"batch\[1\].*SEMI_INTEGER"):
        from_ommx(instance)


def test_result_to_sampleset_matches_problem_evaluation():
    rng = np.random.default_rng(11)
    p = random_problem(rng, higher_order=False)
    X = random_samples(p, rng, count=12)
    X = np.vstack([X, X[:3]])  # duplicates share one evaluation
    result = Result.from_samples(p, X, backend="test", timing=Timing(), seed=0)
    sampleset = result_to_sampleset(result)
    objectives = sampleset.objectives
    feasible = sampleset.feasible
    assert sorted(objectives) == list(range(len(X)))
    for k in range(len(X)):
        assert objectives[k] == pytest.approx(result.objectives[k], abs=1e-9)
        assert feasible[k] == bool(result.feasible_mask[k])
    assert result.to_ommx().objectives == objectives


def test_binary_problem_sampleset_best_feasible():
    p = Problem.from_arrays(linear=[1.0, 2.0], A=np.ones((1, 2)), lo=[1.0], hi=[1.0])
    assert p.vtype.tolist() == [BINARY, BINARY]
    result = Result.from_samples(
        p, np.array([[1, 0], [0, 1], [1, 1]]), backend="t", timing=Timing(), seed=1
    )
    sampleset = result.to_ommx()
    assert sampleset.best_feasible.objective == 1.0


def test_bulk_varint_codec_matches_protobuf():
    from ommx.v1 import quadratic_pb2

    from kakehashi.model.io._wire import decode_varints, encode_varints, read_fields

    rng = np.random.default_rng(0)
    values = np.concatenate(
        [[0, 1, 127, 128, 16383, 16384, 2**63 - 1], rng.integers(0, 2**62, 200), np.arange(300)]
    ).astype(np.int64)
    assert np.array_equal(decode_varints(encode_varints(values)), values)
    message = quadratic_pb2.Quadratic()
    message.rows.extend(values.tolist())
    [(field, wire, payload)] = read_fields(message.SerializeToString())
    assert (field, wire) == (1, 2)
    assert payload == encode_varints(values)
