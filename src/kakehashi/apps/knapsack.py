"""0/1 knapsack (capital budgeting, cargo loading): choose items of greatest total value
whose total weight fits the capacity.

Model: ``take[i]`` binary; maximise ``value · take`` subject to ``weight · take ≤ capacity``
(the compiler turns the inequality into a penalty with slack bits for QUBO machines).

Baseline: the exact dynamic programme over capacities (O(n·C), vectorised), the textbook tool
for integer weights; for very large capacities a practitioner would switch to a MIP solver.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> ks = get_use_case("knapsack")
    >>> data = ks.generate(20, seed=4)
    >>> ref = ks.baseline(data)
    >>> ref.status, ks.validate(ref.answer, data).valid
    ('optimal', True)
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from kakehashi.apps.base import Answer, AppDataError, BaselineResult, UseCase, Validation, register
from kakehashi.model.problem import Problem
from kakehashi.result import Result

__all__ = ["Knapsack", "KnapsackData", "Packing", "knapsack_dp"]

#: largest n·(capacity+1) table the exact DP fills (8 bytes a cell for values, 1 for choices)
DP_MAX_CELLS = 200_000_000


@dataclasses.dataclass
class KnapsackData:
    """Items with integer ``weights`` and ``values`` and one integer ``capacity``.

    Example:
        >>> KnapsackData(values=[6, 5, 4], weights=[4, 3, 2], capacity=5).n
        3
    """

    values: np.ndarray
    weights: np.ndarray
    capacity: int
    name: str = "knapsack"

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=np.float64)
        w = np.asarray(self.weights, dtype=np.float64)
        if v.ndim != 1 or v.shape != w.shape or v.size == 0:
            raise AppDataError(
                f"values and weights must be equally long non-empty lists, got {v.shape} and "
                f"{w.shape}"
            )
        if np.any(w != np.round(w)) or np.any(w < 0) or self.capacity != int(self.capacity):
            raise AppDataError(
                "weights and capacity must be non-negative integers (scale them, e.g. grams "
                "instead of kilograms)"
            )
        if self.capacity < 0 or not np.all(np.isfinite(v)):
            raise AppDataError("capacity must be ≥ 0 and values finite")
        self.values, self.weights = v, w.astype(np.int64)
        self.capacity = int(self.capacity)

    @property
    def n(self) -> int:
        return int(self.values.size)


@dataclasses.dataclass
class Packing(Answer):
    """The chosen items (0-based, ascending); ``objective`` is their total value."""

    items: list[int]
    weight: int = 0

    def describe(self, max_items: int = 40) -> str:
        shown = self.items if len(self.items) <= max_items else [*self.items[:max_items], "…"]
        return f"{len(self.items)} items, weight {self.weight}: {shown}"


def make_packing(items: list[int], data: KnapsackData) -> Packing:
    items = sorted(int(i) for i in items)
    ok = all(0 <= i < data.n for i in items)
    return Packing(
        objective=float(data.values[items].sum()) if ok else float("nan"),
        items=items,
        weight=int(data.weights[items].sum()) if ok else -1,
    )


def knapsack_dp(values: np.ndarray, weights: np.ndarray, capacity: int) -> list[int]:
    """Optimal item set by dynamic programming over capacities, one numpy step per item.

    Example:
        >>> knapsack_dp(np.array([6.0, 5, 4]), np.array([4, 3, 2]), 5)
        [1, 2]
    """
    n = len(values)
    if n * (capacity + 1) > DP_MAX_CELLS:
        raise AppDataError(
            f"the DP table would have {n * (capacity + 1):,} cells; scale the weights down "
            "or solve with a MIP backend ('highs', 'scip')"
        )
    best = np.zeros(capacity + 1)
    took = np.zeros((n, capacity + 1), dtype=bool)
    for i in range(n):
        w = int(weights[i])
        if w > capacity:
            continue
        cand = np.full(capacity + 1, -np.inf)
        cand[w:] = best[: capacity + 1 - w] + values[i]
        took[i] = cand > best
        best = np.maximum(best, cand)
    items, c = [], capacity
    for i in range(n - 1, -1, -1):
        if took[i, c]:
            items.append(i)
            c -= int(weights[i])
    return sorted(items)


@register
class Knapsack(UseCase):
    """0/1 knapsack: most valuable subset within a weight limit."""

    name = "knapsack"
    title = "Knapsack"
    domain = "finance / logistics"
    data_type = KnapsackData
    sense = "max"
    baseline_tool = "exact dynamic programming"
    size_meaning = "items"
    max_size = 1_000_000

    def generate(self, size: int, seed: int | None = None) -> KnapsackData:
        """Weakly correlated items (Pisinger's hard class): value ≈ weight ± 10 %, capacity
        half the total weight.

        Example:
            >>> Knapsack().generate(5, seed=1).n
            5
        """
        if size < 1:
            raise AppDataError(f"a knapsack needs at least one item; got size {size}")
        rng = np.random.default_rng(seed)
        r = 100
        w = rng.integers(1, r + 1, size=size)
        v = np.maximum(1, w + rng.integers(-r // 10, r // 10 + 1, size=size))
        return KnapsackData(v.astype(float), w, int(w.sum() // 2), name=f"random{size}-s{seed}")

    def build(self, data: KnapsackData) -> Problem:
        from kakehashi.model.model import Model

        m = Model(f"knapsack-{data.name}")
        take = m.binary("take", shape=data.n)
        m.maximize(data.values @ take)
        m.constrain(data.weights @ take <= data.capacity, name="capacity")
        return m.to_problem()

    def decode(self, result: Result, data: KnapsackData) -> Packing:
        return make_packing(np.flatnonzero(result.solution["take"]).tolist(), data)

    def validate(self, answer: Packing, data: KnapsackData) -> Validation:
        return validate_packing(answer, data)

    def baseline(self, data: KnapsackData, time_limit: float | None = None) -> BaselineResult:
        t0 = time.perf_counter()
        items = knapsack_dp(data.values, data.weights, data.capacity)
        return BaselineResult(
            "dynamic programming", make_packing(items, data), time.perf_counter() - t0, "optimal"
        )


def validate_packing(answer: Packing, data: KnapsackData) -> Validation:
    """Known items, each at most once, total weight within capacity, value recomputed.

    Example:
        >>> d = KnapsackData(values=[6, 5, 4], weights=[4, 3, 2], capacity=5)
        >>> validate_packing(make_packing([0, 1], d), d).errors
        ['total weight 7 exceeds the capacity 5']
    """
    errors: list[str] = []
    items = list(answer.items)
    bad = [i for i in items if not 0 <= i < data.n]
    if bad:
        errors.append(f"unknown items {bad[:5]}")
        return Validation.from_errors(errors, None)
    dup = sorted({i for i in items if items.count(i) > 1})
    if dup:
        errors.append(f"items {dup[:5]} are taken more than once")
    weight = int(data.weights[items].sum())
    if weight > data.capacity:
        errors.append(f"total weight {weight} exceeds the capacity {data.capacity}")
    value = float(data.values[sorted(set(items))].sum())
    if not np.isclose(value, answer.objective):
        errors.append(f"the stated value {answer.objective:g} is not the items' value {value:g}")
    return Validation.from_errors(errors, value)
