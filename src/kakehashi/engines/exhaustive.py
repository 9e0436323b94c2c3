"""Exact minimum of a small QUBO by enumerating all 2^n assignments (Gray code, O(2^n · deg))."""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from kakehashi.engines._core import as_arrays, clock, finish


@nb.njit(cache=True)
def _gray_enumerate(h, indptr, indices, data, offset, keep):
    n = h.size
    x = np.zeros(n, dtype=np.int8)
    g = h.copy()
    E = offset
    total = 1 << n
    best_e = np.full(keep, np.inf)
    best_code = np.zeros(keep, dtype=np.int64)
    code = 0
    best_e[0] = E
    for t in range(1, total):
        # the bit that changes between Gray codes t-1 and t is the lowest set bit of t
        i = 0
        while not (t >> i) & 1:
            i += 1
        d = g[i] if x[i] == 0 else -g[i]
        w = 1.0 if x[i] == 0 else -1.0
        x[i] = 1 - x[i]
        code ^= 1 << i
        E += d
        for k in range(indptr[i], indptr[i + 1]):
            g[indices[k]] += w * data[k]
        if E < best_e[keep - 1]:
            p = keep - 1
            while p > 0 and best_e[p - 1] > E:
                best_e[p] = best_e[p - 1]
                best_code[p] = best_code[p - 1]
                p -= 1
            best_e[p] = E
            best_code[p] = code
    return best_e, best_code


def exhaust(qubo: Any, *, keep: int = 1, max_variables: int = 30) -> Any:
    """The ``keep`` lowest-energy assignments of a QUBO with at most ``max_variables`` variables.

    Example:
        >>> import numpy as np, scipy.sparse as sp
        >>> exhaust((np.array([-1.0, -1.0]), sp.csr_matrix([[0, 3.0], [3.0, 0]]))).best_energy
        -1.0
    """
    q = as_arrays(qubo)
    if q.n > max_variables:
        raise ValueError(f"exhaustive search is for at most {max_variables} variables, got {q.n}")
    t0 = clock()
    keep = max(1, min(int(keep), 1 << q.n))
    _, codes = _gray_enumerate(q.h, q.indptr, q.indices, q.data, q.offset, keep)
    X = ((codes[:, None] >> np.arange(q.n)[None, :]) & 1).astype(np.int8)
    res = finish(q, X, np.zeros((0, 2)), {"engine": "exhaust", "elapsed": clock() - t0})
    res.trace = np.array([[clock() - t0, res.best_energy]])
    return res
