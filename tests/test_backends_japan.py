"""Japan's machines: Amplify SDK clients (Fujitsu DA, Toshiba SQBM+, Hitachi, Fixstars AE)
and Fujitsu Quantum Cloud — offline through the vendors' own SDK facilities, no network."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import kakehashi
from kakehashi import examples
from kakehashi.errors import BackendUnavailableError, KakehashiError, UnsupportedError

amplify = pytest.importorskip("amplify")
from kakehashi.backends import amplify_machines as am_mod  # noqa: E402
from kakehashi.backends.amplify_model import to_amplify  # noqa: E402

CREDENTIAL_VARS = (
    "AMPLIFY_TOKEN",
    "FUJITSU_DA_TOKEN",
    "TOSHIBA_SQBM_URL",
    "TOSHIBA_SQBM_TOKEN",
    "HITACHI_TOKEN",
)


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch, tmp_path):
    # tests must never reach a vendor: no tokens, and an empty Fujitsu Quantum login folder
    for var in CREDENTIAL_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FUJITSU_QUANTUM_HOME", str(tmp_path / "fqc"))


def _all_assignments(n: int) -> np.ndarray:
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def _request_energy(terms: list[dict], z_req: np.ndarray) -> np.ndarray:
    """Evaluate a DA4 request polynomial ({"c", "p"} terms) on 0/1 rows."""
    out = np.zeros(z_req.shape[0])
    for t in terms:
        idx = t["p"]
        out += t["c"] * (np.prod(z_req[:, idx], axis=1) if idx else 1.0)
    return out


def _da4_request(problem, tmp_path):
    path, am, dry = am_mod.build_request(problem, "fujitsu-da", tmp_path / "da4.json")
    return json.loads(path.read_text()), am, am_mod.request_indices(dry, am)


def _to_request_space(X_bits: np.ndarray, indices: np.ndarray) -> np.ndarray:
    width = int(indices.max()) + 1
    Z = np.zeros((X_bits.shape[0], width))
    sent = indices >= 0
    Z[:, indices[sent]] = X_bits[:, sent]
    return Z


def test_da4_request_keeps_the_knapsack_inequality_native(tmp_path):
    problem = examples.knapsack(6)
    req, _am, indices = _da4_request(problem, tmp_path)
    # the capacity row travels as the machine's own inequality, not as penalty terms
    assert len(req["inequalities"]) == 1
    assert "penalty_binary_polynomial" not in req
    # the objective polynomial is the problem's objective (minimisation form) on every x
    X = _all_assignments(problem.num_variables)
    energy = _request_energy(req["binary_polynomial"]["terms"], _to_request_space(X, indices))
    expected = -problem.evaluate(X)["objective"]  # knapsack maximises
    np.testing.assert_allclose(energy, expected, atol=1e-9)


def test_da4_request_one_hot_penalty_vanishes_exactly_on_feasible_assignments(tmp_path):
    problem = examples.random_assignment(3, seed=2)
    req, _am, indices = _da4_request(problem, tmp_path)
    X = _all_assignments(problem.num_variables)
    Z = _to_request_space(X, indices)
    penalty = _request_energy(req["penalty_binary_polynomial"]["terms"], Z)
    feasible = problem.evaluate(X)["feasible"]
    assert feasible.sum() == 6  # 3! permutations
    np.testing.assert_allclose(penalty[feasible], 0.0, atol=1e-9)
    assert np.all(penalty[~feasible] > 0)


def test_da4_response_in_the_documented_format_decodes_to_the_optimum(tmp_path):
    problem = examples.knapsack(6)
    _req, am, indices = _da4_request(problem, tmp_path)
    exact = kakehashi.solve(problem, backend="exact", seed=0)
    bits = np.asarray(am.compiled.encode(exact.samples[[exact.best_index]]))[:, : am.num_bits]
    worse = np.zeros_like(bits)
    config = {str(int(k)): bool(b) for k, b in zip(indices, bits[0], strict=True) if k >= 0}
    empty = {str(int(k)): False for k in indices if k >= 0}
    response = {
        "status": "Done",
        "qubo_solution": {
            "result_status": True,
            "solutions": [
                {"energy": -1.0, "penalty_energy": 0.0, "frequency": 2, "configuration": config},
                {"energy": 0.0, "penalty_energy": 0.0, "frequency": 1, "configuration": empty},
            ],
            "timing": {"solve_time": "1500", "total_elapsed_time": "2100"},
        },
    }
    X, vendor = am_mod.decode_da4_response(response, indices, am)
    assert X.shape == (3, problem.num_variables)  # frequencies expand
    ev = problem.evaluate(X)
    assert ev["feasible"].all()
    assert ev["objective"][0] == pytest.approx(exact.objective)
    assert ev["objective"][2] == pytest.approx(problem.evaluate(worse)["objective"][0])
    assert vendor == {"da_solve_time_seconds": 1.5, "da_total_elapsed_time_seconds": 2.1}
    with pytest.raises(KakehashiError, match="qubo_solution"):
        am_mod.decode_da4_response({"status": "Error"}, indices, am)


def test_integer_and_spin_variables_travel_as_kakehashi_bits(tmp_path):
    m = kakehashi.Model("mixed")
    n = m.integer("n", lower=0, upper=5)
    s = m.spin("s", shape=(2,))
    m.minimize((n - 3) * (n - 3) + s[0] * s[1] + s[0])
    problem = m.to_problem()
    req, am, indices = _da4_request(problem, tmp_path)
    assert am.num_bits == 3 + 2  # log encoding of [0, 5] and one bit per spin
    Zb = _all_assignments(am.num_bits)
    energy = _request_energy(req["binary_polynomial"]["terms"], _to_request_space(Zb, indices))
    np.testing.assert_allclose(energy, problem.evaluate(am.decode(Zb))["objective"], atol=1e-9)


def test_sqbm_and_hitachi_requests_are_written_offline(tmp_path):
    problem = examples.small_maxcut()
    path, _am, _dry = am_mod.build_request(problem, "toshiba-sqbm", tmp_path / "sqbm.h5")
    assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"  # SQBM+ takes an HDF5 QUBO
    path, _am, dry = am_mod.build_request(problem, "hitachi", tmp_path / "hitachi.json")
    req = json.loads(path.read_text())
    assert req["model"]  # Ising terms on the King's graph, placed by the SDK's embedding
    assert dry.embedding is not None


def test_amplify_ae_request_cannot_be_built_offline(tmp_path):
    with pytest.raises(UnsupportedError, match="contacts the AE server"):
        am_mod.build_request(examples.small_maxcut(), "amplify-ae", tmp_path / "ae.json")


def test_vendor_parameters_are_checked_by_name_before_anything_is_sent(tmp_path):
    problem = examples.knapsack(6)
    with pytest.raises(KakehashiError, match="num_run"):
        am_mod.build_request(problem, "fujitsu-da", tmp_path / "x.json", num_runs=4)
    path, _am, _dry = am_mod.build_request(
        problem, "fujitsu-da", tmp_path / "ok.json", num_run=4, num_group=2
    )
    assert path.exists()


def test_size_limits_refuse_before_translation_is_sent(tmp_path):
    big = examples.small_maxcut()
    machine = am_mod.HitachiBackend()
    machine.info = type(machine.info)(**{**machine.info.__dict__, "max_variables": 2})
    with pytest.raises(UnsupportedError, match="at most 2"):
        machine.check_translation(to_amplify(big))


@pytest.mark.parametrize("name", ["amplify-ae", "fujitsu-da", "toshiba-sqbm", "hitachi"])
def test_runs_are_refused_without_credentials(name):
    backend = kakehashi.backends.get_backend(name)
    avail = backend.available()
    assert not avail and "not set" in avail.reason
    with pytest.raises(BackendUnavailableError, match="export"):
        kakehashi.solve(examples.knapsack(6), backend=name, time_limit=1, seed=0)


# ---------------------------------------------------------------------- Fujitsu Quantum Cloud
fq = pytest.importorskip("fujitsu_quantum")
from kakehashi.backends.qaoa import fujitsu as fqc  # noqa: E402

SVSIM_INFO = {
    "deviceId": "SVSim",
    "deviceType": "simulator",
    "status": "available",
    "nPendingTasks": 0,
    "nQubits": 39,
    "basisGates": [
        "x",
        "y",
        "z",
        "h",
        "s",
        "sdg",
        "t",
        "tdg",
        "rx",
        "ry",
        "rz",
        "cx",
        "cz",
        "swap",
        "u1",
        "u2",
        "u3",
        "u",
        "p",
        "id",
        "sx",
        "sxdg",
    ],
    "supportedInstructions": ["measure", "barrier"],
    "description": "state-vector simulator",
    "descriptionHeading": "SVSim",
    "fetchedAt": "2026-01-01 00:00:00",
}


def _cost_and_qubo():
    from kakehashi.backends.qaoa.hamiltonian import IsingCost
    from kakehashi.compile.compiler import compile_problem

    qubo = compile_problem(examples.small_maxcut()).qubo
    return IsingCost.from_qubo(qubo), qubo


def test_fujitsu_sampling_request_is_built_by_the_sdk(tmp_path):
    cost, _qubo = _cost_and_qubo()
    qasm = fqc.bound_qasm(cost, 1, np.array([0.4, 0.3]))
    assert qasm.startswith("OPENQASM 3")
    body = fqc.sampling_request(SVSIM_INFO, qasm, 500)
    assert body["device"] == "SVSim" and body["type"] == "sampling"
    assert body["nShots"] == {"raw": [500]}
    assert body["code"]["raw"][0] == qasm


def test_fujitsu_outputs_decode_through_the_sdk_result():
    from qiskit import qasm3  # noqa: F401  (the SDK's plugin needs qiskit)
    from qiskit_aer import AerSimulator

    from kakehashi.backends.qaoa.circuit import counts_to_samples, qiskit_circuit

    cost, qubo = _cost_and_qubo()
    params = np.array([0.4, 0.3])
    circuit, parameters = qiskit_circuit(cost, 1)
    bound = circuit.assign_parameters(dict(zip(parameters, params, strict=True)))
    # the counts a device would report, from a local simulation of the very circuit sent
    counts = AerSimulator(seed_simulator=3).run(bound, shots=400).result().get_counts()
    body = fqc.sampling_request(SVSIM_INFO, fqc.bound_qasm(cost, 1, params), 400)
    outputs = {
        "result": {
            "raw": {
                "execution": [
                    {
                        "data": [{"counts": counts}],
                        "start": "2026-01-01 00:00:01",
                        "end": "2026-01-01 00:00:02",
                        "transpilation": 0,
                    }
                ]
            }
        }
    }
    decoded = fqc.counts_from_outputs(body, outputs)
    assert decoded == counts
    X, c = counts_to_samples(decoded, cost.num_qubits)
    assert c.sum() == 400 and X.shape[1] == qubo.num_variables


def test_fujitsu_qc_is_refused_without_a_login():
    backend = kakehashi.backends.get_backend("fujitsu-qc")
    avail = backend.available()
    assert not avail and "fujitsu-quantum login" in avail.fix
    with pytest.raises(KakehashiError, match="login"):
        kakehashi.solve(examples.small_maxcut(), backend="fujitsu-qc", reps=1, seed=0)


def test_max_cost_is_refused_before_anything_is_sent(monkeypatch, tmp_path):
    from kakehashi.backends import catalog as cat
    from kakehashi.errors import BudgetError

    monkeypatch.setenv("FUJITSU_DA_TOKEN", "not-a-real-token")  # available, never used
    # no published price: the cap cannot be guaranteed, so the run is refused
    with pytest.raises(BudgetError, match="cannot be priced"):
        kakehashi.solve(examples.knapsack(6), backend="fujitsu-da", time_limit=1, max_cost=5)
    # a contract rate in a catalog override: the estimate prices the run and the cap binds
    override = tmp_path / "rates.toml"
    override.write_text(
        '[backends.fujitsu-da.price]\nmodel = "usage"\ncurrency = "JPY"\nper_second = 10.0\n'
        'source = "contract rate (test)"\nas_of = "2026"\nverified = false\n'
    )
    monkeypatch.setenv("KAKEHASHI_CATALOG", str(override))
    cat.reload_catalog()
    try:
        with pytest.raises(BudgetError, match="more than max_cost"):
            kakehashi.solve(examples.knapsack(6), backend="fujitsu-da", time_limit=3, max_cost=5)
    finally:
        monkeypatch.delenv("KAKEHASHI_CATALOG")
        cat.reload_catalog()
