"""QAOA core (Hamiltonian, schedule, optimiser) and `qaoa-aer` on Qiskit Aer.

Problems stay at ≤ 9 qubits; every run is seeded, so sampled results are reproducible.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("qiskit_aer")

import kakehashi
from conftest import all_bitstrings
from kakehashi.backends.qaoa.aer import choose_method
from kakehashi.backends.qaoa.circuit import counts_to_samples, linear_ramp
from kakehashi.backends.qaoa.core import draw_shots, statevector_bytes
from kakehashi.backends.qaoa.hamiltonian import IsingCost, cvar
from kakehashi.compile import compile_problem
from kakehashi.compile.qubo import Qubo
from kakehashi.errors import BudgetError, KakehashiError
from kakehashi.model.problem import Problem


def random_qubo_problem(n: int, seed: int, density: float = 1.0) -> Problem:
    rng = np.random.default_rng(seed)
    upper = sp.triu(rng.integers(-4, 5, size=(n, n)) * (rng.random((n, n)) < density), k=1)
    return Problem.from_arrays(linear=rng.integers(-3, 4, size=n), quadratic=upper, name="rq")


def test_ising_cost_reproduces_every_qubo_energy():
    qubo = compile_problem(random_qubo_problem(6, seed=1)).qubo
    cost = IsingCost.from_qubo(qubo)
    X = all_bitstrings(6)  # row k has bit i = (k >> i) & 1: Qiskit's little-endian index
    np.testing.assert_allclose(cost.diagonal(), qubo.energies(X))
    big = X[:, ::-1]  # Braket's big-endian index: qubit 0 is the most significant bit
    np.testing.assert_allclose(cost.diagonal(big_endian=True), qubo.energies(big))
    op = cost.to_sparse_pauli_op()
    np.testing.assert_allclose(np.diag(op.to_matrix()).real, qubo.energies(X))
    # random guessing scores the offset on average
    assert cost.offset == pytest.approx(qubo.energies(X).mean())


def test_cvar_and_schedule_and_bit_orders():
    e, p = np.array([3.0, 1.0, 2.0]), np.array([0.5, 0.25, 0.25])
    assert cvar(e, p, 1.0) == pytest.approx(2.25)
    assert cvar(e, p, 0.25) == pytest.approx(1.0)
    assert cvar(e, p, 0.5) == pytest.approx(1.5)
    np.testing.assert_allclose(linear_ramp(3, 1.2)[:3], [0.2, 0.6, 1.0])
    X, c = counts_to_samples({"110": 2, "001": 5}, 3)  # Qiskit: rightmost bit is qubit 0
    assert X.tolist() == [[0, 1, 1], [1, 0, 0]] and c.tolist() == [2, 5]
    X, c = draw_shots(np.array([0, 0, 1.0, 0]), 7, 2, seed=0, big_endian=True)
    assert X.tolist() == [[1, 0]] and c.tolist() == [7]


def test_qaoa_aer_beats_random_guessing_and_finds_the_maxcut_optimum():
    problem = kakehashi.examples.small_maxcut()
    r = kakehashi.solve(problem, backend="qaoa-aer", seed=7, reps=2)
    assert r.objective == kakehashi.solve(problem, backend="exact").objective
    info = r.info["rounds"][0]
    assert info["engines"]["aer-statevector"]["exact_expectation"]
    opt = info["optimiser"]
    assert opt["final_value"] <= opt["start_value"]
    # a working QAOA concentrates probability on low energies: its exact expectation and
    # the mean of its samples both beat uniform random guessing clearly
    assert opt["final_value"] < info["random_guess_energy"] - 1.0
    assert info["sampled_mean_energy"] < info["random_guess_energy"] - 1.0


def test_qaoa_aer_on_eight_variables_matches_exact_and_is_reproducible():
    problem = random_qubo_problem(8, seed=3)
    exact = kakehashi.solve(problem, backend="exact")
    a = kakehashi.solve(problem, backend="qaoa-aer", seed=5, reps=2, shots=2048, maxiter=60)
    b = kakehashi.solve(problem, backend="qaoa-aer", seed=5, reps=2, shots=2048, maxiter=60)
    # the optimum is among the samples (seeded: deterministic), and QAOA puts far more
    # weight on it than uniform guessing (1/256) would
    assert a.objective == exact.objective
    info = a.info["rounds"][0]
    assert info["best_sample_probability"] > 0.1
    assert info["sampled_mean_energy"] < info["random_guess_energy"]
    np.testing.assert_array_equal(a.samples, b.samples)
    assert a.info["rounds"][0]["angles"] == b.info["rounds"][0]["angles"]


def test_qaoa_aer_constrained_problem_through_the_penalty_loop():
    problem = kakehashi.examples.random_assignment(3)
    exact = kakehashi.solve(problem, backend="exact")
    r = kakehashi.solve(problem, backend="qaoa-aer", seed=1, reps=1, maxiter=40)
    assert r.feasible and r.objective == exact.objective


def test_matrix_product_state_method_runs_and_samples():
    problem = kakehashi.examples.small_maxcut()
    r = kakehashi.solve(
        problem, backend="qaoa-aer", seed=2, method="matrix_product_state", maxiter=20
    )
    info = r.info["rounds"][0]
    assert info["engines"]["aer-matrix-product-state"]["max_bond_dimension"] == 64
    assert r.objective == -5.0


def chain_cost(n: int, dense: bool = False) -> IsingCost:
    upper = sp.triu(np.ones((n, n)), k=1) if dense else sp.diags([1.0] * (n - 1), 1, (n, n))
    return IsingCost.from_qubo(Qubo.from_upper(np.zeros(n), upper))


def test_method_choice_follows_memory_and_sparsity():
    assert statevector_bytes(30) == 16 * 2**30
    assert choose_method(chain_cost(10), max_memory=2**30) == "statevector"
    assert choose_method(chain_cost(40), max_memory=2**30) == "matrix_product_state"
    with pytest.raises(BudgetError, match=r"16 TiB.*dense"):
        choose_method(chain_cost(40, dense=True), max_memory=2**30)
    with pytest.raises(BudgetError, match=r"32 GiB .*16·2\^31"):
        choose_method(chain_cost(31), method="statevector", max_memory=2**30)
    with pytest.raises(BudgetError, match="beyond the 100-qubit"):
        choose_method(chain_cost(120), max_memory=2**30)


def test_too_large_problem_is_refused_before_simulating():
    problem = random_qubo_problem(36, seed=0)  # dense: no cheaper simulation than 2^36
    with pytest.raises(BudgetError, match=r"36 qubits need 1 TiB .*4 GiB allowed"):
        kakehashi.solve(problem, backend="qaoa-aer", seed=0, max_memory="4GiB")


def test_bad_options_are_named():
    with pytest.raises(KakehashiError, match="unknown option"):
        kakehashi.solve(kakehashi.examples.small_maxcut(), backend="qaoa-aer", layers=2)
    with pytest.raises(KakehashiError, match="reps"):
        kakehashi.solve(kakehashi.examples.small_maxcut(), backend="qaoa-aer", reps=0)
    with pytest.raises(KakehashiError, match="initial_params has 3 angles"):
        kakehashi.solve(
            kakehashi.examples.small_maxcut(), backend="qaoa-aer", initial_params=[0.1] * 3
        )
