"""The documented bounds on arguments and input sizes, and the checks that enforce them.

One place for the numbers every entry point shares (the CLI, ``kakehashi.solve``, the
readers), so a bound means the same thing wherever it is met.

- ``time_limit``: a finite number of seconds, ``0 < t ≤ MAX_TIME_LIMIT`` (30 days).
- ``seed``: an integer, ``0 ≤ seed ≤ MAX_SEED`` (``2**32 − 1``, the widest range every engine
  and vendor sampler accepts).
- Input sizes: a reader refuses a file declaring more than :func:`max_variables` variables or
  :func:`max_terms` coefficients, and inflates at most :func:`max_input_bytes` bytes of a
  compressed file. Each has a sensible default and an environment override
  (``KAKEHASHI_MAX_VARIABLES``, ``KAKEHASHI_MAX_TERMS``, ``KAKEHASHI_MAX_INPUT_BYTES``).

Example:
    >>> check_time_limit(2.5)
    2.5
    >>> check_seed(7)
    7
"""

from __future__ import annotations

import math
import numbers
import os

from kakehashi.errors import KakehashiError

MAX_TIME_LIMIT = 30 * 24 * 3600.0
MAX_SEED = 2**32 - 1

# Defaults sized so a file that passes them fits in a few GiB of memory: 10 million variables
# (a handful of float64 arrays of 80 MB) and 100 million coefficients.
DEFAULT_MAX_VARIABLES = 10_000_000
DEFAULT_MAX_TERMS = 100_000_000
DEFAULT_MAX_INPUT_BYTES = 256 << 20  # 256 MiB of (decompressed) text


class LimitError(KakehashiError):
    """An argument or a declared size is outside its documented bound."""


def check_time_limit(value: object, what: str = "time_limit") -> float:
    """``value`` as seconds, or a :class:`LimitError` unless finite and in (0, MAX_TIME_LIMIT].

    Example:
        >>> check_time_limit(1)
        1.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise LimitError(
            f"{what} must be a number of seconds, got {type(value).__name__} {value!r}; "
            f"give e.g. {what}=10"
        )
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_TIME_LIMIT:
        raise LimitError(
            f"{what} must be a finite number of seconds in (0, {MAX_TIME_LIMIT:.0f}] "
            f"(30 days), got {value!r}; give e.g. {what}=10"
        )
    return seconds


def check_seed(value: object, what: str = "seed") -> int:
    """``value`` as an integer seed, or a :class:`LimitError` unless in [0, MAX_SEED].

    Example:
        >>> check_seed(2**32 - 1)
        4294967295
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise LimitError(
            f"{what} must be an integer in [0, {MAX_SEED}], got {type(value).__name__} "
            f"{value!r}; give e.g. {what}=7"
        )
    if not 0 <= int(value) <= MAX_SEED:
        raise LimitError(
            f"{what} must be an integer in [0, {MAX_SEED}] (2**32 - 1), got {value}; "
            f"give e.g. {what}=7"
        )
    return int(value)


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        raise LimitError(
            f"environment variable {name}={text!r} is not an integer; unset it or give a "
            f"positive whole number (default {default})"
        ) from None
    if value < 1:
        raise LimitError(f"environment variable {name}={value} must be at least 1")
    return value


def max_variables() -> int:
    """Most variables a reader accepts (``KAKEHASHI_MAX_VARIABLES``, default 10 million)."""
    return _env_int("KAKEHASHI_MAX_VARIABLES", DEFAULT_MAX_VARIABLES)


# A variable read through OMMX (QPLIB, MPS, .ommx) costs about 1.5 kB and 40 µs on its way
# into a Problem (measured: 200 000 declared QPLIB variables, 370 MB and 8.5 s), against
# ~50 bytes for the array readers: those readers take a twentieth of the variable budget.
OMMX_VARIABLE_SHARE = 20


def max_ommx_variables() -> int:
    """Most variables a file read through OMMX may declare (``max_variables() // 20``)."""
    return max(1, max_variables() // OMMX_VARIABLE_SHARE)


def max_terms() -> int:
    """Most coefficients a reader accepts (``KAKEHASHI_MAX_TERMS``, default 100 million)."""
    return _env_int("KAKEHASHI_MAX_TERMS", DEFAULT_MAX_TERMS)


def max_input_bytes() -> int:
    """Most bytes a reader takes from one file, after decompression (default 256 MiB)."""
    return _env_int("KAKEHASHI_MAX_INPUT_BYTES", DEFAULT_MAX_INPUT_BYTES)
