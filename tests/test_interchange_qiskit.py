"""Problem ↔ qiskit-optimization QuadraticProgram (the [qiskit] extra; skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

qiskit_optimization = pytest.importorskip("qiskit_optimization")

from kakehashi.errors import UnsupportedError  # noqa: E402
from kakehashi.model.io._random import random_problem, random_samples  # noqa: E402
from kakehashi.model.problem import BINARY, CONTINUOUS, INTEGER, Problem  # noqa: E402
from kakehashi.model.qiskit_io import from_quadratic_program, to_quadratic_program  # noqa: E402


def test_quadratic_program_to_problem():
    qp = qiskit_optimization.QuadraticProgram("plant")
    for i in range(2):
        for j in range(2):
            qp.binary_var(f"x[{i},{j}]")
    qp.integer_var(lowerbound=-1, upperbound=4, name="n")
    qp.continuous_var(lowerbound=0, upperbound=2.5, name="flow")
    qp.maximize(
        constant=3,
        linear={"x[0,0]": 1, "n": 2, "flow": -1},
        quadratic={("x[0,1]", "x[1,0]"): -2, ("n", "n"): 0.5},
    )
    qp.linear_constraint({"x[0,0]": 1, "x[0,1]": 1}, "==", 1, "row[0]")
    qp.linear_constraint({"x[1,0]": 1, "x[1,1]": 1}, "==", 1, "row[1]")
    qp.linear_constraint({"n": 1, "flow": 2}, ">=", 1, "cap")
    p = from_quadratic_program(qp)
    assert [(va.name, va.shape, va.vtype) for va in p.var_arrays] == [
        ("x", (2, 2), BINARY),
        ("n", (), INTEGER),
        ("flow", (), CONTINUOUS),
    ]
    assert [(g.name, g.shape, g.kind) for g in p.constraint_groups] == [
        ("row", (2,), "one_hot"),
        ("cap", (), "linear"),
    ]
    assert p.sense == "max" and p.name == "plant"
    x = np.array([[1, 0, 1, 0, 3, 0.5]])
    assert p.objective_values(x)[0] == 3 + 1 + 6 - 0.5 + 0.5 * 9
    assert p.evaluate(x)["feasible"][0]
    assert not p.evaluate(np.array([[1, 1, 1, 0, 0, 0.0]]))["feasible"][0]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_round_trip(seed):
    rng = np.random.default_rng(seed)
    p = random_problem(rng, vtypes=(BINARY, INTEGER, CONTINUOUS), higher_order=False)
    q = from_quadratic_program(to_quadratic_program(p))
    assert q.var_arrays == p.var_arrays and q.sense == p.sense
    assert [(g.name, g.shape) for g in q.constraint_groups] == [
        (g.name, g.shape) for g in p.constraint_groups
    ]
    X = random_samples(p, rng, count=16)
    ev_p, ev_q = p.evaluate(X), q.evaluate(X)
    assert np.allclose(ev_p["objective"], ev_q["objective"])
    assert np.array_equal(ev_p["feasible"], ev_q["feasible"])


def test_quadratic_constraint_and_spins_are_refused():
    qp = qiskit_optimization.QuadraticProgram()
    qp.binary_var("a")
    qp.binary_var("b")
    qp.quadratic_constraint(quadratic={("a", "b"): 1}, sense="<=", rhs=0, name="apart")
    with pytest.raises(UnsupportedError, match="apart"):
        from_quadratic_program(qp)
    with pytest.raises(UnsupportedError, match="spin"):
        to_quadratic_program(Problem.from_arrays(linear=[1.0], vtype="spin"))
