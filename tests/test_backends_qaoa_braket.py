"""`braket-local` on Braket's LocalSimulator (offline), cross-checked against Qiskit Aer;
`qaoa-braket` (AWS devices) only for its errors, raised before anything is sent."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("braket.devices")

import kakehashi
from kakehashi.backends import get_backend
from kakehashi.backends.qaoa.braket import LocalSimulatorEngine
from kakehashi.backends.qaoa.hamiltonian import IsingCost
from kakehashi.compile import compile_problem
from kakehashi.errors import BackendUnavailableError, KakehashiError, UnsupportedError
from kakehashi.model.problem import Problem


def test_braket_local_finds_the_maxcut_optimum_and_beats_random_guessing():
    problem = kakehashi.examples.small_maxcut()
    r = kakehashi.solve(problem, backend="braket-local", seed=2, reps=1, maxiter=12)
    assert r.objective == kakehashi.solve(problem, backend="exact").objective
    info = r.info["rounds"][0]
    assert info["engines"]["braket-local-simulator"]["exact_expectation"]
    assert info["optimiser"]["final_value"] < info["random_guess_energy"]
    assert info["sampled_mean_energy"] < info["random_guess_energy"]


def test_braket_and_qiskit_circuits_give_the_same_distribution():
    pytest.importorskip("qiskit_aer")
    from kakehashi.backends.qaoa.aer import AerEngine

    rng = np.random.default_rng(5)
    problem = Problem.from_arrays(
        linear=rng.normal(size=4), quadratic=sp.triu(rng.normal(size=(4, 4)), 1)
    )
    qubo = compile_problem(problem).qubo
    cost = IsingCost.from_qubo(qubo)
    params = np.array([0.4, 0.9, 0.8, 0.3])
    braket = LocalSimulatorEngine(cost, qubo, 2, max_memory=2**30)
    aer = AerEngine(cost, qubo, 2, method="statevector", seed=0)
    e_b, p_b = braket.distribution(params, shots=0, seed=0)
    e_a, p_a = aer.distribution(params, shots=0, seed=0)
    assert e_b @ p_b == pytest.approx(e_a @ p_a, abs=1e-9)
    # Braket indexes big-endian, Qiskit little-endian: reverse the bits to compare states
    rev = np.array([int(f"{k:04b}"[::-1], 2) for k in range(16)])
    np.testing.assert_allclose(p_b, p_a[rev], atol=1e-9)
    # the CNOT·RZ·CNOT form used on devices without a native ZZ is the same circuit
    braket.zz = False
    np.testing.assert_allclose(braket.probabilities(params), p_b, atol=1e-9)


def test_local_simulator_qubit_limit_is_enforced_before_running():
    problem = Problem.from_arrays(linear=np.ones(27), quadratic=sp.diags([1.0] * 26, 1))
    with pytest.raises(UnsupportedError, match="at most 26"):
        kakehashi.solve(problem, backend="braket-local", seed=0)


def test_aws_devices_need_an_arn_and_credentials(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    backend = get_backend("qaoa-braket")
    avail = backend.available()
    assert not avail and "AWS_ACCESS_KEY_ID" in avail.reason
    with pytest.raises(BackendUnavailableError, match="AWS_ACCESS_KEY_ID"):
        kakehashi.solve(kakehashi.examples.small_maxcut(), backend="qaoa-braket")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unused-test-key")
    with pytest.raises(KakehashiError, match="device=<a Braket device ARN>"):
        kakehashi.solve(
            kakehashi.examples.small_maxcut(), backend="qaoa-braket", device="ionq-aria"
        )


def test_device_qubit_limit_from_the_catalog_is_checked_before_connecting(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unused-test-key")
    thirty = Problem.from_arrays(linear=np.ones(30), quadratic=sp.diags([1.0] * 29, 1))
    aria = "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1"
    with pytest.raises(UnsupportedError, match=r"30 qubits; IonQ Aria .* at most 25"):
        kakehashi.solve(thirty, backend="qaoa-braket", device=aria, seed=0)
