"""OR-Library ``bqp`` files (Beasley's unconstrained binary quadratic problems).

Format: the number of problems ``K``; then for each problem a line ``n nnz`` and ``nnz``
lines ``i j q`` (indices from 1). Each problem is **maximise xᵀQx with Q symmetric** over
``x ∈ {0,1}^n``: a listed diagonal entry contributes ``q x_i``, a listed off-diagonal entry
stands for both ``Q_ij`` and ``Q_ji`` and so contributes ``2 q x_i x_j``. This is the form
under which OR-Library's published optima (``bqp50-1`` = 2098, …) hold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from kakehashi.model.io.readers_common import (
    declared_count,
    fail,
    line_of_number,
    parse_numbers,
    read_text,
)
from kakehashi.model.problem import Problem


def read_bqp(path: str | Path, *, index: int = 1) -> Problem:
    """Read problem ``index`` (1-based, default 1) of an OR-Library bqp file.

    Example:
        >>> from kakehashi.model.io import data_file
        >>> p = read_bqp(data_file("bqp50.txt"), index=3)
        >>> p.name, p.sense, p.num_variables
        ('bqp50-3', 'max', 50)
    """
    text = read_text(path)
    nums = parse_numbers(text, path, "an OR-Library bqp file")
    if nums.size == 0:
        raise fail(
            path, "the file is empty", "an OR-Library bqp file starts with the number of problems"
        )

    def line(k: int) -> int:  # the line of the k-th number (for messages only)
        return line_of_number(text, k)

    # every problem takes at least two numbers: the count cannot exceed half of them
    count = declared_count(
        path, nums[0], "the count of problems", line=line(0), present=nums.size // 2
    )
    if count < 1:
        raise fail(path, f"line {line(0)}: the file declares 0 problems", "check the file")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise fail(path, f"index={index!r} is not an integer", f"pass index=1..{count}")
    if not 1 <= index <= count:
        raise fail(
            path,
            f"index={index!r} is out of range: the file holds {count} problems",
            f"pass index=1..{count}",
        )
    # walk the whole file, so that a truncated or malformed file is reported whichever
    # problem is asked for
    pos = 1
    chosen = None
    for k in range(1, count + 1):
        if pos + 2 > nums.size:
            raise _truncated(path, k, count)
        n = declared_count(path, nums[pos], f"problem {k}'s variable count n", line=line(pos))
        nnz = declared_count(
            path,
            nums[pos + 1],
            f"problem {k}'s entry count nnz",
            line=line(pos + 1),
            budget="terms",
        )
        if n < 1:
            raise fail(path, f"line {line(pos)}: problem {k} has no variables", "check the file")
        pos += 2
        if pos + 3 * nnz > nums.size:
            raise _truncated(path, k, count)
        if k == index:
            chosen = (nums[pos : pos + 3 * nnz].reshape(nnz, 3), n)
        pos += 3 * nnz
    if pos != nums.size:
        raise fail(
            path,
            f"line {line(pos)}: {nums.size - pos} numbers follow the last of the {count} "
            "declared problems",
            "check the count of problems on the first line",
        )
    entries, n = chosen
    return _problem(path, entries, n, index, count)


def _truncated(path: str | Path, k: int, count: int):
    return fail(
        path,
        f"the file ends inside problem {k} of {count}",
        "the file is truncated: re-download it",
    )


def _problem(path: str | Path, entries: np.ndarray, n: int, k: int, count: int) -> Problem:
    ij = entries[:, :2]
    if np.any(ij != np.round(ij)) or (ij.size and (ij.min() < 1 or ij.max() > n)):
        raise fail(
            path, f"problem {k} has an index outside 1..{n}", "indices in bqp files start at 1"
        )
    i = ij[:, 0].astype(np.int64) - 1
    j = ij[:, 1].astype(np.int64) - 1
    q = entries[:, 2]
    diag = i == j
    linear = np.bincount(i[diag], weights=q[diag], minlength=n)
    off = ~diag
    # Q is symmetric and each listed off-diagonal entry is both Q_ij and Q_ji: 2 q x_i x_j
    quadratic = sp.csr_matrix(
        (2.0 * q[off], (np.minimum(i[off], j[off]), np.maximum(i[off], j[off]))), shape=(n, n)
    )
    stem = Path(path).name.split(".")[0]
    problem = Problem.from_arrays(
        linear=linear, quadratic=quadratic, sense="max", name=f"{stem}-{k}"
    )
    problem.metadata = {"format": "bqp", "source": str(path), "index": k, "problems_in_file": count}
    return problem
