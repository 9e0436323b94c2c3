"""The QAOA circuit in Qiskit, and its initial parameter schedule.

One layer ``k`` applies ``exp(−i γ_k H/scale)`` (an RZ per linear term, an RZZ per pair)
then the transverse-field mixer ``exp(−i β_k Σ X)`` (an RX per qubit), after a layer of
Hadamards that prepares the uniform superposition. Parameters are ordered
``[γ_1 … γ_p, β_1 … β_p]`` everywhere in this package.
"""

from __future__ import annotations

import numpy as np

from kakehashi.backends.qaoa.hamiltonian import IsingCost


def linear_ramp(reps: int, dt: float) -> np.ndarray:
    """The linear-ramp (TQA) schedule: ``γ_k = (k − ½)/p · dt``, ``β_k = (1 − (k − ½)/p) · dt``.

    A discretised adiabatic path from the mixer to the cost Hamiltonian (Sack & Serbyn,
    Quantum 5, 491 (2021)); a good start for the classical optimiser at any depth.

    Example:
        >>> linear_ramp(2, 1.0).tolist()
        [0.25, 0.75, 0.75, 0.25]
    """
    frac = (np.arange(1, reps + 1) - 0.5) / reps
    return np.concatenate([frac * dt, (1.0 - frac) * dt])


def qiskit_circuit(cost: IsingCost, reps: int, *, measure: bool = True):
    """The parameterised QAOA circuit for ``cost`` with ``reps`` layers.

    Returns ``(circuit, parameters)`` where ``parameters`` is the flat list
    ``[γ_1 … γ_p, β_1 … β_p]`` of Qiskit ``Parameter`` objects.

    Example:
        >>> from kakehashi.compile.qubo import Qubo
        >>> cost = IsingCost.from_qubo(Qubo.from_upper([1.0, -1.0], [[0, 2.0], [0, 0]]))
        >>> qc, params = qiskit_circuit(cost, 1)
        >>> qc.num_qubits, len(params)
        (2, 2)
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    n = cost.num_qubits
    gammas = ParameterVector("γ", reps)
    betas = ParameterVector("β", reps)
    h = cost.h / cost.scale
    J = cost.J / cost.scale
    qc = QuantumCircuit(n, name="qaoa")
    qc.h(range(n))
    for k in range(reps):
        for (i, j), c in zip(cost.pairs, J, strict=True):
            qc.rzz(2.0 * c * gammas[k], int(i), int(j))
        for i in np.flatnonzero(h):
            qc.rz(2.0 * h[i] * gammas[k], int(i))
        qc.rx(2.0 * betas[k], range(n))
    if measure:
        qc.measure_all()
    return qc, [*gammas, *betas]


def counts_to_samples(counts: dict[str, int], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Qiskit counts (``"b_{n−1}…b_0"`` bitstrings) → (k, n) 0/1 samples and their counts.

    Example:
        >>> X, c = counts_to_samples({"01": 3, "10": 1}, 2)
        >>> X.tolist(), c.tolist()
        ([[1, 0], [0, 1]], [3, 1])
    """
    keys = list(counts)
    if not keys:
        return np.zeros((0, n), dtype=np.uint8), np.zeros(0, dtype=np.int64)
    bits = np.array([list(k.replace(" ", "")[::-1]) for k in keys], dtype=np.uint8)
    return bits[:, :n], np.array([counts[k] for k in keys], dtype=np.int64)
