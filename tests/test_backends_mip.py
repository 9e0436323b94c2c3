"""scip, highs, cpsat: exact optima on the native constraints, bound and gap, linearisation."""

from __future__ import annotations

import dataclasses
import functools
import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import kakehashi
from kakehashi.backends import get_backend
from kakehashi.backends.mip import integer_scale, linearize
from kakehashi.errors import UnsupportedError
from kakehashi.model.problem import ConstraintGroup, Problem, VarArray

MIP = ["highs", "scip", "cpsat"]


@pytest.fixture(autouse=True)
def _need_mip_extra():
    for name in MIP:
        if not get_backend(name).available():
            pytest.skip(f"{name}: {get_backend(name).available().reason}")


def random_problem(n: int, seed: int, *, sense: str, vtype: str, constrained: bool) -> Problem:
    rng = np.random.default_rng(seed)
    q = sp.random(n, n, density=0.4, random_state=seed)
    q.data = rng.integers(-4, 5, q.nnz).astype(float)
    kw = {}
    if constrained:
        kw = dict(
            A=sp.csr_matrix(rng.integers(0, 3, (2, n)).astype(float)),
            lo=[1, -np.inf],
            hi=[np.inf, n // 2 + 1],
        )
    return Problem.from_arrays(
        linear=rng.integers(-5, 6, n).astype(float),
        quadratic=q,
        constant=3.5,
        sense=sense,
        vtype=vtype,
        **kw,
    )


def with_higher_order(p: Problem, terms: dict) -> Problem:
    fields = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}
    fields["higher_order"] = terms
    return Problem(**fields)


# ---------------------------------------------------------------------- known optima
@functools.cache
def exact_objective(name: str) -> float:
    problem = PROBLEMS[name]
    if name.startswith("assignment"):  # an independent check: the Hungarian method
        from scipy.optimize import linear_sum_assignment

        n = math.isqrt(problem.num_variables)
        cost = problem.linear.reshape(n, n)
        rows, cols = linear_sum_assignment(cost)
        return float(cost[rows, cols].sum())
    return kakehashi.solve(problem, backend="exact").objective


PROBLEMS = {
    p.name: p
    for p in (
        kakehashi.examples.small_maxcut(),
        kakehashi.examples.knapsack(12),
        kakehashi.examples.random_assignment(6),
    )
}


@pytest.mark.parametrize("backend", MIP)
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_exact_optimum_with_proof(backend, name):
    exact = exact_objective(name)
    r = kakehashi.solve(PROBLEMS[name], backend=backend, seed=3)
    assert r.feasible
    assert r.objective == pytest.approx(exact)
    assert r.info["status"] == "optimal"
    assert r.info["bound"] == pytest.approx(exact)
    assert r.info["gap"] == 0.0
    assert r.timing.solve > 0 and r.timing.total >= r.timing.solve


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("sense", "vtype", "constrained"),
    [("min", "binary", True), ("max", "binary", True), ("min", "spin", False)],
)
def test_random_problems_match_exhaustive_search(seed, sense, vtype, constrained):
    p = random_problem(9, seed, sense=sense, vtype=vtype, constrained=constrained)
    exact = kakehashi.solve(p, backend="exact").objective
    for backend in MIP:
        r = kakehashi.solve(p, backend=backend, seed=0)
        assert r.objective == pytest.approx(exact), backend
        assert r.info["bound"] == pytest.approx(exact), backend
        if vtype == "spin":
            assert set(np.unique(r.best_sample)) <= {-1.0, 1.0}


def test_higher_order_binary_products_are_linearised():
    p = Problem.from_arrays(linear=[1.0, -1, 1, -2])
    p = with_higher_order(
        p, {3: (np.array([[0, 1, 2], [1, 2, 3], [0, 0, 3]]), np.array([-5.0, 3.0, -2.0]))}
    )
    exact = kakehashi.solve(p, backend="exact").objective
    for backend in MIP:
        r = kakehashi.solve(p, backend=backend)
        assert r.objective == pytest.approx(exact), backend
        assert r.info["linearized_products"] == 3


def test_integer_products_scip_and_cpsat_natively_highs_refuses():
    p = Problem.from_arrays(
        linear=[1.0, -2, 3],
        quadratic=sp.csr_matrix([[0, 1, 0], [0, 2, -1], [0, 0, 0]]),
        vtype="integer",
        lower=-2,
        upper=3,
    )
    exact = kakehashi.solve(p, backend="exact").objective
    for backend in ("scip", "cpsat"):
        assert kakehashi.solve(p, backend=backend).objective == pytest.approx(exact), backend
    with pytest.raises(UnsupportedError, match="'scip'"):
        kakehashi.solve(p, backend="highs")


def mixed_problem() -> Problem:
    """min x0 + 0.5 c − 3 b·c, c ∈ [−1, 2] continuous, s.t. b + c ≤ 2.5.
    b = 0: c = −1 gives −0.5; b = 1: −2.5 c with c ≤ 1.5 gives −3.75 (the optimum)."""
    return Problem(
        var_arrays=[VarArray("x0", (), 0, 0), VarArray("b", (), 1, 0), VarArray("c", (), 2, 3)],
        lower=np.array([0.0, 0.0, -1.0]),
        upper=np.array([1.0, 1.0, 2.0]),
        vtype=np.array([0, 0, 3]),
        constant=0.0,
        linear=np.array([1.0, 0.0, 0.5]),
        quadratic=sp.csr_matrix(np.array([[0, 0, 0], [0, 0, -3.0], [0, 0, 0]])),
        higher_order={},
        A=sp.csr_matrix([[0.0, 1.0, 1.0]]),
        lo=np.array([-np.inf]),
        hi=np.array([2.5]),
        constraint_groups=[ConstraintGroup("cap", (), 0)],
    )


def test_binary_times_continuous_is_linearised_exactly_for_highs():
    p = mixed_problem()
    for backend in ("highs", "scip"):
        r = kakehashi.solve(p, backend=backend)
        assert r.feasible and r.objective == pytest.approx(-3.75, abs=1e-6), backend
        assert r.solution["b"] == 1 and float(r.solution["c"]) == pytest.approx(1.5, abs=1e-6)
    with pytest.raises(UnsupportedError, match="continuous"):
        kakehashi.solve(p, backend="cpsat")


# ---------------------------------------------------------------------- bound, gap, limits
def test_bound_and_gap_are_consistent_at_a_time_limit():
    p = random_problem(16, 11, sense="min", vtype="binary", constrained=False)
    exact = kakehashi.solve(p, backend="exact").objective
    for backend in MIP:
        r = kakehashi.solve(p, backend=backend, time_limit=0.05, seed=1)
        info = r.info
        assert info["time_limit"] == 0.05
        assert info["status"] in ("optimal", "time_limit", "no_solution"), backend
        if info["bound"] is not None:
            assert info["bound"] <= exact + 1e-6, backend  # a valid lower bound
        if r.num_samples:
            assert r.objective >= exact - 1e-6
            if info["status"] == "optimal":
                assert info["gap"] == 0.0
            elif info["bound"] is not None:
                assert info["gap"] == pytest.approx(
                    abs(r.objective - info["bound"]) / abs(r.objective)
                )


@pytest.mark.parametrize("backend", MIP)
def test_infeasible_problems_say_so_without_samples(backend):
    p = Problem.from_arrays(
        linear=[1.0, 1.0],
        A=sp.csr_matrix([[1.0, 1.0], [1.0, 1.0]]),
        lo=[2, -np.inf],
        hi=[np.inf, 1],
    )
    r = kakehashi.solve(p, backend=backend)
    assert r.status == "infeasible" and r.info["status"] == "infeasible"
    assert r.num_samples == 0 and r.info["gap"] is None


@pytest.mark.parametrize("backend", MIP)
def test_variables_in_no_term_get_a_feasible_value(backend):
    p = Problem.from_arrays(linear=[1.0, 0.0, -1.0], vtype="integer", lower=[1, 2, -3], upper=4)
    r = kakehashi.solve(p, backend=backend)
    assert r.feasible and r.objective == -3.0
    assert r.best_sample.tolist() == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("backend", MIP)
def test_unknown_options_are_refused(backend):
    with pytest.raises(UnsupportedError, match="does not take the option 'num_reads'"):
        kakehashi.solve(kakehashi.examples.knapsack(5), backend=backend, num_reads=10)


# ---------------------------------------------------------------------- cpsat scaling
def test_cpsat_scales_rational_coefficients_exactly():
    p = Problem.from_arrays(
        linear=[0.5, 1 / 3, -0.25], A=sp.csr_matrix([[0.1, 0.2, 0.3]]), lo=[0.25], hi=[np.inf]
    )
    r = kakehashi.solve(p, backend="cpsat")
    assert r.objective == pytest.approx(kakehashi.solve(p, backend="exact").objective)
    assert r.info["objective_scale"] == 12


def test_integer_scale():
    assert integer_scale(np.array([2.0, -4.0]), what="x") == 1
    assert integer_scale(np.array([0.1, 0.7, 1.3]), what="x") == 10
    assert integer_scale(np.array([1 / 3, 1 / 7]), what="x") == 21
    rng = np.random.default_rng(0)
    with pytest.raises(UnsupportedError, match="row 7 has coefficient"):
        integer_scale(rng.normal(size=40), what="row 7")


# ---------------------------------------------------------------------- linearisation
def test_linearisation_preserves_the_objective_on_every_assignment():
    p = random_problem(6, 5, sense="min", vtype="spin", constrained=False)
    p = with_higher_order(p, {3: (np.array([[0, 2, 4], [1, 3, 5]]), np.array([2.0, -1.5]))})
    lin = linearize(p, keep_quadratic=False)
    assert lin.problem.quadratic.nnz == 0 and not lin.problem.higher_order
    n = p.num_variables
    B = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(float)  # binaries
    # the auxiliaries take the products their constraints force
    Z = np.zeros((B.shape[0], lin.num_products))
    link = lin.problem.A[p.num_constraints :]
    for t in range(lin.num_products):
        rows = link[:, n + t].nonzero()[0]
        factors = np.unique(link[rows][:, :n].nonzero()[1])
        Z[:, t] = B[:, factors].prod(axis=1)
    X = np.hstack([B, Z])
    ev = lin.problem.evaluate(X)
    assert ev["feasible"].all()
    spins = 2 * B - 1
    assert np.allclose(ev["objective"], p.objective_values(spins))
    assert np.array_equal(lin.restore(X), spins)


def test_bulk_row_adapter_builds_the_same_lp_as_the_stock_adapter():
    from ommx_highs_adapter import OMMXHighsAdapter

    from kakehashi.backends.mip import _bulk_rows_adapter
    from kakehashi.model.ommx_io import to_ommx

    p = random_problem(8, 2, sense="max", vtype="binary", constrained=True)
    instance = to_ommx(linearize(p, keep_quadratic=False).problem)
    stock = OMMXHighsAdapter(instance).solver_input.getLp()
    bulk = _bulk_rows_adapter(OMMXHighsAdapter)(instance).solver_input.getLp()
    assert bulk.num_row_ == stock.num_row_ > 0
    for attr in ("row_lower_", "row_upper_", "col_cost_", "col_lower_", "col_upper_"):
        assert np.array_equal(np.asarray(getattr(bulk, attr)), np.asarray(getattr(stock, attr)))
    for attr in ("start_", "index_", "value_"):
        a, b = getattr(bulk.a_matrix_, attr), getattr(stock.a_matrix_, attr)
        assert np.array_equal(np.asarray(a), np.asarray(b)), attr


# ---------------------------------------------------------------------- estimate, extras
def test_estimate_uses_the_time_limit():
    est = get_backend("scip").estimate(kakehashi.examples.knapsack(8), time_limit=7)
    assert est.seconds == 7 and est.money > 0 and est.energy_joules > 0


@pytest.mark.parametrize(
    "modules",
    ["ommx_highs_adapter", "ommx_pyscipopt_adapter", "ortools.sat.python.cp_model"],
)
def test_each_mip_package_imports_on_its_own(modules):
    out = subprocess.run(
        [sys.executable, "-c", f"import {modules}"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
