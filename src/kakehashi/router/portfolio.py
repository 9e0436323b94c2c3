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
    max_cost: float | None = None,
    **options: Any,
) -> Result:
    """Race the ``k`` best-ranked eligible backends of ``decision`` on ``problem``; the
    result carries the router's explanation with the race's entrants."""
    if isinstance(k, bool) or not (isinstance(k, int) and k >= 1):
        raise KakehashiError(f"portfolio must be a whole number ≥ 1 of backends, got {k!r}")
    names = decision.top(k)
    try:
        from kakehashi.executors.race import race
    except ModuleNotFoundError as exc:
        if exc.name not in ("kakehashi.executors", "kakehashi.executors.race"):
            raise
        raise KakehashiError(
            "portfolio= races backends with kakehashi.executors.race, which this build of "
            "kakehashi lacks; solve with backend='auto' (one backend) instead"
        ) from None
    if max_cost is not None:
        options["max_cost"] = max_cost  # each contestant checks its own estimate too
    result = race(problem, names, time_limit=time_limit, seed=seed, **options)
    result.timing.total = time.perf_counter() - t0
    info = decision.to_dict()
    info["portfolio"] = names
    info["reason"] = race_reason(decision, names, k, result)
    result.info["auto_choice"] = result.backend
    result.info["router"] = info
    return result


def race_reason(decision: Any, names: list[str], k: int, result: Result) -> str:
    """ "auto raced a, b (portfolio=2): b won (optimal); a predicted …; b predicted …"."""
    race_info = result.info.get("race", {}) if isinstance(result.info, dict) else {}
    how = race_info.get("decided_by")
    won = f"{result.backend} won" + (f" ({how})" if how else "")
    prefix = f"auto chose {decision.choice}: "
    ranking = decision.reason
    if ranking.startswith(prefix):  # the top pick's prediction, in the runners-up's words
        ranking = f"{decision.choice} " + ranking[len(prefix) :]
    return f"auto raced {', '.join(names)} (portfolio={k}): {won}; {ranking}"
