"""Problem ↔ dimod BQM / CQM / BinaryPolynomial: same energies, same feasibility, clear errors."""

from __future__ import annotations

import dimod
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from kakehashi.errors import UnsupportedError
from kakehashi.model.dimod_io import from_dimod, to_bqm, to_cqm
from kakehashi.model.io._random import random_problem, random_samples
from kakehashi.model.problem import BINARY, SPIN, Problem


def _spin_problem(seed: int, sense: str = "min") -> Problem:
    rng = np.random.default_rng(seed)
    return Problem.from_arrays(
        linear=rng.integers(-3, 4, 6),
        quadratic=np.triu(rng.integers(-3, 4, (6, 6))),
        constant=2.0,
        vtype="spin",
        sense=sense,
    )


@pytest.mark.parametrize("vtype", ["binary", "spin"])
@pytest.mark.parametrize("sense", ["min", "max"])
def test_bqm_energies_are_the_objective(vtype, sense):
    rng = np.random.default_rng(5)
    p = Problem.from_arrays(
        linear=rng.integers(-3, 4, 6),
        quadratic=rng.integers(-3, 4, (6, 6)),  # diagonal included: x² = x, s² = 1
        constant=1.5,
        vtype=vtype,
        sense=sense,
    )
    bqm = to_bqm(p)
    assert bqm.vartype is (dimod.SPIN if vtype == "spin" else dimod.BINARY)
    assert list(bqm.variables) == [f"x[{i}]" for i in range(6)]
    values = (-1.0, 1.0) if vtype == "spin" else (0.0, 1.0)
    X = np.array(values)[rng.integers(0, 2, (40, 6))]
    sign = -1.0 if sense == "max" else 1.0
    assert np.allclose(bqm.energies((X, list(bqm.variables))), sign * p.objective_values(X))
    back = from_dimod(bqm)
    assert back.var_arrays == p.var_arrays
    assert np.allclose(back.objective_values(X), sign * p.objective_values(X))


def test_mixed_spin_and_binary_needs_a_vartype():
    p = _spin_problem(1)
    p.vtype[:3] = BINARY
    p.lower[:3] = 0
    p.var_arrays = [
        type(p.var_arrays[0])("b", (3,), 0, BINARY),
        type(p.var_arrays[0])("s", (3,), 3, SPIN),
    ]
    with pytest.raises(UnsupportedError, match="vartype="):
        to_bqm(p)
    bqm = to_bqm(p, vartype="BINARY")
    assert bqm.vartype is dimod.BINARY
    rng = np.random.default_rng(0)
    X = np.hstack([rng.integers(0, 2, (20, 3)), rng.choice([-1.0, 1.0], (20, 3))]).astype(float)
    B = X.copy()
    B[:, 3:] = (B[:, 3:] + 1) / 2  # s = 2b − 1
    assert np.allclose(bqm.energies((B, list(bqm.variables))), p.objective_values(X))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: setattr(p, "A", sp.csr_matrix(np.ones((1, 6)))), "constraints"),
        (lambda p: p.vtype.__setitem__(0, 2), "integer or continuous"),
        (
            lambda p: setattr(p, "higher_order", {3: (np.array([[0, 1, 2]]), np.array([1.0]))}),
            "degree 3",
        ),
    ],
)
def test_bqm_refuses_what_it_cannot_hold(change, message):
    p = _spin_problem(2)
    change(p)
    if p.A.shape[0]:
        p.lo, p.hi = np.array([0.0]), np.array([1.0])
    with pytest.raises(UnsupportedError, match=message):
        to_bqm(p)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_cqm_round_trip_and_feasibility(seed):
    rng = np.random.default_rng(seed)
    p = random_problem(rng, higher_order=False, continuous_quadratic=False)
    cqm = to_cqm(p)
    q = from_dimod(cqm)
    assert q.var_arrays == p.var_arrays
    assert [(g.name, g.shape) for g in q.constraint_groups] == [
        (g.name, g.shape) for g in p.constraint_groups
    ]
    assert np.allclose(q.A.toarray(), p.A.toarray())
    assert np.array_equal(q.lo, p.lo) and np.array_equal(q.hi, p.hi)
    X = random_samples(p, rng, count=16)
    sign = -1.0 if p.sense == "max" else 1.0
    ev_p, ev_q = p.evaluate(X), q.evaluate(X)
    assert np.allclose(ev_q["objective"], sign * ev_p["objective"])
    assert np.array_equal(ev_q["feasible"], ev_p["feasible"])
    labels = p.variable_names()
    for k in range(4):
        sample = dict(zip(labels, X[k], strict=True))
        assert cqm.objective.energy(sample) == pytest.approx(sign * ev_p["objective"][k])
        assert cqm.check_feasible(sample, atol=1e-9) == bool(ev_p["feasible"][k])


def test_cqm_ranged_row_is_split_and_merged():
    p = Problem.from_arrays(
        linear=[1.0, 1.0], A=np.array([[1.0, 2.0]]), lo=[1.0], hi=[2.0], constraint_name="cap"
    )
    cqm = to_cqm(p)
    assert list(cqm.constraints) == ["cap[0]", "cap[0]#lower"]
    q = from_dimod(cqm)
    assert (q.lo.tolist(), q.hi.tolist()) == ([1.0], [2.0])


def test_cqm_with_quadratic_or_soft_constraint_is_refused():
    cqm = dimod.ConstrainedQuadraticModel()
    x, y = dimod.Binaries(["x", "y"])
    cqm.set_objective(x + y)
    cqm.add_constraint(x * y <= 0, label="no_pair")
    with pytest.raises(UnsupportedError, match=r"no_pair.*quadratic"):
        from_dimod(cqm)
    soft = dimod.ConstrainedQuadraticModel()
    soft.set_objective(x + y)
    soft.add_constraint(x + y >= 1, label="wish", weight=2.0)
    with pytest.raises(UnsupportedError, match="soft"):
        from_dimod(soft)


def test_cqm_integers_bounds_and_one_hot():
    cqm = dimod.ConstrainedQuadraticModel()
    i = dimod.Integer("i", lower_bound=-2, upper_bound=7)
    a, b, c = dimod.Binaries(["pick[0]", "pick[1]", "pick[2]"])
    cqm.set_objective(2 * i * i - 3 * i + a + 2 * b + 3 * c)
    cqm.add_discrete(["pick[0]", "pick[1]", "pick[2]"], label="one")
    p = from_dimod(cqm)
    assert [(va.name, va.shape) for va in p.var_arrays] == [("i", ()), ("pick", (3,))]
    assert (p.lower[0], p.upper[0]) == (-2.0, 7.0)
    assert p.constraint_groups[0].kind == "one_hot"
    assert p.objective_values([[2, 0, 1, 0]])[0] == 8 - 6 + 2


def test_integer_labels_and_tuple_labels():
    bqm = dimod.BinaryQuadraticModel({2: 1.0, 0: -1.0, 1: 0.5}, {(0, 2): 3.0}, 0.0, "BINARY")
    p = from_dimod(bqm)
    assert [(va.name, va.shape) for va in p.var_arrays] == [("x", (3,))]
    assert p.linear.tolist() == [-1.0, 0.5, 1.0]
    tup = dimod.BinaryQuadraticModel({("y", 0, 1): 1.0, ("y", 0, 0): 2.0}, {}, 0.0, "SPIN")
    assert [(va.name, va.shape) for va in from_dimod(tup).var_arrays] == [("y", (1, 2))]


def test_binary_polynomial_keeps_higher_order_terms():
    poly = dimod.BinaryPolynomial(
        {("a", "b", "c"): 2.0, ("a",): 1.0, (): 3.0, ("b", "c"): -1.0}, "SPIN"
    )
    p = from_dimod(poly)
    assert p.max_degree == 3 and p.vtype.tolist() == [SPIN] * 3
    S = np.array([[1, 1, 1], [-1, 1, -1], [1, -1, 1]], dtype=float)
    labels = [va.name for va in p.var_arrays]
    for s in S:
        assert p.objective_values(s[None])[0] == poly.energy(dict(zip(labels, s, strict=True)))
