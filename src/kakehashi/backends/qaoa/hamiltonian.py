"""The QAOA cost Hamiltonian of a :class:`~kakehashi.compile.qubo.Qubo`, in Pauli-Z form.

A measured bit ``x_i = 1`` is the qubit state |1⟩, where ``Z_i = −1``; so ``x = (1 − z)/2``
and the Qubo's energy becomes::

    H = offset + Σ_i h_i Z_i + Σ_{i<j} J_ij Z_i Z_j

whose eigenvalue on the basis state of a bitstring is exactly that bitstring's Qubo energy.
The average of ``H`` over all bitstrings is ``offset`` (every Pauli term averages to zero),
which is what random guessing scores — a yardstick QAOA has to beat.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from kakehashi.compile.qubo import Qubo
from kakehashi.errors import BudgetError

DIAGONAL_MAX_QUBITS = 20  # 2^20 energies: 8 MiB, about a second to tabulate


@dataclasses.dataclass
class IsingCost:
    """``H = offset + h·Z + Σ_{i<j} J_ij Z_i Z_j`` over ``num_qubits`` qubits.

    Example:
        >>> import numpy as np
        >>> from kakehashi.compile.qubo import Qubo
        >>> q = Qubo.from_upper([1.0, -2.0], [[0, 3.0], [0, 0]])
        >>> cost = IsingCost.from_qubo(q)
        >>> [float(e) for e in cost.diagonal()]  # x = 00, 10, 01, 11 (qubit 0 first bit)
        [0.0, 1.0, -2.0, 2.0]
    """

    num_qubits: int
    h: np.ndarray  # (n,)
    pairs: np.ndarray  # (m, 2) int64, i < j
    J: np.ndarray  # (m,)
    offset: float

    @classmethod
    def from_qubo(cls, qubo: Qubo) -> IsingCost:
        h_s, J_s, off = qubo.to_ising()  # spin s = 2x − 1 = −z
        upper = sp.triu(J_s, k=1).tocoo()
        pairs = np.stack([upper.row, upper.col], axis=1).astype(np.int64)
        return cls(
            num_qubits=qubo.num_variables,
            h=-np.asarray(h_s, dtype=np.float64),
            pairs=pairs.reshape(-1, 2),
            J=np.asarray(upper.data, dtype=np.float64),
            offset=float(off),
        )

    @property
    def scale(self) -> float:
        """The largest coefficient; circuits use ``H / scale`` so angles are problem-free."""
        big = max(np.abs(self.h).max(initial=0.0), np.abs(self.J).max(initial=0.0))
        return float(big) or 1.0

    @property
    def num_pairs(self) -> int:
        return int(self.J.size)

    def max_degree(self) -> int:
        if not self.num_pairs:
            return 0
        return int(np.bincount(self.pairs.ravel(), minlength=self.num_qubits).max())

    def diagonal(self, *, big_endian: bool = False) -> np.ndarray:
        """Energy of every basis state, indexed as the simulator indexes its amplitudes.

        Qiskit is little-endian (bit ``i`` of the index is qubit ``i``); Braket is
        big-endian (qubit 0 is the most significant bit): pass ``big_endian=True``.
        """
        n = self.num_qubits
        if n > DIAGONAL_MAX_QUBITS:
            raise BudgetError(
                f"tabulating all 2^{n} energies needs {8 * 2**n / 2**30:.1f} GiB; exact "
                f"expectations are limited to {DIAGONAL_MAX_QUBITS} qubits — sampled "
                "expectations are used beyond that"
            )
        index = np.arange(2**n, dtype=np.int64)
        shifts = (n - 1 - np.arange(n)) if big_endian else np.arange(n)
        z = [1.0 - 2.0 * ((index >> int(s)) & 1) for s in shifts]
        energy = np.full(2**n, self.offset)
        for i in np.flatnonzero(self.h):
            energy += self.h[i] * z[i]
        for (i, j), c in zip(self.pairs, self.J, strict=True):
            energy += c * (z[i] * z[j])
        return energy

    def to_sparse_pauli_op(self):
        """As a Qiskit ``SparsePauliOp`` (identity term = offset)."""
        from qiskit.quantum_info import SparsePauliOp

        terms = [("", [], self.offset)]
        terms += [("Z", [int(i)], float(c)) for i, c in enumerate(self.h) if c]
        terms += [
            ("ZZ", [int(i), int(j)], float(c)) for (i, j), c in zip(self.pairs, self.J, strict=True)
        ]
        return SparsePauliOp.from_sparse_list(terms, num_qubits=self.num_qubits).simplify()


def cvar(energies: np.ndarray, probs: np.ndarray, alpha: float) -> float:
    """Conditional value at risk: the mean energy of the best ``alpha`` of the probability.

    ``alpha = 1`` is the plain expectation (Barkoutsos et al., Quantum 4, 256 (2020)).

    Example:
        >>> cvar(np.array([3.0, 1.0, 2.0]), np.array([0.5, 0.25, 0.25]), 0.5)
        1.5
    """
    order = np.argsort(energies, kind="stable")
    e, p = energies[order], probs[order]
    total = float(p.sum()) or 1.0
    p = p / total
    if alpha >= 1.0:
        return float(e @ p)
    cum = np.cumsum(p)
    take = np.minimum(p, np.maximum(alpha - (cum - p), 0.0))
    return float(e @ take / alpha)
