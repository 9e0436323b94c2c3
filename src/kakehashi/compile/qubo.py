"""`Qubo`: the compact numeric form every QUBO/Ising engine eats.

Convention (binary ``x ∈ {0,1}^n``)::

    E(x) = offset + h·x + Σ_{i<j} J_ij x_i x_j   =   offset + h·x + ½ xᵀ J x

with ``h`` dense, ``J`` a symmetric, zero-diagonal CSR matrix (both halves stored, so a
row of ``J`` is a variable's neighbourhood). Flipping ``x_i`` changes the energy by
``(1 - 2 x_i) (h_i + Σ_j J_ij x_j)``. :meth:`Qubo.to_ising` gives the spin form
``offset + h·s + Σ_{i<j} J_ij s_i s_j`` with ``s = 2x - 1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp


class Qubo:
    """QUBO arrays plus whatever the compiler needs to map samples back (``decoder``).

    Holds either form of the pairs and derives the other on first use: the compiler
    produces the strictly upper triangle (``upper``, one entry per pair, as a model
    compiler's output naturally is); engines read the symmetric ``J`` with both halves.
    """

    def __init__(
        self,
        h: Any,
        J: Any = None,
        offset: float = 0.0,
        decoder: Any = None,
        *,
        upper: sp.csr_matrix | None = None,
    ) -> None:
        self.h = np.ascontiguousarray(h, dtype=np.float64).ravel()
        self.offset = float(offset)
        self.decoder = decoder  # kakehashi.compile.Compiled knows how to decode
        if (J is None) == (upper is None):
            raise ValueError("give a Qubo either J (symmetric) or upper (strictly upper)")
        self._J = None if J is None else symmetric_zero_diagonal(J, self.h.size)
        self._upper = upper

    @property
    def J(self) -> sp.csr_matrix:
        """Symmetric, zero-diagonal CSR with sorted indices (both halves stored)."""
        if self._J is None:
            U = self._upper
            self._J = (U + U.T.tocsr()).tocsr()  # canonical + canonical: nothing to re-sort
        return self._J

    @property
    def upper(self) -> sp.csr_matrix:
        """Strictly upper-triangular CSR: each pair's coefficient once."""
        if self._upper is None:
            self._upper = sp.triu(self._J, k=1, format="csr")
        return self._upper

    def __repr__(self) -> str:
        return (
            f"Qubo({self.num_variables} variables, {self.upper.nnz} pairs, offset={self.offset:g})"
        )

    @classmethod
    def from_upper(cls, h: Any, upper: Any, offset: float = 0.0) -> Qubo:
        """From linear terms and pair coefficients held once each (either triangle); the
        diagonal of ``upper`` is folded into ``h`` since ``x_i² = x_i`` for binaries."""
        h = np.asarray(h, dtype=np.float64).ravel().copy()
        n = h.size
        U = sp.csr_matrix(upper, shape=(n, n), dtype=np.float64)
        U.sum_duplicates()
        rows = np.repeat(np.arange(n), np.diff(U.indptr))
        h += np.bincount(rows[U.indices == rows], weights=U.data[U.indices == rows], minlength=n)
        lower = U.indices < rows
        if lower.any():
            # entries given below the diagonal move above it (one transpose of those only)
            L = sp.csr_matrix((U.data[lower], (rows[lower], U.indices[lower])), shape=(n, n))
            U = (
                sp.csr_matrix(
                    (
                        U.data[U.indices > rows],
                        (rows[U.indices > rows], U.indices[U.indices > rows]),
                    ),
                    shape=(n, n),
                )
                + L.T.tocsr()
            )
        else:
            U = strictly_upper(U, rows)
        U.sum_duplicates()
        U.eliminate_zeros()
        return cls(h, offset=offset, upper=U)

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
        return self.offset + X @ self.h + np.einsum("ij,ij->i", (self.upper @ X.T).T, X)

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
        pairs = np.abs(self.upper.data).max(initial=0.0)
        return float(max(np.abs(self.h).max(initial=0.0), pairs))

    def to_bqm(self):
        """As a ``dimod.BinaryQuadraticModel`` (variables are 0..n-1)."""
        import dimod

        upper = self.upper.tocoo()
        return dimod.BinaryQuadraticModel.from_numpy_vectors(
            self.h, (upper.row, upper.col, upper.data), self.offset, dimod.BINARY
        )


def strictly_upper(M: sp.csr_matrix, rows: np.ndarray | None = None) -> sp.csr_matrix:
    """The entries of a canonical CSR above its diagonal, without a COO round trip."""
    n = M.shape[0]
    if rows is None:
        rows = np.repeat(np.arange(n), np.diff(M.indptr))
    keep = M.indices > rows
    indptr = np.zeros(n + 1, dtype=M.indptr.dtype)
    np.cumsum(np.bincount(rows[keep], minlength=n), out=indptr[1:])
    return sp.csr_matrix((M.data[keep], M.indices[keep], indptr), shape=M.shape)


def symmetric_zero_diagonal(J: Any, n: int) -> sp.csr_matrix:
    """Check/canonicalise a pair matrix: symmetric, zero diagonal, CSR with sorted indices."""
    J = sp.csr_matrix(J, shape=(n, n), dtype=np.float64)
    if J.nnz and J.diagonal().any():
        raise ValueError("Qubo.J must have a zero diagonal; fold diagonal terms into h")
    J.sum_duplicates()
    J.eliminate_zeros()
    J.sort_indices()
    return J
