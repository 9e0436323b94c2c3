"""The arguments every solve takes — ``time_limit`` and ``seed`` — checked once, up front.

* ``time_limit``: a finite number of seconds, ``0 < time_limit ≤`` :data:`MAX_TIME_LIMIT`
  (one week). ``inf`` or ``1e308`` would make a heuristic run forever or overflow its
  schedule arithmetic; a string such as ``"1"`` is refused rather than guessed at.
* ``seed``: an integer in ``[0,`` :data:`MAX_SEED` ``]`` (``2**63 - 1``, what numpy's
  generators and the engines' int64 kernels take). Negative seeds are refused, not mapped:
  a silent mapping would make ``seed=-1`` and ``seed=2**64-1`` the same run. ``1.5`` and
  ``True`` are refused.

Example:
    >>> check_time_limit(2), check_seed(7)
    (2.0, 7)
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    kakehashi.errors.OptionError: seed=-1 is negative; pass an integer from 0 to \
9223372036854775807 (2**63 - 1)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from kakehashi.errors import OptionError

MAX_TIME_LIMIT = 7 * 24 * 3600.0  # one week: longer runs belong in a job system, not a call
MAX_SEED = 2**63 - 1


def check_time_limit(time_limit: Any) -> float | None:
    """``time_limit`` as float seconds (``None`` stays ``None``: the backend's default)."""
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real):
        raise OptionError(
            f"time_limit={time_limit!r} is not a number; pass seconds as a number, e.g. "
            "time_limit=10"
        )
    value = float(time_limit)
    if not math.isfinite(value) or value <= 0 or value > MAX_TIME_LIMIT:
        raise OptionError(
            f"time_limit={time_limit!r} must be a finite number of seconds with "
            f"0 < time_limit ≤ {MAX_TIME_LIMIT:g} (one week)"
        )
    return value


def check_seed(seed: Any) -> int | None:
    """``seed`` as a Python int in ``[0, MAX_SEED]`` (``None`` stays ``None``)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise OptionError(
            f"seed={seed!r} is not an integer; pass a whole number from 0 to {MAX_SEED} (2**63 - 1)"
        )
    value = int(seed)
    if value < 0:
        raise OptionError(
            f"seed={seed!r} is negative; pass an integer from 0 to {MAX_SEED} (2**63 - 1)"
        )
    if value > MAX_SEED:
        raise OptionError(f"seed={seed!r} is too large; pass an integer from 0 to {MAX_SEED}")
    return value
