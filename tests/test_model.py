"""kakehashi.Model: variables, constraints, the Problem it produces, and its error messages."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kakehashi import Model
from kakehashi.errors import KakehashiError, ModelError
from kakehashi.model.problem import BINARY, CONTINUOUS, INTEGER, SPIN


# ---------------------------------------------------------------------- variables
def test_variable_arrays_become_problem_arrays():
    m = Model("vars")
    m.binary("x", shape=(2, 3))
    m.spin("s", shape=4)
    m.integer("k", shape=(2,), lower=[0, -3], upper=5)
    m.continuous("y", lower=0.5)
    m.constrain(m["x"].sum() + m["k"].sum() + m["y"] >= 1)
    p = m.to_problem()
    assert [(v.name, v.shape, v.start, v.vtype) for v in p.var_arrays] == [
        ("x", (2, 3), 0, BINARY),
        ("s", (4,), 6, SPIN),
        ("k", (2,), 10, INTEGER),
        ("y", (), 12, CONTINUOUS),
    ]
    np.testing.assert_array_equal(p.lower, [0] * 6 + [-1] * 4 + [0, -3, 0.5])
    np.testing.assert_array_equal(p.upper, [1] * 6 + [1] * 4 + [5, 5, np.inf])
    assert p.flat_name(11) == "k[1]"
    assert set(m.variables) == {"x", "s", "k", "y"}
    assert "x" in repr(m) and "binary" in repr(m["x"])


# ---------------------------------------------------------------------- constraints
def test_group_constraints_have_names_shapes_and_rows():
    n = 3
    m = Model()
    x = m.binary("x", shape=(n, n))
    w = np.arange(1.0, n + 1)
    assert m.constrain(x.sum(axis=1) == 1, name="rows") == "rows"
    m.constrain(x @ w <= 4, name="weighted")
    m.constrain(x[0, 0] + x[1, 1] >= 1, name="pick")
    m.constrain_range(x.sum(axis=0), 0, np.array([1, 2, 3]), name="cols")
    m.minimize(x.sum())
    p = m.to_problem()
    groups = [(g.name, g.shape, g.start, g.kind) for g in p.constraint_groups]
    assert groups == [
        ("rows", (3,), 0, "one_hot"),  # detected: Σ x = 1 over binaries
        ("weighted", (3,), 3, "linear"),
        ("pick", (), 6, "linear"),
        ("cols", (3,), 7, "linear"),
    ]
    np.testing.assert_array_equal(p.A[3].toarray().ravel(), [1, 2, 3, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(p.lo, [1, 1, 1, -np.inf, -np.inf, -np.inf, 1, 0, 0, 0])
    np.testing.assert_array_equal(p.hi, [1, 1, 1, 4, 4, 4, np.inf, 1, 2, 3])
    assert p.constraint_name(8) == "cols[1]"


def test_constants_move_to_the_right_hand_side():
    m = Model()
    x = m.binary("x", 2)
    m.constrain(x[0] + 3 == 2 * x[1] + 1, name="c")  # x0 - 2 x1 == -2
    m.constrain(5 <= 2 + x.sum(), name="d")  # reflected comparison: x0 + x1 >= 3
    p = m.to_problem()
    np.testing.assert_array_equal(p.A.toarray(), [[1, -2], [1, 1]])
    np.testing.assert_array_equal(p.lo, [-2, 3])
    np.testing.assert_array_equal(p.hi, [-2, np.inf])


def test_feasibility_is_judged_per_row():
    """A 2x2 assignment: feasible exactly on permutation matrices."""
    m = Model()
    x = m.binary("x", (2, 2))
    m.one_hot(x, axis=1, name="r")
    m.one_hot(x, axis=0, name="c")
    m.minimize(x[0, 1] + x[1, 0])
    p = m.to_problem()
    X = np.array(list(itertools.product([0, 1], repeat=4)), dtype=float)
    ev = p.evaluate(X)
    feasible = {tuple(int(v) for v in row) for row in X[ev["feasible"]]}
    assert feasible == {(1, 0, 0, 1), (0, 1, 1, 0)}
    assert [g.kind for g in p.constraint_groups] == ["one_hot", "one_hot"]


def test_knapsack_brute_force():
    rng = np.random.default_rng(3)
    values, weights = rng.integers(1, 20, 8).astype(float), rng.integers(1, 10, 8).astype(float)
    cap = weights.sum() / 2
    m = Model("knapsack")
    take = m.binary("take", 8)
    m.maximize(values @ take)
    m.constrain(weights @ take <= cap, name="capacity")
    p = m.to_problem()
    X = np.array(list(itertools.product([0, 1], repeat=8)), dtype=float)
    ev = p.evaluate(X)
    want_feasible = X @ weights <= cap
    np.testing.assert_array_equal(ev["feasible"], want_feasible)
    np.testing.assert_allclose(ev["objective"], X @ values)
    assert p.sense == "max"


def test_tsp_compiles_to_a_qubo_whose_feasible_energies_are_tour_lengths():
    from kakehashi.compile import compile_problem

    n = 5
    d = np.random.default_rng(0).random((n, n))
    m = Model("tsp")
    x = m.binary("x", (n, n))
    m.minimize(((x @ d) * x.roll(-1, axis=0)).sum())
    m.one_hot(x, axis=1, name="one_city_per_step")
    m.one_hot(x, axis=0, name="one_step_per_city")
    compiled = compile_problem(m.to_problem())
    for perm in itertools.islice(itertools.permutations(range(n)), 10):
        X = np.zeros((n, n))
        X[np.arange(n), perm] = 1
        length = d[list(perm), np.roll(perm, -1)].sum()
        assert compiled.qubo.energies(X.ravel())[0] == pytest.approx(length)
    # an infeasible assignment pays a penalty above the objective
    X = np.zeros((n, n))
    X[:, 0] = 1
    obj = np.einsum("ij,ki,kj->", d, X, np.roll(X, -1, axis=0))
    assert compiled.qubo.energies(X.ravel())[0] > obj


def test_to_ommx_round_trip():
    ommx_io = pytest.importorskip("kakehashi.model.ommx_io")
    m = Model()
    x = m.binary("x", (2, 2))
    m.minimize((np.array([[1.0, 2], [3, 4]]) * x).sum() + x[0, 0] * x[1, 1])
    m.one_hot(x, axis=1, name="rows")
    instance = m.to_ommx()
    back = ommx_io.from_ommx(instance)
    X = np.array(list(itertools.product([0, 1], repeat=4)), dtype=float)
    np.testing.assert_allclose(
        back.evaluate(X)["objective"], m.to_problem().evaluate(X)["objective"]
    )


# ---------------------------------------------------------------------- errors
def _raises(fn, *fragments):
    with pytest.raises(ModelError) as info:
        fn()
    assert isinstance(info.value, KakehashiError)
    msg = str(info.value)
    for f in fragments:
        assert f in msg, msg
    return msg


def test_error_variable_name_used_twice():
    m = Model("m")
    m.binary("x", 2)
    _raises(lambda: m.spin("x", 3), "'x' is already used", "its own name")


def test_error_constraint_from_another_model():
    a, b = Model("a"), Model("b")
    xa = a.binary("x", 2)
    b.binary("x", 2)
    _raises(lambda: b.constrain(xa.sum() == 1), "model 'a'", "not of model 'b'")
    _raises(lambda: b.minimize(xa.sum()), "model 'a'")
    _raises(lambda: xa + b["x"], "model 'a' and model 'b'")


def test_error_broadcast_mismatch_names_both_shapes():
    m = Model()
    x = m.binary("x", (3, 4))
    _raises(lambda: x + np.ones(3), "(3, 4)", "(3,)", "broadcast")
    _raises(lambda: x * m.binary("y", (2, 4)), "(3, 4)", "(2, 4)")
    _raises(lambda: x @ np.ones((3, 2)), "(3, 4)", "(3, 2)")


def test_error_quadratic_constraint():
    m = Model()
    x = m.binary("x", 3)
    _raises(
        lambda: m.constrain(x[0] * x[1] <= 1, name="q"),
        "not linear",
        "linear constraints only",
        "penalty",
    )
    # a product that folds to something linear is fine: x0 * x0 = x0 for binaries
    m.constrain(x[0] * x[0] <= 1, name="ok")


def test_error_empty_models():
    _raises(lambda: Model("e").to_problem(), "no variables", "m.binary")
    m = Model("e")
    m.binary("x", 2)
    _raises(m.to_problem, "neither an objective nor constraints", "m.minimize")
    m.minimize(3.0)
    with pytest.raises(ModelError, match="empty"):
        m.to_problem()


def test_error_misc_inputs():
    m = Model()
    x = m.binary("x", 3)
    _raises(lambda: m.integer("k", 2), "need finite bounds", "lower=")
    _raises(lambda: m.integer("k", 2, lower=3, upper=1), "k[0]", "lower bound 3 > upper bound 1")
    _raises(lambda: m.minimize(x), "scalar", ".sum()")
    _raises(lambda: m.constrain(x.sum()), "takes a comparison")
    _raises(lambda: 0 <= x.sum() <= 2, "constrain_range")
    _raises(lambda: 1 / x, "cannot divide")
    _raises(lambda: x / 0, "zero")
    _raises(lambda: x**0.5, "integer powers")
    _raises(lambda: x * np.array([1, np.nan, 2]), "NaN")
    _raises(lambda: x + None, "NoneType")
    _raises(lambda: x < 1, "<=")
    _raises(lambda: m.one_hot(2 * x), "binary variables")
    _raises(lambda: m.one_hot(m.integer("k", 2, lower=0, upper=1)), "binary variables")
    _raises(lambda: m.constrain(x.sum() * 0 == 0, name="void"), "no variables")
    m.constrain(x.sum() == 1, name="c")
    _raises(lambda: m.constrain(x[0] == 0, name="c"), "'c' is already used")
    _raises(lambda: m["nope"], "no variable array 'nope'", "x")
    _raises(lambda: m.binary("bad", (2, -1)), "negative")
    _raises(lambda: np.linalg.norm(x), "does not work on kakehashi expressions")
    sq = m.binary("sq", (2, 2))
    _raises(lambda: np.einsum("ii->i", sq), "repeated index")
    _raises(lambda: np.einsum("...i->i", sq), "'...'")
    _raises(lambda: np.einsum("ij,jk->ik", sq, np.ones((3, 2))), "index 'j' has size 2")
    _raises(lambda: x.evaluate(np.zeros(4)), "expected (9,)")  # x, k and sq from above


def test_docstring_examples_run():
    """The examples in Model's and Expr's docstrings are true."""
    import doctest

    import kakehashi.model.expr
    import kakehashi.model.model

    for module in (kakehashi.model.model, kakehashi.model.expr):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, module.__name__
