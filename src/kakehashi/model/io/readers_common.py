"""Helpers for anyone writing a reader — the file readers here and the use-case readers in
``kakehashi.apps``: bounded file access, clear errors, checked number parsing, one-hot marks.

A reader never trusts what a file declares. The helpers here enforce, in one place:

- **bounded input**: :func:`read_bytes` refuses a file larger than
  :func:`kakehashi.limits.max_input_bytes` and stops inflating a gzip stream at that size
  (a small ``.gz`` can inflate to gigabytes);
- **declared sizes checked before allocating**: :func:`declared_count` turns a declared count
  into an int only when it is a finite whole number within the memory budget
  (:func:`kakehashi.limits.max_variables`, :func:`~kakehashi.limits.max_terms`) and, where
  given, within what the content can hold;
- **numbers checked before converting**: :func:`parse_numbers` refuses NaN and infinities and
  names the line of the first bad token; :func:`finite_number` does the same for one token.

Every error names the file, the line where there is one, what was found and what was expected.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from kakehashi.errors import InputFormatError
from kakehashi.limits import max_input_bytes, max_ommx_variables, max_terms, max_variables
from kakehashi.model.problem import BINARY, ConstraintGroup, Problem

GZIP_MAGIC = b"\x1f\x8b"
# numbers are parsed this many characters at a time, so the temporary list of tokens stays
# small whatever the file's size (a token list costs ~50 bytes per number)
_PARSE_CHUNK = 1 << 23


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


def _too_large(p: Path, what: str, limit: int) -> InputFormatError:
    return fail(
        p,
        f"{what} more than {limit} bytes, the input limit",
        "raise the limit with the environment variable KAKEHASHI_MAX_INPUT_BYTES if this "
        "machine has the memory for it",
    )


def read_bytes(path: str | Path, *, limit: int | None = None) -> bytes:
    """The file's bytes, gunzipped when it is gzip-compressed (by magic number, not suffix).

    At most ``limit`` bytes (default :func:`kakehashi.limits.max_input_bytes`) are read or
    inflated: a larger file is refused before it is read, a gzip stream as soon as it inflates
    past the limit.

    Example:
        >>> from kakehashi.model.io import data_file
        >>> read_bytes(data_file("maxcut16.txt"))[:6]
        b'16 48\\n'
    """
    p = require_file(path)
    limit = max_input_bytes() if limit is None else limit
    try:
        with p.open("rb") as fh:
            magic = fh.read(2)
            fh.seek(0)
            if magic != GZIP_MAGIC:
                if p.stat().st_size > limit:
                    raise _too_large(p, "the file holds", limit)
                return fh.read()
            data = _inflate(p, fh, limit)
    except OSError as exc:
        raise fail(p, f"cannot be read ({exc.strerror or exc})", "check its permissions") from None
    return data


def _inflate(p: Path, fh, limit: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=fh) as gz:
            data = gz.read(limit + 1)
    except (EOFError, OSError, zlib.error) as exc:
        raise fail(
            p, f"the gzip stream is damaged or truncated ({exc})", "re-download the file"
        ) from None
    if len(data) > limit:
        raise _too_large(p, "the gzip stream inflates to", limit)
    return data


def read_head(path: str | Path, size: int = 65536) -> bytes:
    """The first ``size`` bytes of the file (after gunzipping), without reading the rest."""
    p = require_file(path)
    try:
        with p.open("rb") as fh:
            if fh.read(2) != GZIP_MAGIC:
                fh.seek(0)
                return fh.read(size)
            fh.seek(0)
            with gzip.GzipFile(fileobj=fh) as gz:
                return gz.read(size)
    except (EOFError, OSError, zlib.error):
        return b""  # the full read reports the damage with its reason


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


def parse_numbers(
    text: str, path: str | Path, what: str, *, first_line: int = 1, finite: bool = True
) -> np.ndarray:
    """All whitespace-separated numbers of ``text`` as float64, parsed by numpy in chunks.

    A token that is not a number, or (with ``finite``) is NaN or overflows to ±inf, is an
    :class:`InputFormatError` naming its line (``first_line`` is the line ``text`` starts on).

    Example:
        >>> parse_numbers("1 2\\n3.5", "f.txt", "a test").tolist()
        [1.0, 2.0, 3.5]
    """
    parts = []
    start = 0
    while start < len(text):
        stop = min(len(text), start + _PARSE_CHUNK)
        if stop < len(text):  # cut at whitespace so no token is split
            cut = max(text.rfind(c, start, stop) for c in " \n\t\r")
            stop = cut + 1 if cut > start else stop
        chunk = text[start:stop]
        tokens = chunk.split()
        try:
            nums = np.array(tokens, dtype=np.float64)
        except ValueError:
            k = next(k for k, t in enumerate(tokens) if not _is_number(t))
            line = first_line + text.count("\n", 0, start) + _line_of_token(chunk, k) - 1
            raise fail(
                path,
                f"line {line}: expected a number in {what} but found {tokens[k][:40]!r}",
                "check the file's format",
            ) from None
        if finite and not np.isfinite(nums).all():
            k = int(np.flatnonzero(~np.isfinite(nums))[0])
            line = first_line + text.count("\n", 0, start) + _line_of_token(chunk, k) - 1
            raise fail(
                path,
                f"line {line}: expected a finite number in {what} but found {tokens[k][:40]!r}",
                "NaN and infinite values (or numbers beyond ±1.8e308) are not allowed",
            )
        parts.append(nums)
        start = stop
    return np.concatenate(parts) if parts else np.zeros(0)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _line_of_token(text: str, k: int) -> int:
    """1-based line of the ``k``-th whitespace-separated token of ``text`` (error path only)."""
    seen = 0
    for number, line in enumerate(text.split("\n"), start=1):
        seen += len(line.split())
        if seen > k:
            return number
    return text.count("\n") + 1


def line_of_number(text: str, k: int) -> int:
    """1-based line of the ``k``-th number of ``text`` (for messages about parsed content).

    Example:
        >>> line_of_number("3\\n1 2\\n4 5", 3)
        3
    """
    return _line_of_token(text, k)


def finite_number(path: str | Path, token: str, what: str, line: int | None = None) -> float:
    """``token`` as a finite float, or an :class:`InputFormatError` naming file and line.

    Example:
        >>> finite_number("f.opb", "-2.5", "a coefficient")
        -2.5
    """
    where = f"line {line}: " if line is not None else ""
    try:
        value = float(token)
    except (ValueError, OverflowError):
        value = None
    if value is None or not math.isfinite(value):
        raise fail(
            path,
            f"{where}expected {what} (a finite number) but found {str(token)[:40]!r}",
            "fix the number (NaN and infinite values are not allowed)",
        )
    return value


def declared_count(
    path: str | Path,
    value: object,
    what: str,
    *,
    line: int | None = None,
    budget: str = "variables",
    present: int | None = None,
) -> int:
    """A count the file declares, as an int, checked before anything is allocated for it.

    ``value`` (a token, a float from :func:`parse_numbers` or an int) must be a finite whole
    number ≥ 0, at most the memory budget for ``budget`` (``"terms"``:
    :func:`~kakehashi.limits.max_terms`; ``"ommx"``:
    :func:`~kakehashi.limits.max_ommx_variables`; anything else, e.g. ``"variables"`` or
    ``"constraints"``: :func:`~kakehashi.limits.max_variables`)
    and, when ``present`` is given, at most what the content can hold.

    Example:
        >>> declared_count("g.txt", 16.0, "the vertex count", line=1)
        16
    """
    where = f"line {line}: " if line is not None else ""
    number: int | None = None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        number = int(value)
    else:
        text = str(value).strip()
        if text.lstrip("+").isascii() and text.lstrip("+").isdigit() and len(text) <= 30:
            number = int(text)
        else:
            try:
                f = float(text)
            except (ValueError, OverflowError):
                f = math.nan
            if math.isfinite(f) and f == math.floor(f) and abs(f) < 2**63:
                number = int(f)
    if number is None or number < 0:
        raise fail(
            path,
            f"{where}{what} should be a whole number in [0, 2**63) but is {str(value)[:40]!r}",
            "fix the count",
        )
    if budget == "terms":
        limit, env = max_terms(), "KAKEHASHI_MAX_TERMS"
    elif budget == "ommx":  # read through OMMX: ~1.5 kB per variable (see kakehashi.limits)
        limit, env = max_ommx_variables(), "KAKEHASHI_MAX_VARIABLES (OMMX readers take 1/20)"
        budget = "variables for a file read through OMMX"
    else:  # variables, constraints, nodes
        limit, env = max_variables(), "KAKEHASHI_MAX_VARIABLES"
    if number > limit:
        raise fail(
            path,
            f"{where}{what} is {number}, more than the limit of {limit} {budget}",
            f"if the file is right and this machine has the memory, raise the limit with the "
            f"environment variable {env}",
        )
    if present is not None and number > present:
        raise fail(
            path,
            f"{where}{what} is {number} but the file holds room for at most {present}",
            "the file is truncated or its header is wrong: re-download it or fix the header",
        )
    return number


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
