"""QPLIB files (``.qplib``), read through ``ommx.v1.Instance.load_qplib``.

QPLIB lists the non-zeros ``(i, j, q)`` of the lower triangle of Q⁰ and the objective is
``½ Σ_listed q·x_i·x_j + b⁰·x + q⁰``: every listed entry, diagonal or not, counts once with
the factor ½. This is the reading under which QPLIB's published solutions reproduce their
objective values (checked on QPLIB_0018 by others; the paper's "symmetric Q" wording would
count off-diagonals twice and does not), and it is what OMMX ≥ 2.8 implements.
"""

from __future__ import annotations

from pathlib import Path

from kakehashi.model.io.readers_common import fail, ommx_errors, require_file, rust_message
from kakehashi.model.problem import Problem


def read_qplib(path: str | Path) -> Problem:
    """Read a QPLIB file.

    Example:
        >>> from kakehashi.model.io import data_file
        >>> p = read_qplib(data_file("tiny.qplib"))
        >>> p.sense, p.num_variables, p.num_constraints
        ('max', 3, 1)
    """
    from ommx.v1 import Instance

    from kakehashi.model.ommx_io import from_ommx

    p = require_file(path)
    try:
        instance = Instance.load_qplib(str(p))
    except ommx_errors() as exc:
        raise fail(
            p,
            f"not a readable QPLIB file ({rust_message(exc)})",
            "check the file against the QPLIB format (it may be truncated)",
        ) from None
    problem = from_ommx(instance)
    problem.metadata.update({"format": "qplib", "source": str(p)})
    if problem.name == "problem":
        problem.name = p.name.split(".")[0]
    return problem
