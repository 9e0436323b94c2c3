"""QPLIB files (``.qplib``), read through ``ommx.v1.Instance.load_qplib``.

QPLIB lists the non-zeros ``(i, j, q)`` of the lower triangle of Q⁰ and the objective is
``½ Σ_listed q·x_i·x_j + b⁰·x + q⁰``: every listed entry, diagonal or not, counts once with
the factor ½. This is the reading under which QPLIB's published solutions reproduce their
objective values (checked on QPLIB_0018 by others; the paper's "symmetric Q" wording would
count off-diagonals twice and does not), and it is what OMMX ≥ 2.8 implements.
"""

from __future__ import annotations

from pathlib import Path

from kakehashi.limits import max_terms
from kakehashi.model.io.readers_common import (
    declared_count,
    fail,
    ommx_errors,
    read_text,
    require_file,
    rust_message,
)
from kakehashi.model.problem import Problem

_NO_CONSTRAINT_COUNT = "NB"  # constraint codes whose files have no 'm' line


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
    check_declared_sizes(p, read_text(p))
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


def check_declared_sizes(path: str | Path, text: str) -> None:
    """Refuse a QPLIB file whose declared sizes are too large or exceed its content.

    OMMX's reader reserves memory for every declared count before reading the entries, and a
    count it cannot allocate aborts the process; so kakehashi checks them first: the variable
    count ``n`` and constraint count ``m`` against the memory budget, and every count of
    entries (a whole number on its own line, followed by entry lines) against the lines left.

    Example:
        >>> from kakehashi.model.io import data_file
        >>> check_declared_sizes(data_file("tiny.qplib"), data_file("tiny.qplib").read_text())
    """
    lines = []  # (line number, tokens) of the data lines, comments removed
    for number, raw in enumerate(text.split("\n"), start=1):
        body = raw.split("#", 1)[0].strip()
        if body and not body.startswith("!"):
            lines.append((number, body.split()))
    if len(lines) < 4:
        raise fail(
            path,
            f"only {len(lines)} data lines; a QPLIB file starts with its name, its "
            "three-letter code, its sense and the number of variables",
            "check the file against the QPLIB format (it may be truncated)",
        )
    code = lines[1][1][0].upper()
    declared_count(path, lines[3][1][0], "the number of variables", line=lines[3][0], budget="ommx")
    if len(code) == 3 and code[2] not in _NO_CONSTRAINT_COUNT and len(lines) > 4:
        declared_count(
            path,
            lines[4][1][0],
            "the number of constraints",
            line=lines[4][0],
            budget="ommx",
        )
    for k in range(5, len(lines)):
        number, tokens = lines[k]
        if len(tokens) != 1 or not tokens[0].isascii() or not tokens[0].isdigit():
            continue
        remaining = len(lines) - k - 1
        followed_by_entries = k + 1 < len(lines) and len(lines[k + 1][1]) >= 2
        if len(tokens[0]) > 18 or (
            int(tokens[0]) > remaining and (followed_by_entries or int(tokens[0]) > max_terms())
        ):
            raise fail(
                path,
                f"line {number}: declares {tokens[0][:30]} entries but only {remaining} lines "
                "follow",
                "the file is truncated or the count is wrong: re-download it or fix the count",
            )
