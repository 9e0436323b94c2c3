"""The exact low-degree elimination: lifted states keep their energy, minima are preserved,
and the engines give the same answers with or without it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from kakehashi.engines import anneal, as_arrays, energies, exhaust, tabu, temper
from kakehashi.engines.presolve import eliminate_low_degree


def sparse_qubo(n: int, extra_edges: int, seed: int):
    """A random spanning tree (degrees 1-3, so chains and pendants) plus a few extra edges,
    with integer or real couplings."""
    rng = np.random.default_rng(seed)
    edges = {(int(rng.integers(i)), i) for i in range(1, n)}
    while len(edges) < n - 1 + extra_edges:
        i, j = sorted(rng.choice(n, 2, replace=False).tolist())
        edges.add((i, j))
    r, c = np.array(sorted(edges)).T
    w = rng.integers(-4, 5, r.size).astype(float) + (0.5 if seed % 2 else 0.0)
    J = sp.coo_matrix((np.r_[w, w], (np.r_[r, c], np.r_[c, r])), shape=(n, n)).tocsr()
    h = rng.integers(-4, 5, n).astype(float)
    return h, J, float(rng.normal())


def all_states(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.int8).reshape(2**n, n)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("extra", [0, 3, 8])
def test_lifted_states_keep_their_energy_and_the_minimum_is_kept(seed, extra):
    q = sparse_qubo(12, extra, seed)
    red = eliminate_low_degree(q)
    assert red is not None and red.reduced.n < 12
    Y = all_states(red.reduced.n)
    X = red.lift(Y)
    np.testing.assert_allclose(energies(red.original, X), energies(red.reduced, Y), atol=1e-9)
    # the best lifted state is a true minimum of the original problem
    assert energies(red.reduced, Y).min() == pytest.approx(exhaust(q).best_energy, abs=1e-9)
    np.testing.assert_array_equal(red.restrict(X), Y)


def test_a_tree_is_solved_outright_and_engines_return_its_minimum():
    q = sparse_qubo(14, 0, 3)
    red = eliminate_low_degree(q)
    assert red.reduced.n == 0 and red.eliminated == 14
    exact = exhaust(q).best_energy
    for run in (anneal, temper, tabu):
        res = run(q, seed=1, time_limit=1.0)
        assert res.best_energy == pytest.approx(exact, abs=1e-9)
        assert res.info["presolve"]["kept"] == 0
        assert res.trace[-1, 1] == pytest.approx(exact, abs=1e-9)


def test_dense_problems_have_nothing_to_eliminate():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(8, 8))
    J = sp.csr_matrix(np.triu(A, 1) + np.triu(A, 1).T)
    assert eliminate_low_degree((rng.normal(size=8), J)) is None
    assert "presolve" not in anneal((rng.normal(size=8), J), num_reads=2, seed=0).info


@pytest.mark.parametrize("run", [anneal, temper, tabu])
def test_engines_agree_with_and_without_presolve(run):
    q = sparse_qubo(18, 10, 5)
    exact = exhaust(q).best_energy
    on = run(q, seed=4, time_limit=2.0, target=exact)
    off = run(q, seed=4, time_limit=2.0, target=exact, presolve=False)
    assert on.best_energy == pytest.approx(exact) and off.best_energy == pytest.approx(exact)
    assert on.info["presolve"]["variables"] == 18 and "presolve" not in off.info
    assert on.samples.shape[1] == 18
    np.testing.assert_allclose(on.energies, energies(as_arrays(q), on.samples), atol=1e-9)


def test_presolved_runs_reproduce_and_take_initial_states():
    q = sparse_qubo(40, 25, 8)
    a = anneal(q, num_reads=4, num_sweeps=200, seed=9, threads=2)
    b = anneal(q, num_reads=4, num_sweeps=200, seed=9, threads=2)
    np.testing.assert_array_equal(a.samples, b.samples)
    start = np.zeros((2, 40), dtype=np.int8)
    res = tabu(q, initial_states=start, max_moves=500, seed=2)
    assert res.samples.shape[1] == 40 and res.info["presolve"]["kept"] < 40
    with pytest.raises(ValueError, match="40 columns"):
        tabu(q, initial_states=np.zeros((1, 39)), max_moves=10, seed=2)
