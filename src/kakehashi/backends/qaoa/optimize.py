"""Classical optimisation of the QAOA angles under an evaluation cap and a deadline.

A few linear-ramp schedules (different total times ``dt``) are evaluated first and the best
starts SciPy's COBYLA — derivative-free, one circuit evaluation per step, robust to shot
noise. The search stops at ``maxiter`` evaluations or at the deadline, whichever comes
first, and always returns the best angles it has seen.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np

from kakehashi.backends.qaoa.circuit import linear_ramp

RAMP_TIMES = (0.4, 0.8, 1.2, 1.6)  # total ramp times tried as starts (H normalised to max 1)


class _OutOfTime(Exception):
    pass


@dataclasses.dataclass
class Optimised:
    """The best angles found, their cost, and how the search went."""

    params: np.ndarray
    value: float
    evaluations: int
    initial_value: float
    stopped: str  # "converged", "maxiter" or "deadline"
    history: list[float]


def optimise_angles(
    cost: Callable[[np.ndarray], float],
    reps: int,
    *,
    maxiter: int,
    deadline: float,
    initial: Sequence[float] | None = None,
    ramp_times: Sequence[float] = RAMP_TIMES,
    rhobeg: float = 0.2,
) -> Optimised:
    """Minimise ``cost(params)`` over ``2·reps`` angles from a linear-ramp start.

    ``deadline`` is a ``time.perf_counter()`` value. ``initial`` replaces the ramp starts.

    Example:
        >>> import time
        >>> best = optimise_angles(lambda p: float(np.sum((p - 0.3) ** 2)), 1,
        ...                        maxiter=200, deadline=time.perf_counter() + 10)
        >>> bool(best.value < 1e-3)
        True
    """
    from scipy.optimize import minimize

    history: list[float] = []
    best = {"x": None, "f": np.inf}

    def tracked(x: np.ndarray) -> float:
        if history and time.perf_counter() > deadline:
            raise _OutOfTime
        f = float(cost(np.asarray(x, dtype=np.float64)))
        history.append(f)
        if f < best["f"]:
            best["x"], best["f"] = np.array(x, dtype=np.float64), f
        return f

    starts = (
        [np.asarray(initial, dtype=np.float64)]
        if initial is not None
        else [linear_ramp(reps, dt) for dt in ramp_times]
    )
    if starts[0].size != 2 * reps:
        from kakehashi.errors import KakehashiError

        raise KakehashiError(
            f"initial_params has {starts[0].size} angles; QAOA with reps={reps} takes "
            f"{2 * reps} ([γ_1 … γ_p, β_1 … β_p])"
        )
    if len(starts) > 1 and maxiter < 2 * len(starts) + 2 * reps + 2:
        # a small evaluation budget goes to COBYLA from one middling ramp, not to starts
        starts = [linear_ramp(reps, ramp_times[len(ramp_times) // 2])]
    stopped = "converged"
    try:
        for x0 in starts:
            tracked(x0)
        initial_value = min(history)
        remaining = maxiter - len(history)
        if remaining >= 2 * reps + 2:  # COBYLA needs n + 2 evaluations to start
            res = minimize(
                tracked,
                best["x"],
                method="COBYLA",
                options={"maxiter": remaining, "rhobeg": rhobeg},
            )
            if len(history) >= maxiter or res.status == 2:
                stopped = "maxiter"
        else:
            stopped = "maxiter"
    except _OutOfTime:
        stopped = "deadline"
        initial_value = min(history[: len(starts)]) if history else np.inf
    return Optimised(
        params=best["x"],
        value=float(best["f"]),
        evaluations=len(history),
        initial_value=float(initial_value),
        stopped=stopped,
        history=history,
    )
