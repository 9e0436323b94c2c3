"""`exact`: exhaustive enumeration of small discrete problems, evaluated on the Problem itself.

It enumerates the problem's own variables (binaries, spins, bounded integers) — not a
penalised QUBO — so its answer is the true constrained optimum, with no weights involved.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from kakehashi.backends.base import Availability, register
from kakehashi.backends.catalog import Estimate, estimate, info_for
from kakehashi.errors import UnsupportedError
from kakehashi.model.problem import CONTINUOUS, Problem
from kakehashi.result import Result, Timing

MAX_ASSIGNMENTS = 2**24
CHUNK = 2**15


@register("exact")
class ExactBackend:
    """Enumerates every assignment (at most 2²⁴) in vectorised chunks.

    Example:
        >>> import kakehashi
        >>> kakehashi.solve(kakehashi.examples.small_maxcut(), backend="exact").objective
        -5.0
    """

    name = "exact"
    info = info_for("exact")

    def available(self) -> Availability:
        return Availability(True)

    def estimate(self, problem: Problem, **options: Any) -> Estimate:
        """Money and energy of enumerating ``problem``, before the run (from the catalog)."""
        return estimate(self, problem, **options)

    def solve(
        self,
        problem: Problem,
        *,
        time_limit: float | None = None,
        seed: int | None = None,
        keep: int = 32,
        **options: Any,
    ) -> Result:
        t0 = time.perf_counter()
        problem.validate()
        domains = _domains(problem)
        sizes = np.array([d.size for d in domains], dtype=np.float64)
        total = float(np.prod(sizes))
        if total > MAX_ASSIGNMENTS:
            raise UnsupportedError(
                f"'exact' enumerates at most 2^24 assignments; this problem has about "
                f"2^{np.log2(total):.1f}. Use a heuristic backend such as 'tabu' or 'sa', or a "
                "MIP solver ('highs', 'scip')"
            )
        total = int(total)
        sign = 1.0 if problem.sense == "min" else -1.0
        best_X: list[np.ndarray] = []
        best_key: list[np.ndarray] = []
        radices = np.array([d.size for d in domains], dtype=np.int64)
        for start in range(0, total, CHUNK):
            codes = np.arange(start, min(start + CHUNK, total), dtype=np.int64)
            X = _decode_mixed_radix(codes, radices, domains)
            ev = problem.evaluate(X)
            # rank: feasible first, then objective (in min form), then violation
            key = np.where(ev["feasible"], sign * ev["objective"], np.inf)
            if not ev["feasible"].any():
                key = 1e300 + ev["total_violation"]
            top = np.argsort(key, kind="stable")[:keep]
            best_X.append(X[top])
            best_key.append(key[top])
        X = np.concatenate(best_X)
        order = np.argsort(np.concatenate(best_key), kind="stable")[:keep]
        elapsed = time.perf_counter() - t0
        return Result.from_samples(
            problem,
            X[order],
            backend=self.name,
            timing=Timing(solve=elapsed, total=elapsed),
            seed=seed,
            backend_info={"modality": self.info.modality, "vendor": self.info.vendor},
            info={"assignments_enumerated": total},
        )


def _domains(problem: Problem) -> list[np.ndarray]:
    if np.any(problem.vtype == CONTINUOUS):
        raise UnsupportedError(
            "'exact' cannot enumerate continuous variables; use 'highs' or 'scip'"
        )
    # count the assignments before building any domain: an integer in [0, 10**9] alone
    # would otherwise allocate a billion-entry array first
    lo, hi = np.ceil(problem.lower - 1e-9), np.floor(problem.upper + 1e-9)
    spans = np.where(problem.vtype == 1, 2.0, np.maximum(hi - lo + 1, 0))
    if float(np.prod(np.minimum(spans, 2.0**25))) > MAX_ASSIGNMENTS:
        raise UnsupportedError(
            "'exact' enumerates at most 2^24 assignments; this problem has more. Use a heuristic "
            "backend such as 'tabu' or 'sa', or a MIP solver ('highs', 'scip')"
        )
    return [
        np.arange(np.ceil(lo - 1e-9), np.floor(hi + 1e-9) + 1) if vt != 1 else np.array([-1.0, 1.0])
        for lo, hi, vt in zip(problem.lower, problem.upper, problem.vtype, strict=True)
    ]


def _decode_mixed_radix(
    codes: np.ndarray, radices: np.ndarray, domains: list[np.ndarray]
) -> np.ndarray:
    X = np.empty((codes.size, radices.size))
    rest = codes.copy()
    for i in range(radices.size - 1, -1, -1):
        X[:, i] = domains[i][rest % radices[i]]
        rest //= radices[i]
    return X
