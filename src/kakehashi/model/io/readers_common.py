"""Helpers for anyone writing a reader — the file readers here and the use-case readers in
``kakehashi.apps``: file access, clear errors, fast number parsing, one-hot marks."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import zlib
from pathlib import Path

import numpy as np

from kakehashi.errors import InputFormatError
from kakehashi.model.problem import BINARY, ConstraintGroup, Problem

GZIP_MAGIC = b"\x1f\x8b"


def fail(path: str | Path, what: str, fix: str) -> InputFormatError:
    """An :class:`InputFormatError` that names the file, what is wrong and the fix."""
    return InputFormatError(f"{path}: {what}; {fix}")


def require_file(path: str | Path) -> Path:
    """The path as a ``Path``, or a clear error when it is missing or not a file."""
    p = Path(path)
    if not p.exists():
        raise fail(
            p, "no such file", "check the path (relative paths start at the current directory)"
        )
    if not p.is_file():
        raise fail(p, "is a directory, not a problem file", "give the path of a file inside it")
    return p


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip-compressed (by magic number, not suffix)."""
    p = require_file(path)
    data = p.read_bytes()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise fail(
                p, f"the gzip stream is damaged or truncated ({exc})", "re-download the file"
            ) from None
    return data


def read_text(path: str | Path) -> str:
    """The file as text (UTF-8, undecodable bytes replaced), gunzipped when compressed."""
    return read_bytes(path).decode("utf-8", errors="replace")


# OMMX's Rust core reports some malformed input by panicking, and pyo3's PanicException
# derives from BaseException, not Exception: catch it alongside ordinary errors.
# (evaluated only when an exception reaches the except clause, so imports stay lazy)
@functools.cache
def ommx_errors() -> tuple[type[BaseException], ...]:
    import ommx.v1  # noqa: F401  (registers pyo3's exception classes)

    panics = [c for c in BaseException.__subclasses__() if c.__name__ == "PanicException"]
    return (Exception, *panics)


def rust_message(exc: BaseException) -> str:
    """The first line of an error raised inside OMMX's Rust core (drops the backtrace)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def parse_numbers(text: str, path: str | Path, what: str) -> np.ndarray:
    """All whitespace-separated numbers of ``text`` as float64, in one numpy call."""
    tokens = text.split()
    try:
        return np.array(tokens, dtype=np.float64)
    except ValueError:
        bad = next(t for t in tokens if not _is_number(t))
        raise fail(
            path, f"expected only numbers in {what} but found {bad!r}", "check the file's format"
        ) from None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def mark_one_hot(problem: Problem) -> Problem:
    """Mark every constraint group whose rows are all ``Σ x = 1`` over binaries as one-hot."""
    if not problem.constraint_groups:
        return problem
    A = problem.A
    m = A.shape[0]
    nnz = np.diff(A.indptr)
    bad_entry = (A.data != 1.0) | (problem.vtype[A.indices] != BINARY)
    bad_per_row = np.bincount(np.repeat(np.arange(m), nnz), weights=bad_entry, minlength=m)
    row_ok = (nnz > 0) & (bad_per_row == 0) & (problem.lo == 1.0) & (problem.hi == 1.0)
    groups = [
        dataclasses.replace(g, kind="one_hot")
        if g.size and g.kind == "linear" and row_ok[g.start : g.stop].all()
        else g
        for g in problem.constraint_groups
    ]
    return dataclasses.replace(problem, constraint_groups=groups)


def single_group(name: str, m: int) -> list[ConstraintGroup]:
    return [ConstraintGroup(name, (m,), 0)] if m else []
