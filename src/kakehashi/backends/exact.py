"""`exact`: exhaustive enumeration of small discrete problems, evaluated on the Problem itself.

It enumerates the problem's own variables (binaries, spins, bounded integers) — not a
penalised QUBO — so its answer is the true constrained optimum, with no weights involved.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from kakehashi.backends.applicability import Applicability
from kakehashi.backends.base import BaseBackend, RunOutput, register
from kakehashi.backends.catalog import info_for
from kakehashi.backends.params import Param
from kakehashi.errors import UnsupportedError
from kakehashi.model.problem import CONTINUOUS, SPIN, Problem

MAX_ASSIGNMENTS = 2**24
CHUNK = 2**15


@register("exact")
class ExactBackend(BaseBackend):
    """Enumerates every assignment (at most 2²⁴) in vectorised chunks.

    Example:
        >>> import kakehashi
        >>> kakehashi.solve(kakehashi.examples.small_maxcut(), backend="exact").objective
        -5.0
    """

    name = "exact"
    info = info_for("exact")
    parameters = (Param("keep", int, 32, "best assignments kept", low=1, high=1_000_000),)

    def variable_limit(self) -> int | None:
        return None  # the limit is on assignments, checked in check()

    def check(self, problem: Problem) -> Applicability:
        """The catalog's check plus the enumeration limit (2^24 assignments), computed from
        the bounds alone — no domain is built before it passes.

        Example:
            >>> import kakehashi
            >>> report = kakehashi.get_backend("exact").check(kakehashi.examples.knapsack(30))
            >>> report.ok, report.reasons[0][:55]
            (False, 'it enumerates at most 2^24 assignments and this problem')
        """
        report = super().check(problem)
        if report.ok:
            log2 = assignments_log2(problem)
            if log2 > np.log2(MAX_ASSIGNMENTS):
                report.ok = False
                report.reasons.append(
                    f"it enumerates at most 2^24 assignments and this problem has about "
                    f"2^{log2:.1f} (use a heuristic such as 'tabu' or 'sa', or a MIP solver "
                    "such as 'highs')"
                )
        return report

    def run(
        self, problem: Problem, *, time_limit: float, seed: int | None, options: dict[str, Any]
    ) -> RunOutput:
        keep = int(options.get("keep", 32))
        t0 = time.perf_counter()
        domains = _domains(problem)
        radices = np.array([d.size for d in domains], dtype=np.int64)
        total = int(np.prod(radices.astype(np.float64)))
        sign = 1.0 if problem.sense == "min" else -1.0
        best_X: list[np.ndarray] = []
        best_key: list[np.ndarray] = []
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
        return RunOutput(
            samples=X[order],
            solve_seconds=time.perf_counter() - t0,
            info={"assignments_enumerated": total},
        )


def assignments_log2(problem: Problem) -> float:
    """log2 of the number of assignments of ``problem``'s discrete variables (inf when an
    integer is unbounded), from the bounds alone.

    Example:
        >>> import kakehashi
        >>> assignments_log2(kakehashi.examples.small_maxcut())
        5.0
    """
    lo = np.ceil(problem.lower - 1e-9)
    hi = np.floor(problem.upper + 1e-9)
    with np.errstate(invalid="ignore", over="ignore"):
        sizes = np.where(problem.vtype == SPIN, 2.0, hi - lo + 1.0)
    if not np.all(np.isfinite(sizes)):
        return float("inf")
    return float(np.sum(np.log2(np.maximum(sizes, 1.0))))


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
