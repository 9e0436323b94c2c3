"""The memory budget every reader works within: how much a file may declare and inflate.

A reader refuses a file declaring more than :func:`max_variables` variables or
:func:`max_terms` coefficients, and inflates at most :func:`max_input_bytes` bytes of a
(compressed) file, before allocating anything for it. Each has a sensible default and an
environment override:

===========================  ============  =============================================
variable                      default       what it bounds
===========================  ============  =============================================
``KAKEHASHI_MAX_VARIABLES``   10 000 000    declared variables (files read through OMMX
                                            — QPLIB — take a twentieth of it)
``KAKEHASHI_MAX_TERMS``       100 000 000   declared coefficients / matrix entries
``KAKEHASHI_MAX_INPUT_BYTES`` 268 435 456   bytes read from one file, after gunzipping
===========================  ============  =============================================

(The bounds on ``time_limit`` and ``seed`` live with ``solve``'s own checks, in
:mod:`kakehashi.backends.arguments`.)

Example:
    >>> max_variables() >= 1 and max_terms() >= max_variables()
    True
"""

from __future__ import annotations

import os

from kakehashi.errors import KakehashiError

# Defaults sized so a file that passes them fits in a few GiB of memory: 10 million variables
# (a handful of float64 arrays of 80 MB) and 100 million coefficients.
DEFAULT_MAX_VARIABLES = 10_000_000
DEFAULT_MAX_TERMS = 100_000_000
DEFAULT_MAX_INPUT_BYTES = 256 << 20  # 256 MiB of (decompressed) text


class LimitError(KakehashiError):
    """A budget setting (an environment variable) is not a usable number."""


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
