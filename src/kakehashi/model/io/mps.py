"""MPS files (free or fixed, ``.mps`` or ``.mps.gz``), read and written through OMMX.

OMMX's reader accepts a file that stops early at a line boundary, so kakehashi first checks
that the file ends with ``ENDATA``; a truncated download is reported instead of being read
as a smaller problem. OMMX's writer keeps the model (linear constraints; linear or quadratic
objective) but not the names: variables come back as ``OMMX_VAR_<id>``.
"""

from __future__ import annotations

import re
from pathlib import Path

from kakehashi.errors import UnsupportedError
from kakehashi.model.io.readers_common import (
    fail,
    ommx_errors,
    read_bytes,
    require_file,
    rust_message,
)
from kakehashi.model.problem import Problem


def read_mps(path: str | Path) -> Problem:
    """Read an MPS file (gzip allowed) via ``ommx.v1.Instance.load_mps``.

    Example:
        >>> from kakehashi.model.io import data_file
        >>> p = read_mps(data_file("small_mip.mps"))
        >>> p.num_variables, p.num_constraints
        (3, 4)
    """
    from ommx.v1 import Instance

    from kakehashi.model.ommx_io import from_ommx

    p = require_file(path)
    _check_complete(p)
    _check_names(p, read_bytes(p).decode("utf-8", errors="replace"))
    try:
        instance = Instance.load_mps(str(p))
    except ommx_errors() as exc:
        raise fail(
            p, f"not a readable MPS file ({rust_message(exc)})", "check the file's MPS sections"
        ) from None
    problem = from_ommx(instance)
    if problem.constant == 0.0:
        # OMMX drops the objective row's RHS; by the MPS convention it is −(objective constant)
        problem.constant = 0.0 - _objective_rhs(read_bytes(p).decode("utf-8", errors="replace"))
    problem.metadata.update({"format": "mps", "source": str(p)})
    if problem.name == "problem":
        problem.name = p.name.split(".")[0]
    return problem


def _check_names(path: Path, text: str) -> None:
    """Refuse BOUNDS on undeclared columns and RHS/RANGES on undeclared rows.

    OMMX silently drops such entries, which would quietly lose part of the user's model.
    """
    rows: set[str] = set()
    cols: set[str] = set()
    section = ""
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("*"):
            continue
        tokens = raw.split()
        if not raw[0].isspace():
            section = tokens[0].upper()
            continue
        if section == "ROWS" and len(tokens) >= 2:
            rows.add(tokens[1])
        elif section == "COLUMNS" and "'MARKER'" not in raw:
            cols.add(tokens[0])
        elif section == "BOUNDS" and len(tokens) >= 3 and tokens[2] not in cols:
            raise fail(
                path,
                f"BOUNDS names variable {tokens[2]!r}, which the COLUMNS section never declares",
                "declare the variable in COLUMNS or remove the bound",
            )
        elif section in ("RHS", "RANGES") and len(tokens) % 2 == 1:  # set name + pairs
            for name in tokens[1::2]:
                if name not in rows:
                    raise fail(
                        path,
                        f"{section} names constraint {name!r}, which ROWS never declares",
                        "declare the row in ROWS or remove the entry",
                    )


def _check_complete(path: Path) -> None:
    tail = read_bytes(path)[-4096:].decode("utf-8", errors="replace")
    lines = [
        ln.strip() for ln in tail.splitlines() if ln.strip() and not ln.lstrip().startswith("*")
    ]
    if not lines or lines[-1].upper() != "ENDATA":
        last = lines[-1][:60] if lines else "nothing"
        raise fail(
            path,
            f"the file ends with {last!r} instead of ENDATA, so it is truncated or not MPS",
            "re-download or regenerate the complete file (an MPS file ends with the line ENDATA)",
        )


_SECTION = re.compile(r"(?m)^([A-Z]+)\b")


def _objective_rhs(text: str) -> float:
    """The value the RHS section gives the objective row (0 when none)."""
    sections = {m.group(1): m.end() for m in _SECTION.finditer(text)}
    rows_at, rhs_at = sections.get("ROWS"), sections.get("RHS")
    if rows_at is None or rhs_at is None:
        return 0.0
    objective = None
    for line in text[rows_at:].splitlines()[1:]:
        if line[:1] not in (" ", "\t"):
            break
        fields = line.split()
        if len(fields) >= 2 and fields[0].upper() == "N":
            objective = fields[1]
            break
    if objective is None:
        return 0.0
    total = 0.0
    for line in text[rhs_at:].splitlines()[1:]:
        if line[:1] not in (" ", "\t"):
            break
        fields = line.split()
        if objective not in fields:
            continue
        pairs = fields[len(fields) % 2 :]  # an odd count starts with the RHS set's name
        for name, value in zip(pairs[::2], pairs[1::2], strict=True):
            if name == objective:
                total += float(value)
    return total


def write_mps(problem: Problem, path: str | Path) -> None:
    """Write ``problem`` as MPS via OMMX (gzip-compressed when the name ends in ``.gz``).

    Names are not kept by OMMX's writer; spins are written as binaries (``s = 2b − 1``).
    """
    from kakehashi.model.ommx_io import to_ommx

    if problem.higher_order:
        raise UnsupportedError(
            f"problem {problem.name!r} has terms of degree {max(problem.higher_order)}, which MPS "
            "cannot hold; save it as .ommx instead"
        )
    instance = to_ommx(problem)
    try:
        instance.save_mps(str(path), compress=str(path).endswith(".gz"))
    except ommx_errors() as exc:
        raise UnsupportedError(
            f"{path}: OMMX could not write MPS ({rust_message(exc)}); save as .ommx instead"
        ) from None
