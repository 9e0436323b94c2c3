"""Problem → Qubo → decode must preserve optima; encodings and weights behave."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import all_bitstrings, qubo_ground_states
from kakehashi.backends.base import SampleBatch
from kakehashi.backends.exact import ExactBackend
from kakehashi.backends.penalty_loop import adaptive_solve
from kakehashi.compile import Qubo, compile_problem
from kakehashi.compile.encode import log_coefficients
from kakehashi.model.problem import INTEGER, SPIN, ConstraintGroup, Problem, VarArray


def exhaustive_sampler(qubo, time_limit, seed):
    return SampleBatch(samples=qubo_ground_states(qubo))


def random_problem(
    seed: int,
    n: int = 6,
    m: int = 2,
    integer: bool = False,
    spin: bool = False,
    sense: str = "min",
    cubic: bool = False,
) -> Problem:
    rng = np.random.default_rng(seed)
    vt = np.zeros(n, dtype=np.int8)
    lower, upper = np.zeros(n), np.ones(n)
    if integer:
        vt[-2:] = INTEGER
        lower[-2:], upper[-2:] = -1, 3
    if spin:
        vt[0] = SPIN
        lower[0] = -1
    q = sp.random(n, n, density=0.5, random_state=rng, data_rvs=lambda k: rng.integers(-5, 6, k))
    A = sp.csr_matrix(rng.integers(-2, 3, size=(m, n)).astype(float))
    act = A @ rng.integers(0, 2, size=n)  # a feasible point exists for binaries
    kinds = rng.integers(0, 3, size=m)
    lo = np.where(kinds == 1, -np.inf, act)
    hi = np.where(kinds == 2, np.inf, act + (kinds == 1))
    ho = {}
    if cubic:
        bins = np.flatnonzero(vt != INTEGER)
        idx = np.stack([rng.choice(bins, 3, replace=False) for _ in range(3)])
        ho = {3: (idx, rng.integers(-4, 5, 3).astype(float))}
    return Problem(
        var_arrays=[VarArray("x", (n,), 0, 0)],
        lower=lower,
        upper=upper,
        vtype=vt,
        constant=1.5,
        linear=rng.integers(-5, 6, n).astype(float),
        quadratic=q,
        higher_order=ho,
        A=A,
        lo=lo,
        hi=hi,
        constraint_groups=[ConstraintGroup("c", (m,), 0)] if m else [],
        sense=sense,
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    integer=st.booleans(),
    spin=st.booleans(),
    sense=st.sampled_from(["min", "max"]),
    cubic=st.booleans(),
    m=st.integers(0, 2),
)
def test_qubo_optimum_is_problem_optimum(seed, integer, spin, sense, cubic, m):
    problem = random_problem(seed, m=m, integer=integer, spin=spin, sense=sense, cubic=cubic)
    exact = ExactBackend().solve(problem)
    if not exact.feasible:
        return  # random constraints with integers can be infeasible; nothing to compare
    run = adaptive_solve(problem, sampler=exhaustive_sampler, time_limit=60, seed=0, max_rounds=12)
    ev = problem.evaluate(run.samples)
    assert ev["feasible"].any()
    best = ev["objective"][ev["feasible"]]
    best = best.min() if sense == "min" else best.max()
    assert best == pytest.approx(exact.objective)


def test_unconstrained_energies_equal_objective():
    problem = random_problem(3, m=0, integer=True, spin=True, cubic=True)
    c = compile_problem(problem)
    Z = all_bitstrings(c.num_binaries)
    X = c.decode(Z)
    obj = problem.evaluate(X)["objective"]
    e = c.qubo.energies(Z)
    # with auxiliaries consistent (y = b_i b_j), energy equals objective; otherwise ≥
    assert np.all(e >= obj - 1e-9)
    assert e.min() == pytest.approx(obj.min())


def test_log_encoding_spans_exactly():
    for span in range(0, 40):
        c = log_coefficients(span)
        assert c.sum() == span
        reach = {int(v @ c) for v in all_bitstrings(c.size)} if c.size else {0}
        assert reach == set(range(span + 1))


@pytest.mark.parametrize("encoding", ["log", "unary"])
def test_integer_encoding_round_trip(encoding):
    problem = Problem.from_arrays(linear=[1.0, -1.0], vtype="integer", lower=[-3, 2], upper=[4, 9])
    c = compile_problem(problem, integer_encoding=encoding)
    X = c.decode(all_bitstrings(c.num_encoded))
    assert set(X[:, 0]) == set(range(-3, 5))
    assert set(X[:, 1]) == set(range(2, 10))
    grid = np.array([[a, b] for a in range(-3, 5) for b in range(2, 10)], dtype=float)
    assert np.array_equal(c.decode(c.encode(grid)), grid)


def test_inequality_slack_penalty_zero_exactly_when_feasible():
    # 3 x0 + 2 x1 + 4 x2 <= 5 and >= 2
    problem = Problem.from_arrays(
        linear=[0, 0, 0.0], A=sp.csr_matrix([[3, 2, 4.0]]), lo=[2], hi=[5]
    )
    c = compile_problem(problem)
    Z = all_bitstrings(c.num_binaries)
    e = c.qubo.energies(Z)
    X = c.decode(Z)
    feasible = problem.evaluate(X)["feasible"]
    # a feasible x has some slack with zero penalty; an infeasible one has none
    for x in np.unique(X, axis=0):
        rows = np.all(X == x, axis=1)
        assert (e[rows].min() == pytest.approx(0.0)) == bool(feasible[rows][0])


def test_weights_stay_bounded_on_large_coefficients():
    # objective coefficients ~1e6, like QOBLIB network instances: weights must scale with
    # the largest single-flip change, not with the sum of all coefficients
    rng = np.random.default_rng(0)
    n = 200
    lin = rng.uniform(1e5, 1e6, n)
    A = sp.csr_matrix(np.ones((1, n)))
    problem = Problem.from_arrays(linear=lin, A=A, lo=[10], hi=[10])
    c = compile_problem(problem)
    assert c.weights.max() <= 2 * lin.max()
    assert c.qubo.max_abs_coefficient() < 1e9


def test_weights_override_and_unknown_group():
    problem = Problem.from_arrays(
        linear=[1.0, 2.0], A=sp.csr_matrix([[1.0, 1.0]]), lo=[1], hi=[1], constraint_name="pick_one"
    )
    assert compile_problem(problem, weights={"pick_one": 7.0}).weight_map == {"pick_one": 7.0}
    with pytest.raises(Exception, match="unknown constraint groups"):
        compile_problem(problem, weights={"nope": 1.0})


def test_ising_round_trip():
    rng = np.random.default_rng(1)
    q = Qubo.from_upper(rng.normal(size=5), np.triu(rng.normal(size=(5, 5)), 1), 0.3)
    h, J, off = q.to_ising()
    back = Qubo.from_ising(h, J, off)
    X = all_bitstrings(5)
    S = 2 * X - 1
    ising_e = off + S @ h + 0.5 * np.einsum("ij,ij->i", (J @ S.T).T, S)
    assert np.allclose(q.energies(X), ising_e)
    assert np.allclose(back.energies(X), q.energies(X))


def test_impossible_constraint_is_named():
    problem = Problem.from_arrays(
        linear=[1.0, 1.0], A=sp.csr_matrix([[1.0, 1.0]]), lo=[3], hi=[4], constraint_name="too_many"
    )
    with pytest.raises(Exception, match=r"too_many\[0\] can never hold"):
        compile_problem(problem)


def test_at_most_one_rows_need_no_slack():
    # x0 + x1 <= 1 and x1 + x2 + x3 <= 1: pairwise penalties, zero exactly when satisfied
    A = sp.csr_matrix([[1, 1, 0, 0], [0, 1, 1, 1.0]])
    problem = Problem.from_arrays(linear=[-1.0, -1.0, -1.0, -1.0], A=A, lo=[-np.inf, 0], hi=[1, 1])
    c = compile_problem(problem)
    assert c.num_slack == 0 and c.at_most_one.all()
    Z = all_bitstrings(4)
    penalty = c.qubo.energies(Z) - problem.evaluate(Z)["objective"]
    feasible = problem.evaluate(Z)["feasible"]
    assert np.allclose(penalty[feasible], 0.0)
    assert np.all(penalty[~feasible] > 0)
