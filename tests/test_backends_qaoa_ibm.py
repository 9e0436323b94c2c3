"""`qaoa-ibm` offline: qiskit-ibm-runtime's fake devices, a real transpile to their basis
gates and coupling maps, and their noise models on Aer. No network: the hardware path is
checked only for its credential and size errors, raised before anything is sent."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("qiskit_ibm_runtime")
pytest.importorskip("qiskit_aer")

import kakehashi
from kakehashi.backends import get_backend
from kakehashi.backends.qaoa.hamiltonian import IsingCost
from kakehashi.backends.qaoa.ibm import RuntimeEngine, fake_backend
from kakehashi.compile import compile_problem
from kakehashi.errors import BackendUnavailableError, KakehashiError, UnsupportedError
from kakehashi.model.problem import Problem


def test_fake_sherbrooke_run_is_transpiled_for_the_device_and_finds_the_optimum():
    problem = kakehashi.examples.small_maxcut()
    r = kakehashi.solve(problem, backend="qaoa-ibm", device="fake_sherbrooke", seed=3, shots=2000)
    assert r.objective == kakehashi.solve(problem, backend="exact").objective
    info = r.info["rounds"][0]
    dev = info["engines"]["ibm:fake_sherbrooke"]
    assert dev["fake_device"] and dev["device_qubits"] == 127
    # the transpiled circuit uses only the device's basis gates (ECR, not RZZ)
    assert set(dev["transpiled_ops"]) - {"barrier"} <= set(dev["basis_gates"])
    assert "ecr" in dev["transpiled_ops"] and "rzz" not in dev["transpiled_ops"]
    assert len(dev["physical_qubits"]) == problem.num_variables
    assert info["shots"] == 2000 and len(dev["job_ids"]) == 1
    assert info["optimised_on"] == "aer-statevector"  # angles found locally, for free
    assert r.timing.queue == 0.0 and r.timing.vendor["local_simulation_seconds"] > 0


def test_two_qubit_gates_follow_the_coupling_map():
    qubo = compile_problem(kakehashi.examples.small_maxcut()).qubo
    device = fake_backend("FakeBrisbane")
    engine = RuntimeEngine(
        IsingCost.from_qubo(qubo), qubo, 1, device=device, fake=True, seed=1, max_memory=2**30
    )
    edges = set(map(tuple, device.coupling_map.get_edges()))
    pairs = [
        tuple(engine.isa.find_bit(q).index for q in inst.qubits)
        for inst in engine.isa.data
        if inst.operation.num_qubits == 2 and inst.operation.name != "barrier"
    ]
    assert pairs and all(p in edges for p in pairs)


def test_optimising_on_the_noisy_fake_device_sends_one_job_per_step():
    r = kakehashi.solve(
        kakehashi.examples.small_maxcut(),
        backend="qaoa-ibm",
        device="fake_manila",
        optimize_on="device",
        reps=1,
        maxiter=5,
        eval_shots=256,
        seed=4,
    )
    info = r.info["rounds"][0]
    assert info["optimised_on"] == info["sampled_on"] == "ibm:fake_manila"
    assert info["circuit_executions"] == info["optimiser"]["evaluations"] + 1
    assert len(info["engines"]["ibm:fake_manila"]["job_ids"]) == info["circuit_executions"]
    assert r.feasible


def test_device_errors_are_clear_and_early(monkeypatch):
    maxcut = kakehashi.examples.small_maxcut()
    with pytest.raises(KakehashiError, match="needs device="):
        kakehashi.solve(maxcut, backend="qaoa-ibm")
    with pytest.raises(UnsupportedError, match="fake_sherbrooke"):
        kakehashi.solve(maxcut, backend="qaoa-ibm", device="fake_sherbroke")
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    avail = get_backend("qaoa-ibm").available()
    assert avail and "QISKIT_IBM_TOKEN" in avail.reason  # fake devices still work
    with pytest.raises(BackendUnavailableError, match="QISKIT_IBM_TOKEN"):
        kakehashi.solve(maxcut, backend="qaoa-ibm", device="ibm_brisbane")


def test_more_qubits_than_the_device_has_is_refused():
    rng = np.random.default_rng(0)
    six = Problem.from_arrays(linear=rng.normal(size=6), quadratic=sp.triu(np.ones((6, 6)), 1))
    with pytest.raises(UnsupportedError, match="6 qubits but fake_manila has 5"):
        kakehashi.solve(six, backend="qaoa-ibm", device="fake_manila")


def test_estimate_counts_jobs_and_max_cost_refuses_before_sending(monkeypatch):
    from kakehashi.errors import BudgetError

    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    backend = get_backend("qaoa-ibm")
    maxcut = kakehashi.examples.small_maxcut()
    one = backend.estimate(maxcut, device="ibm_brisbane")
    on_device = backend.estimate(maxcut, device="ibm_brisbane", optimize_on="device", maxiter=10)
    assert one.tasks == 1 and on_device.tasks == 11  # 10 optimiser jobs + the final sampling
    assert on_device.money > one.money > 0
    constrained = backend.estimate(kakehashi.examples.random_assignment(3), device="ibm_brisbane")
    assert constrained.tasks == 8  # one job per possible penalty round: an upper bound
    # refused on price before the missing token or the network would matter
    with pytest.raises(BudgetError, match="nothing was sent"):
        kakehashi.solve(maxcut, backend="qaoa-ibm", device="ibm_brisbane", max_cost=0.5)
