"""``backend="auto", portfolio=k``: race the router's top k backends (kakehashi.executors)."""

from __future__ import annotations

import time
from typing import Any

from kakehashi.errors import KakehashiError
from kakehashi.model.problem import Problem
from kakehashi.result import Result


def race_top(
    problem: Problem,
    decision: Any,
    k: int,
    *,
    time_limit: float | None,
    seed: int | None,
    t0: float,
    **options: Any,
) -> Result:
    """Race the ``k`` best-ranked eligible backends of ``decision`` on ``problem``; the
    result carries the router's explanation with the race's entrants."""
    if isinstance(k, bool) or not (isinstance(k, int) and k >= 1):
        raise KakehashiError(f"portfolio must be a whole number ≥ 1 of backends, got {k!r}")
    names = decision.top(k)
    try:
        from kakehashi.executors.race import race
    except ImportError:
        raise KakehashiError(
            "portfolio= races backends with kakehashi.executors.race, which this build of "
            "kakehashi lacks; solve with backend='auto' (one backend) instead"
        ) from None
    result = race(problem, names, time_limit=time_limit, seed=seed, **options)
    result.timing.total = time.perf_counter() - t0
    info = decision.to_dict()
    info["portfolio"] = names
    info["reason"] = f"raced {', '.join(names)} (portfolio={k}); " + decision.reason
    result.info["auto_choice"] = result.backend
    result.info["router"] = info
    return result
