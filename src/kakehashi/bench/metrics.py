"""Benchmark metrics: success, gap, time-to-solution (TTS99) and bootstrap intervals.

Definitions (also in docs/benchmarking.md):

* **target** — the best-known value of an instance when the suite gives one, else the best
  feasible objective any backend found in the same store ("best found here", said so).
* **gap** — how far a run's best feasible objective is from the target, relative to
  ``|target|``, positive when worse, in the problem's own sense (``None`` when infeasible).
* **success** — the run's best answer is feasible and within ``target_gap`` of the target
  (0 = reach the target itself, up to a rounding tolerance of 1e-9 relative).
* **TTS99** — expected time to reach the target at least once with 99% confidence by
  independent repeated runs of length ``t``:  ``t · ln(0.01) / ln(1 − p)`` where ``p`` is the
  success probability; ``inf`` when ``p = 0``; ``t`` when ``p = 1``; and never below ``t``
  (one run is the least one can do).
* **bootstrap CI** — percentile interval from resampling the runs with replacement
  (seeded, so reports are reproducible).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from kakehashi.errors import KakehashiError

REL_TOL = 1e-9
ABS_TOL = 1e-9


def tts(t: float, p: float, confidence: float = 0.99) -> float:
    """Time to reach the target with probability ``confidence`` by repeating runs of ``t`` s.

    Example:
        >>> tts(1.0, 0.0), tts(2.0, 1.0), round(tts(1.0, 0.5), 4)
        (inf, 2.0, 6.6439)
    """
    if not 0 < confidence < 1:
        raise KakehashiError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if not 0 <= p <= 1 or math.isnan(p):
        raise KakehashiError(f"a success probability lies in [0, 1], got {p}")
    if t < 0 or math.isnan(t):
        raise KakehashiError(f"a run time is ≥ 0 seconds, got {t}")
    if p == 0:
        return math.inf
    if p >= confidence:
        return float(t)  # one run already reaches the confidence
    return float(t) * max(1.0, math.log(1 - confidence) / math.log(1 - p))


def tts99(t: float, p: float) -> float:
    """TTS at 99% confidence: ``t · ln(0.01)/ln(1 − p)`` (``inf`` at p = 0, ``t`` at p = 1).

    Example:
        >>> round(tts99(0.5, 0.2), 4)
        10.3189
    """
    return tts(t, p, 0.99)


def _tts_vec(t: np.ndarray, p: np.ndarray, confidence: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(1 - confidence) / np.log1p(-p)
    ratio = np.where(p >= confidence, 1.0, np.maximum(ratio, 1.0))
    return np.where(p <= 0, np.inf, t * ratio)


def quantile_sorted(values: np.ndarray, q: float) -> float:
    """Order-statistic quantile (no interpolation, so ``inf`` values stay well defined)."""
    v = np.sort(np.asarray(values, dtype=float))
    if v.size == 0:
        return math.nan
    k = min(v.size - 1, max(0, math.ceil(q * v.size) - 1))
    return float(v[k])


def bootstrap_ci(
    data: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over the rows of ``data``.

    ``statistic`` takes a (resamples, n, ...) array and returns (resamples,) values, so all
    resamples are computed in one vectorised call.

    Example:
        >>> lo, hi = bootstrap_ci(np.arange(100.0), lambda x: x.mean(axis=1), seed=1)
        >>> 40 < lo < 49.5 < hi < 59
        True
    """
    arr = np.asarray(data, dtype=float)
    n = arr.shape[0]
    if n == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    stats = np.asarray(statistic(arr[idx]), dtype=float)
    alpha = (1 - level) / 2
    return quantile_sorted(stats, alpha), quantile_sorted(stats, 1 - alpha)


def success_ci(
    success: Sequence[bool], *, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap interval of the success probability."""
    s = np.asarray(success, dtype=float)
    return bootstrap_ci(s, lambda x: x.mean(axis=1), level=level, seed=seed)


def tts_with_ci(
    times: Sequence[float],
    success: Sequence[bool],
    *,
    confidence: float = 0.99,
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """TTS (run time = median of ``times``) and its bootstrap interval over the runs.

    Example:
        >>> est, lo, hi = tts_with_ci([1.0] * 10, [True] * 5 + [False] * 5, seed=3)
        >>> round(est, 3), lo <= est <= hi
        (6.644, True)
    """
    t = np.asarray(times, dtype=float)
    s = np.asarray(success, dtype=float)
    if t.shape != s.shape:
        raise KakehashiError("times and success must have one entry per run")
    if t.size == 0:
        return math.nan, math.nan, math.nan
    est = tts(float(np.median(t)), float(s.mean()), confidence)
    both = np.stack([t, s], axis=1)

    def stat(x: np.ndarray) -> np.ndarray:
        return _tts_vec(np.median(x[:, :, 0], axis=1), x[:, :, 1].mean(axis=1), confidence)

    lo, hi = bootstrap_ci(both, stat, level=level, resamples=resamples, seed=seed)
    return est, lo, hi


def gap(objective: float | None, target: float | None, sense: str) -> float | None:
    """Relative distance to the target, positive when worse (absolute when the target is 0).

    Example:
        >>> gap(95.0, 100.0, "max"), gap(105.0, 100.0, "min"), gap(-3.0, 0.0, "min")
        (0.05, 0.05, -3.0)
    """
    if objective is None or target is None or not math.isfinite(objective):
        return None
    diff = objective - target if sense == "min" else target - objective
    return diff / abs(target) if target != 0 else diff


def reached(
    objective: float | None, target: float | None, sense: str, target_gap: float = 0.0
) -> bool:
    """Whether ``objective`` is within ``target_gap`` (relative) of ``target``."""
    g = gap(objective, target, sense)
    if g is None:
        return False
    tol = max(REL_TOL, target_gap) if target else max(ABS_TOL, target_gap)
    return g <= tol


def geometric_mean(values: Sequence[float]) -> float:
    """Geometric mean of the positive finite values (``nan`` when there are none)."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x) and x > 0])
    return float(np.exp(np.log(v).mean())) if v.size else math.nan


def pareto_front(points: np.ndarray) -> np.ndarray:
    """Mask of the non-dominated rows of ``points`` (every column: lower is better).

    Example:
        >>> pareto_front(np.array([[1, 5], [2, 2], [3, 3], [5, 1]])).tolist()
        [True, True, False, True]
    """
    pts = np.asarray(points, dtype=float)
    keep = np.ones(len(pts), dtype=bool)
    for i, p in enumerate(pts):
        if np.any(np.isnan(p)):
            keep[i] = False
            continue
        others = np.delete(pts, i, axis=0)
        others = others[~np.isnan(others).any(axis=1)]
        dominated = np.any(np.all(others <= p, axis=1) & np.any(others < p, axis=1))
        keep[i] = not dominated
    return keep
