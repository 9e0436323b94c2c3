"""QOBLIB instance formats that only the benchmark suites need (ZIB's Quantum Optimization
Benchmarking Library, data CC BY 4.0): LABS as a QUBO, market split, maximum independent set.

Each builder returns a :class:`~kakehashi.Problem` whose objective is the one QOBLIB
publishes optima for, so a shipped ``.opt.sol`` certificate evaluates to the optimum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from kakehashi.errors import InputFormatError
from kakehashi.model.problem import Problem


def _lines(path: str | Path) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise InputFormatError(f"{p}: no such file; check the suite's path")
    return [
        ln.strip()
        for ln in p.read_text().splitlines()
        if ln.strip() and not ln.startswith(("#", "c "))
    ]


def read_labs(path: str | Path) -> Problem:
    """A QOBLIB LABS ``.qs`` file: ``n nnz`` then ``i j q`` (upper triangle of a symmetric
    Q, 1-based) and ``# ObjectiveOffset c``; minimise ``c + xᵀQx`` (off-diagonal entries
    count twice).

    Example:
        >>> from kakehashi.bench.suite import resolve_path
        >>> read_labs(resolve_path("data:bench/qoblib/labs008.qs")).num_variables
        36
    """
    text = Path(path).read_text() if Path(path).is_file() else None
    if text is None:
        raise InputFormatError(f"{path}: no such file; check the suite's path")
    offset = 0.0
    for line in text.splitlines():
        if "ObjectiveOffset" in line:
            offset = float(line.split("ObjectiveOffset", 1)[1].split()[0])
    rows = [ln for ln in _lines(path)]
    try:
        n, nnz = (int(v) for v in rows[0].split()[:2])
        entries = np.array([r.split() for r in rows[1 : 1 + nnz]], dtype=float)
    except (ValueError, IndexError):
        raise InputFormatError(
            f"{path}: not a QOBLIB .qs file (expected 'n nnz' then 'i j q' lines)"
        ) from None
    if entries.shape != (nnz, 3):
        raise InputFormatError(
            f"{path}: expected {nnz} 'i j q' lines, found {entries.shape[0]}; the file is truncated"
        )
    i = entries[:, 0].astype(np.int64) - 1
    j = entries[:, 1].astype(np.int64) - 1
    q = entries[:, 2]
    diag = i == j
    linear = np.bincount(i[diag], weights=q[diag], minlength=n)
    off = ~diag
    quad = sp.coo_matrix((2.0 * q[off], (i[off], j[off])), shape=(n, n))
    return Problem.from_arrays(linear=linear, quadratic=quad, constant=offset, name=Path(path).stem)


def read_marketsplit(path: str | Path) -> Problem:
    """A QOBLIB market-split ``.dat``: ``m n`` then ``m`` rows of ``n`` coefficients and the
    right-hand side; find ``x ∈ {0,1}^n`` with ``Ax = b`` (objective 0: success = feasible).

    Example:
        >>> from kakehashi.bench.suite import resolve_path
        >>> p = read_marketsplit(resolve_path("data:bench/qoblib/ms_03_050_002.dat"))
        >>> p.num_variables, p.num_constraints
        (20, 3)
    """
    rows = _lines(path)
    try:
        m, n = (int(v) for v in rows[0].split()[:2])
        data = np.array([r.split() for r in rows[1 : 1 + m]], dtype=float)
    except (ValueError, IndexError):
        raise InputFormatError(
            f"{path}: not a QOBLIB market-split file (expected 'm n' then m rows)"
        ) from None
    if data.shape != (m, n + 1):
        raise InputFormatError(
            f"{path}: expected {m} rows of {n + 1} numbers, got shape {data.shape}"
        )
    A, b = data[:, :n], data[:, n]
    return Problem.from_arrays(
        linear=np.zeros(n),
        A=sp.csr_matrix(A),
        lo=b,
        hi=b,
        name=Path(path).stem,
        constraint_name="market_split",
    )


def read_mis(path: str | Path) -> Problem:
    """A QOBLIB independent-set ``.gph`` (DIMACS ``p edge N E`` / ``e i j``): maximise the
    number of chosen vertices with at most one end of every edge chosen.

    Example:
        >>> from kakehashi.bench.suite import resolve_path
        >>> p = read_mis(resolve_path("data:bench/qoblib/farm.gph"))
        >>> p.sense, p.num_variables, p.num_constraints
        ('max', 17, 39)
    """
    rows = _lines(path)
    header = [r for r in rows if r.startswith("p ")]
    if not header:
        raise InputFormatError(f"{path}: no 'p edge N E' line; not a DIMACS graph file")
    n, e = (int(v) for v in header[0].split()[2:4])
    edges = np.array([r.split()[1:3] for r in rows if r.startswith("e ")], dtype=np.int64) - 1
    if edges.shape != (e, 2):
        raise InputFormatError(f"{path}: header declares {e} edges, found {len(edges)}")
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    k = len(edges)
    A = sp.csr_matrix((np.ones(2 * k), (np.repeat(np.arange(k), 2), edges.ravel())), shape=(k, n))
    return Problem.from_arrays(
        linear=np.ones(n),
        A=A,
        lo=np.full(k, -np.inf),
        hi=np.ones(k),
        sense="max",
        name=Path(path).stem,
        var_name="chosen",
        constraint_name="edge",
    )


def read_solution(path: str | Path, n: int) -> np.ndarray:
    """A QOBLIB ``.opt.sol`` certificate as a 0/1 vector of length ``n``: either one line of
    ``n`` 0/1 values, or one active (1-based) variable per line."""
    rows = _lines(path)
    tokens = " ".join(rows).split()
    if len(tokens) == n and set(tokens) <= {"0", "1"}:
        return np.array(tokens, dtype=float)
    x = np.zeros(n)
    for t in tokens:
        try:
            x[int(t) - 1] = 1.0
        except (ValueError, IndexError):
            raise InputFormatError(f"{path}: {t!r} is not a variable number in 1..{n}") from None
    return x


READERS = {"qoblib-labs": read_labs, "qoblib-marketsplit": read_marketsplit, "qoblib-mis": read_mis}
