"""Binary encodings: every problem variable as an affine map of binaries, ``x = E b + d``.

- binary ``x = b``; spin ``s = 2b - 1``;
- integer in ``[l, u]``: *log* (default) ``x = l + Σ_k c_k b_k`` with ``c = 1, 2, 4, …`` and the
  last coefficient trimmed so the top value is exactly ``u``; *unary* ``x = l + Σ_k b_k``.
- continuous variables have no exact binary encoding: they are refused with a clear error.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from kakehashi.errors import UnsupportedError
from kakehashi.model.problem import BINARY, CONTINUOUS, INTEGER, SPIN, Problem

ENCODINGS = ("log", "unary")


def log_coefficients(span: int) -> np.ndarray:
    """Coefficients ``1, 2, 4, …, r`` summing to exactly ``span`` (``r`` ≤ the next power)."""
    if span <= 0:
        return np.zeros(0)
    k = int(span).bit_length()
    coeffs = 2.0 ** np.arange(k)
    coeffs[-1] = span - (2 ** (k - 1) - 1)
    return coeffs


def unary_coefficients(span: int) -> np.ndarray:
    return np.ones(max(int(span), 0))


def range_coefficients(span: int, encoding: str) -> np.ndarray:
    if encoding == "log":
        return log_coefficients(span)
    if encoding == "unary":
        return unary_coefficients(span)
    raise UnsupportedError(f"unknown integer encoding {encoding!r}; use one of {ENCODINGS}")


def encode_variables(problem: Problem, encoding: str = "log") -> tuple[sp.csr_matrix, np.ndarray]:
    """The map ``x = E b + d`` from binaries ``b`` to the problem's variables ``x``.

    Returns ``(E, d)`` with ``E`` of shape (n, nb).
    """
    if encoding not in ENCODINGS:
        raise UnsupportedError(f"unknown integer encoding {encoding!r}; use one of {ENCODINGS}")
    vt = problem.vtype
    if np.any(vt == CONTINUOUS):
        i = int(np.flatnonzero(vt == CONTINUOUS)[0])
        raise UnsupportedError(
            f"variable {problem.flat_name(i)} is continuous and cannot be encoded in binaries; "
            "solve this problem with a MIP backend ('highs' or 'scip'), or make it integer"
        )
    n = problem.num_variables
    lower = problem.lower
    spans = np.zeros(n, dtype=np.int64)
    ints = vt == INTEGER
    spans[ints] = np.round(problem.upper[ints] - np.ceil(lower[ints] - 1e-9)).astype(np.int64)
    rows, cols, vals = [], [], []
    d = np.zeros(n)
    # binaries and spins: one column each, in bulk
    simple = np.flatnonzero((vt == BINARY) | (vt == SPIN))
    bits_per_var = np.zeros(n, dtype=np.int64)
    bits_per_var[simple] = 1
    coeff_lists: dict[int, np.ndarray] = {}
    if ints.any():
        # most models use few distinct spans: build each coefficient vector once
        for span in np.unique(spans[ints]):
            coeff_lists[int(span)] = range_coefficients(int(span), encoding)
        bits_per_var[ints] = [coeff_lists[int(s)].size for s in spans[ints]]
    col_start = np.concatenate([[0], np.cumsum(bits_per_var)])
    nb = int(col_start[-1])
    is_spin = vt[simple] == SPIN
    rows.append(simple)
    cols.append(col_start[simple])
    vals.append(np.where(is_spin, 2.0, 1.0))
    d[simple] = np.where(is_spin, -1.0, 0.0)
    if ints.any():
        int_idx = np.flatnonzero(ints)
        d[int_idx] = np.ceil(lower[int_idx] - 1e-9)
        for span, coeffs in coeff_lists.items():
            members = int_idx[spans[int_idx] == span]
            if coeffs.size == 0:
                continue
            k = coeffs.size
            rows.append(np.repeat(members, k))
            cols.append((col_start[members][:, None] + np.arange(k)).ravel())
            vals.append(np.tile(coeffs, members.size))
    E = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, nb)
    )
    return E, d
