"""`qaoa-aer`: QAOA simulated locally on Qiskit Aer.

The simulation method follows the problem: a statevector (exact probabilities, so the
optimiser sees the true expectation) while 16·2^n bytes fit in ``max_memory``; a
matrix-product state (sampled, bond dimension capped) for larger problems whose coupling
graph is sparse; and otherwise a :class:`~kakehashi.errors.BudgetError` that names the
memory a statevector would need.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kakehashi.backends.base import Availability, register
from kakehashi.backends.catalog import catalog_availability, info_for
from kakehashi.backends.params import Param
from kakehashi.backends.qaoa.circuit import counts_to_samples, qiskit_circuit
from kakehashi.backends.qaoa.core import (
    MAX_MEMORY,
    Engine,
    QAOABackend,
    check_statevector_memory,
    exact_possible,
    human_bytes,
    parse_memory,
    statevector_bytes,
)
from kakehashi.backends.qaoa.hamiltonian import IsingCost
from kakehashi.compile.qubo import Qubo
from kakehashi.errors import BudgetError, KakehashiError

METHODS = ("auto", "statevector", "matrix_product_state")
MPS_MAX_QUBITS = 100
MPS_MAX_AVERAGE_DEGREE = 4.0  # "sparse": at most about four couplings per variable
MPS_BOND_DIMENSION = 64


def choose_method(cost: IsingCost, *, method: str = "auto", max_memory: int) -> str:
    """``"statevector"`` or ``"matrix_product_state"`` for ``cost``, or a BudgetError.

    Example:
        >>> from kakehashi.compile.qubo import Qubo
        >>> import scipy.sparse as sp
        >>> ring = sp.diags([1.0] * 39, 1, shape=(40, 40))  # a 40-variable ring-like chain
        >>> cost = IsingCost.from_qubo(Qubo.from_upper([0.0] * 40, ring))
        >>> choose_method(cost, max_memory=2**30)
        'matrix_product_state'
    """
    if method not in METHODS:
        raise KakehashiError(f"qaoa-aer: method={method!r}; use one of {', '.join(METHODS)}")
    n = cost.num_qubits
    fits = statevector_bytes(n) <= max_memory
    if method == "statevector" or (method == "auto" and fits):
        check_statevector_memory(n, max_memory, where="qaoa-aer statevector")
        return "statevector"
    avg_degree = 2.0 * cost.num_pairs / max(n, 1)
    if method == "auto" and avg_degree > MPS_MAX_AVERAGE_DEGREE:
        raise BudgetError(
            f"qaoa-aer: {n} qubits need {human_bytes(statevector_bytes(n))} for a statevector "
            f"(16·2^{n} bytes), more than the {human_bytes(max_memory)} allowed (max_memory=), "
            f"and the coupling graph is dense (average degree {avg_degree:.1f} > "
            f"{MPS_MAX_AVERAGE_DEGREE:g}), so a matrix-product state would not be cheaper. "
            "Reduce the problem, use a classical backend such as 'sa' or 'tabu', or "
            "force method='matrix_product_state' with a bond-dimension cap (approximate)"
        )
    if n > MPS_MAX_QUBITS:
        raise BudgetError(
            f"qaoa-aer: {n} qubits is beyond the {MPS_MAX_QUBITS}-qubit limit of its "
            "matrix-product-state simulation; reduce the problem or use a classical backend"
        )
    return "matrix_product_state"


class AerEngine(Engine):
    """One Aer simulator with the QAOA circuit transpiled once, parameters bound per run.

    ``method="statevector"`` on ≤ 20 qubits is *exact*: it saves the probabilities instead
    of sampling, so the optimiser sees the true expectation.
    """

    def __init__(
        self,
        cost: IsingCost,
        qubo: Qubo,
        reps: int,
        *,
        method: str,
        seed: int | None,
        bond_dimension: int = MPS_BOND_DIMENSION,
        simulator: Any = None,
        circuit: Any = None,
        parameters: Any = None,
        name: str | None = None,
    ) -> None:
        from qiskit_aer import AerSimulator

        super().__init__(cost, qubo, reps)
        self.method = method
        self.name = name or f"aer-{method.replace('_', '-')}"
        opts: dict[str, Any] = {"method": method}
        if method == "matrix_product_state":
            opts["matrix_product_state_max_bond_dimension"] = int(bond_dimension)
        self.sim = simulator if simulator is not None else AerSimulator(**opts)
        if circuit is None:
            circuit, parameters = qiskit_circuit(cost, reps, measure=True)
        self.parameters = parameters
        # Aer runs h/rz/rzz/rx natively: no transpilation (which costs seconds against
        # Aer's large target) — a device circuit arrives already transpiled
        self.measured = circuit
        self.exact = method == "statevector" and exact_possible(cost.num_qubits)
        self.prob_circuit = None
        if self.exact:
            from qiskit_aer.library import SaveProbabilities

            bare, bare_params = qiskit_circuit(cost, reps, measure=False)
            bare.append(SaveProbabilities(cost.num_qubits), bare.qubits)
            self.prob_circuit = bare
            self.prob_parameters = bare_params
        self.info = {
            "method": method,
            "exact_expectation": self.exact,
            "depth": int(circuit.depth()),
            "two_qubit_gates": int(sum(1 for i in circuit.data if i.operation.num_qubits == 2)),
        }
        if method == "matrix_product_state":
            self.info["max_bond_dimension"] = int(bond_dimension)
        self.seed = seed

    def probabilities(self, params: np.ndarray) -> np.ndarray:
        bound = self.prob_circuit.assign_parameters(
            dict(zip(self.prob_parameters, params, strict=True))
        )
        result = self.sim.run(bound, shots=1).result()
        self.executions += 1
        return np.asarray(result.data(0)["probabilities"], dtype=np.float64)

    def sample(
        self, params: np.ndarray, shots: int, seed: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        bound = self.measured.assign_parameters(dict(zip(self.parameters, params, strict=True)))
        run_opts: dict[str, Any] = {"shots": int(shots)}
        if seed is not None:
            run_opts["seed_simulator"] = int(seed)
        result = self.sim.run(bound, **run_opts).result()
        self.executions += 1
        self.shots_used += int(shots)
        return counts_to_samples(result.get_counts(0), self.cost.num_qubits)


@register("qaoa-aer")
class QAOAAerBackend(QAOABackend):
    """QAOA on Qiskit Aer: statevector when it fits, matrix-product state for larger
    sparse problems, a BudgetError naming the memory otherwise.

    Options (beyond the QAOA ones): ``method`` (``"auto"``, ``"statevector"``,
    ``"matrix_product_state"``), ``max_memory`` (bytes or ``"8GiB"``; default half of this
    machine's memory), ``bond_dimension`` (MPS cap, default 64).

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="qaoa-aer",
        ...                     seed=1, reps=2)
        >>> r.objective
        -5.0
    """

    name = "qaoa-aer"
    warm_up_modules = ("qiskit", "qiskit_aer")
    info = info_for("qaoa-aer")
    default_time_limit = 20.0
    parameters = (
        Param("method", str, "auto", "Aer simulation method", choices=METHODS),
        MAX_MEMORY,
        Param("bond_dimension", int, MPS_BOND_DIMENSION, "MPS bond cap", low=1, high=10**5),
    )

    def available(self) -> Availability:
        return catalog_availability(self.name)

    def make_engines(
        self, cost: IsingCost, qubo: Qubo, *, reps: int, seed: int | None, options: dict[str, Any]
    ) -> tuple[Engine, Engine]:
        if options.get("optimize_on", "simulator") not in ("simulator", "device"):
            raise KakehashiError("optimize_on must be 'simulator' or 'device'")
        max_memory = parse_memory(options.get("max_memory"))
        method = choose_method(cost, method=options.get("method", "auto"), max_memory=max_memory)
        engine = AerEngine(
            cost,
            qubo,
            reps,
            method=method,
            seed=seed,
            bond_dimension=int(options.get("bond_dimension", MPS_BOND_DIMENSION)),
        )
        return engine, engine
