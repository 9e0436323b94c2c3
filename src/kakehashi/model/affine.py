"""Exact affine changes of variables on a Problem: ``x = a ⊙ y + b``.

Formats without spin variables (OMMX, MPS, OPB negated literals, dimod BQMs of the other
vartype) meet kakehashi's spins through the documented map ``s = 2b − 1`` (and back
``b = (s + 1) / 2``). Substituting it is exact: every monomial ``c Π (a_j y_j + b_j)`` is
expanded over the subsets of its factors, vectorised per degree.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import scipy.sparse as sp

from kakehashi.model.problem import BINARY, SPIN, Problem


def expand_monomials(
    idx: np.ndarray, coef: np.ndarray, a: np.ndarray, b: np.ndarray
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Expand ``Σ_t coef_t Π_j (a[idx_tj] y + b[idx_tj])`` into monomials by degree.

    Returns ``{degree: (idx (m, degree), coef (m,))}``; zero coefficients are dropped.
    """
    idx = np.asarray(idx, dtype=np.int64)
    coef = np.asarray(coef, dtype=np.float64)
    m, k = idx.shape
    out: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    if m == 0:
        return {}
    av, bv = a[idx], b[idx]
    for keep in itertools.product((True, False), repeat=k):
        keep_arr = np.array(keep, dtype=bool)
        c = coef * np.prod(av[:, keep_arr], axis=1) * np.prod(bv[:, ~keep_arr], axis=1)
        nz = c != 0
        if not nz.any():
            continue
        d = int(keep_arr.sum())
        out.setdefault(d, []).append((idx[nz][:, keep_arr], c[nz]))
    return {
        d: (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        for d, parts in out.items()
    }


def substitute_affine(
    problem: Problem,
    a: np.ndarray,
    b: np.ndarray,
    *,
    mask: np.ndarray,
    vtype: int,
    lower: float,
    upper: float,
) -> Problem:
    """The same problem over ``y`` where ``x = a ⊙ y + b``; variables in ``mask`` get
    ``vtype`` and bounds ``[lower, upper]`` (``a = 1, b = 0`` elsewhere)."""
    n = problem.num_variables
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)

    constant = problem.constant
    linear = np.zeros(n)
    q_rows, q_cols, q_vals = [], [], []
    higher: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    lin_idx = np.flatnonzero(problem.linear)
    q = problem.quadratic.tocoo()
    sources = [
        (lin_idx[:, None], problem.linear[lin_idx]),
        (np.stack([q.row, q.col], axis=1).astype(np.int64), q.data),
        *problem.higher_order.values(),
    ]
    for idx, coef in sources:
        for d, (ti, tc) in expand_monomials(idx, coef, a, b).items():
            if d == 0:
                constant += float(tc.sum())
            elif d == 1:
                linear += np.bincount(ti[:, 0], weights=tc, minlength=n)
            elif d == 2:
                q_rows.append(ti[:, 0])
                q_cols.append(ti[:, 1])
                q_vals.append(tc)
            else:
                higher.setdefault(d, ([], []))
                higher[d][0].append(ti)
                higher[d][1].append(tc)
    quadratic = sp.csr_matrix(
        (
            np.concatenate(q_vals) if q_vals else np.zeros(0),
            (
                np.concatenate(q_rows) if q_rows else np.zeros(0, np.int64),
                np.concatenate(q_cols) if q_cols else np.zeros(0, np.int64),
            ),
        ),
        shape=(n, n),
    )

    A = problem.A
    shift = A @ b if A.shape[0] else np.zeros(0)
    A_new = (A @ sp.diags(a)).tocsr() if A.shape[0] else A

    vt = problem.vtype.copy()
    vt[mask] = vtype
    lo_b = problem.lower.copy()
    hi_b = problem.upper.copy()
    lo_b[mask] = lower
    hi_b[mask] = upper
    arrays = [
        dataclasses.replace(va, vtype=vtype) if mask[va.start : va.stop].all() and va.size else va
        for va in problem.var_arrays
    ]
    return dataclasses.replace(
        problem,
        var_arrays=arrays,
        lower=lo_b,
        upper=hi_b,
        vtype=vt,
        constant=constant,
        linear=linear,
        quadratic=quadratic,
        higher_order={
            d: (np.concatenate(parts[0]), np.concatenate(parts[1])) for d, parts in higher.items()
        },
        A=A_new,
        lo=problem.lo - shift,
        hi=problem.hi - shift,
        metadata=dict(problem.metadata),
    )


def spin_to_binary(problem: Problem) -> tuple[Problem, np.ndarray]:
    """Replace every spin ``s`` by a binary ``b`` with ``s = 2b − 1``; return the mask of
    the variables that were spins (all-False and the problem itself when there are none).

    Example:
        >>> from kakehashi.model.problem import Problem
        >>> p = Problem.from_arrays(linear=[1.0, 2.0], vtype="spin")
        >>> q, mask = spin_to_binary(p)
        >>> q.linear.tolist(), q.constant, mask.tolist()
        ([2.0, 4.0], -3.0, [True, True])
    """
    mask = problem.vtype == SPIN
    if not mask.any():
        return problem, mask
    a = np.where(mask, 2.0, 1.0)
    b = np.where(mask, -1.0, 0.0)
    return substitute_affine(problem, a, b, mask=mask, vtype=BINARY, lower=0.0, upper=1.0), mask


def binary_to_spin(problem: Problem, mask: np.ndarray) -> Problem:
    """Inverse of :func:`spin_to_binary`: binaries in ``mask`` become spins, ``b = (s + 1)/2``.

    Example:
        >>> from kakehashi.model.problem import Problem
        >>> p = Problem.from_arrays(linear=[1.0, 2.0], vtype="spin")
        >>> binary_to_spin(*spin_to_binary(p)).linear.tolist()
        [1.0, 2.0]
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return problem
    a = np.where(mask, 0.5, 1.0)
    b = np.where(mask, 0.5, 0.0)
    return substitute_affine(problem, a, b, mask=mask, vtype=SPIN, lower=-1.0, upper=1.0)


def spins_as_binaries(X: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sample values with spin columns mapped to their binaries, ``b = (s + 1) / 2``."""
    X = np.array(X, dtype=np.float64, copy=True)
    if mask.any():
        X[:, mask] = (X[:, mask] + 1.0) / 2.0
    return X
