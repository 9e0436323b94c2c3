"""`Qubo`: the compact numeric form every QUBO/Ising engine eats.

Convention (binary ``x ∈ {0,1}^n``)::

    E(x) = offset + h·x + Σ_{i<j} J_ij x_i x_j   =   offset + h·x + ½ xᵀ J x

with ``h`` dense, ``J`` a symmetric, zero-diagonal CSR matrix (both halves stored, so a
row of ``J`` is a variable's neighbourhood). Flipping ``x_i`` changes the energy by
``(1 - 2 x_i) (h_i + Σ_j J_ij x_j)``. :meth:`Qubo.to_ising` gives the spin form
``offset + h·s + Σ_{i<j} J_ij s_i s_j`` with ``s = 2x - 1``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import scipy.sparse as sp


@dataclasses.dataclass
class Qubo:
    """QUBO arrays plus whatever the compiler needs to map samples back (``decoder``)."""

    h: np.ndarray
    J: sp.csr_matrix
    offset: float = 0.0
    decoder: Any = None  # kakehashi.compile.Compiled knows how to decode; engines ignore it

    def __post_init__(self) -> None:
        self.h = np.ascontiguousarray(self.h, dtype=np.float64)
        self.J = symmetric_zero_diagonal(self.J, self.h.size)
        self.offset = float(self.offset)

    @classmethod
    def from_upper(cls, h: Any, upper: Any, offset: float = 0.0) -> Qubo:
        """From linear terms and pair coefficients held once each (any triangle); the
        diagonal of ``upper`` is folded into ``h`` since ``x_i² = x_i`` for binaries."""
        h = np.asarray(h, dtype=np.float64).ravel().copy()
        q = sp.coo_matrix(upper, shape=(h.size, h.size), dtype=np.float64)
        diag = q.row == q.col
        np.add.at(h, q.row[diag], q.data[diag])
        off = ~diag
        r, c, d = q.row[off], q.col[off], q.data[off]
        J = sp.csr_matrix(
            (np.concatenate([d, d]), (np.concatenate([r, c]), np.concatenate([c, r]))),
            shape=(h.size, h.size),
        )
        return cls(h, J, offset)

    @property
    def num_variables(self) -> int:
        return self.h.size

    @property
    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, indices, data)`` of ``J`` in the dtypes the numba kernels take."""
        return (
            self.J.indptr.astype(np.int64),
            self.J.indices.astype(np.int64),
            self.J.data.astype(np.float64),
        )

    def energies(self, X: np.ndarray) -> np.ndarray:
        """Energy of each row of a (k, n) 0/1 array."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        return self.offset + X @ self.h + 0.5 * np.einsum("ij,ij->i", (self.J @ X.T).T, X)

    def to_ising(self) -> tuple[np.ndarray, sp.csr_matrix, float]:
        """Spin form ``(h_s, J_s, offset_s)``: ``E = offset_s + h_s·s + Σ_{i<j} J_s,ij s_i s_j``."""
        row_sums = np.asarray(self.J.sum(axis=1)).ravel()
        h_s = self.h / 2 + row_sums / 4
        off_s = self.offset + self.h.sum() / 2 + self.J.sum() / 8
        return h_s, (self.J / 4).tocsr(), float(off_s)

    @classmethod
    def from_ising(cls, h_s: Any, J_s: Any, offset_s: float = 0.0) -> Qubo:
        """Inverse of :meth:`to_ising` (``s = 2x - 1``)."""
        h_s = np.asarray(h_s, dtype=np.float64).ravel()
        J_s = symmetric_zero_diagonal(J_s, h_s.size)
        row_sums = np.asarray(J_s.sum(axis=1)).ravel()
        h = 2 * h_s - 2 * row_sums
        off = offset_s - h_s.sum() + J_s.sum() / 2
        return cls(h, (4 * J_s).tocsr(), off)

    def max_abs_coefficient(self) -> float:
        return float(max(np.abs(self.h).max(initial=0.0), np.abs(self.J.data).max(initial=0.0)))

    def to_bqm(self):
        """As a ``dimod.BinaryQuadraticModel`` (variables are 0..n-1)."""
        import dimod

        upper = sp.triu(self.J, k=1).tocoo()
        return dimod.BinaryQuadraticModel.from_numpy_vectors(
            self.h, (upper.row, upper.col, upper.data), self.offset, dimod.BINARY
        )


def symmetric_zero_diagonal(J: Any, n: int) -> sp.csr_matrix:
    """Check/canonicalise a pair matrix: symmetric, zero diagonal, CSR with sorted indices."""
    J = sp.csr_matrix(J, shape=(n, n), dtype=np.float64)
    if J.nnz and J.diagonal().any():
        raise ValueError("Qubo.J must have a zero diagonal; fold diagonal terms into h")
    J.sum_duplicates()
    J.eliminate_zeros()
    J.sort_indices()
    return J
