"""QOBLIB instance formats that only the benchmark suites need (ZIB's Quantum Optimization
Benchmarking Library, data CC BY 4.0): LABS as a QUBO, market split, maximum independent set.

Each builder returns a :class:`~kakehashi.Problem` whose objective is the one QOBLIB
publishes optima for, so a shipped ``.opt.sol`` certificate evaluates to the optimum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from kakehashi.model.io.readers_common import (
    declared_count,
    fail,
    finite_number,
    parse_numbers,
    read_text,
)
from kakehashi.model.problem import Problem


def _data_lines(path: str | Path) -> list[tuple[int, str]]:
    """(line number, text) of the data lines: comments (``#``, ``c ``) and blanks dropped."""
    text = read_text(path)
    return [
        (number, ln.strip())
        for number, ln in enumerate(text.splitlines(), start=1)
        if ln.strip() and not ln.startswith(("#", "c "))
    ]


def _rows(path, lines: list[tuple[int, str]], what: str) -> np.ndarray:
    """The numbers of ``lines`` (all the same width) as a float array, checked finite."""
    if not lines:
        return np.zeros((0, 0))
    width = len(lines[0][1].split())
    for number, text in lines:
        if len(text.split()) != width:
            raise fail(path, f"line {number}: expected {width} numbers ({what})", "fix the line")
    first = lines[0][0]
    nums = parse_numbers("\n".join(t for _, t in lines), path, what, first_line=first)
    return nums.reshape(len(lines), width)


def _indices(path, values: np.ndarray, n: int, what: str, first_line: int) -> np.ndarray:
    """1-based indices in ``values`` as 0-based int64, or an error naming the first bad one."""
    bad = (values != np.round(values)) | (values < 1) | (values > n)
    if bad.any():
        k = int(np.flatnonzero(bad.any(axis=1) if bad.ndim > 1 else bad)[0])
        raise fail(
            path,
            f"line {first_line + k}: {what} names index {values[k].tolist()}, outside 1..{n}",
            "indices are whole numbers from 1",
        )
    return values.astype(np.int64) - 1


def read_labs(path: str | Path) -> Problem:
    """A QOBLIB LABS ``.qs`` file: ``n nnz`` then ``i j q`` (upper triangle of a symmetric
    Q, 1-based) and ``# ObjectiveOffset c``; minimise ``c + xᵀQx`` (off-diagonal entries
    count twice).

    Example:
        >>> from kakehashi.bench.suite import resolve_path
        >>> read_labs(resolve_path("data:bench/qoblib/labs008.qs")).num_variables
        36
    """
    text = read_text(path)
    offset = 0.0
    for number, line in enumerate(text.splitlines(), start=1):
        if "ObjectiveOffset" in line:
            token = (line.split("ObjectiveOffset", 1)[1].split() or [""])[0]
            offset = finite_number(path, token, "the ObjectiveOffset", number)
    rows = _data_lines(path)
    layout = "expected 'n nnz' then 'i j q' lines"
    if not rows or len(rows[0][1].split()) < 2:
        raise fail(path, f"not a QOBLIB .qs file ({layout})", "check the file")
    header_line, header = rows[0]
    n_text, nnz_text = header.split()[:2]
    n = declared_count(path, n_text, "the variable count n", line=header_line)
    nnz = declared_count(
        path, nnz_text, "the entry count nnz", line=header_line, present=len(rows) - 1
    )
    if nnz != len(rows) - 1:
        raise fail(
            path,
            f"line {header_line}: expected {nnz} 'i j q' lines, found {len(rows) - 1}",
            "the file is truncated or its header is wrong",
        )
    entries = _rows(path, rows[1:], "'i j q'")
    if entries.size and entries.shape[1] != 3:
        raise fail(path, f"line {rows[1][0]}: {layout}", "check the file")
    entries = entries.reshape(-1, 3)
    ij = _indices(path, entries[:, :2], n, "an entry", rows[1][0] if nnz else header_line)
    i, j, q = ij[:, 0], ij[:, 1], entries[:, 2]
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
    rows = _data_lines(path)
    if not rows or len(rows[0][1].split()) < 2:
        raise fail(
            path, "not a QOBLIB market-split file (expected 'm n' then m rows)", "check the file"
        )
    header_line, header = rows[0]
    m_text, n_text = header.split()[:2]
    m = declared_count(path, m_text, "the row count m", line=header_line, present=len(rows) - 1)
    n = declared_count(path, n_text, "the variable count n", line=header_line)
    data = _rows(path, rows[1 : 1 + m], "a market-split row")
    if m == 0 or data.shape != (m, n + 1):
        raise fail(
            path,
            f"line {header_line}: expected {m} rows of {n + 1} numbers, got shape {data.shape}",
            "the file is truncated or its header is wrong",
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
    rows = _data_lines(path)
    header = [(k, r) for k, r in rows if r.startswith("p ")]
    if not header or len(header[0][1].split()) < 4:
        raise fail(path, "no 'p edge N E' line", "a DIMACS graph file declares 'p edge N E'")
    header_line, text = header[0]
    n_text, e_text = text.split()[2:4]
    edge_lines = [(k, " ".join(r.split()[1:3])) for k, r in rows if r.startswith("e ")]
    n = declared_count(path, n_text, "the vertex count N", line=header_line)
    e = declared_count(path, e_text, "the edge count E", line=header_line)
    if e != len(edge_lines):
        raise fail(
            path,
            f"line {header_line}: header declares {e} edges, found {len(edge_lines)}",
            "the file is truncated or its header is wrong",
        )
    if n == 0:
        raise fail(path, f"line {header_line}: the graph has no vertices", "fix N")
    ends = _rows(path, edge_lines, "an edge 'e i j'").reshape(-1, 2)
    edges = _indices(path, ends, n, "an edge", edge_lines[0][0] if edge_lines else header_line)
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
    rows = [r for _, r in _data_lines(path)]
    tokens = " ".join(rows).split()
    if len(tokens) == n and set(tokens) <= {"0", "1"}:
        return np.array(tokens, dtype=float)
    x = np.zeros(n)
    for t in tokens:
        if not (t.isascii() and t.isdigit() and 1 <= int(t) <= n):
            raise fail(path, f"{t[:30]!r} is not a variable number in 1..{n}", "fix the file")
        x[int(t) - 1] = 1.0
    return x


READERS = {"qoblib-labs": read_labs, "qoblib-marketsplit": read_marketsplit, "qoblib-mis": read_mis}
