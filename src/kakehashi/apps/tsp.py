"""Travelling salesman (logistics): visit every city once and return, shortest tour first.

Model (position encoding, city 0 fixed first so the model has (n−1)² binaries):
``x[k, c] = 1`` when city ``c+1`` is the ``(k+1)``-th stop. Every step holds one city and
every city one step (two one-hot groups); the tour length is
``d[0]·x[0] + Σ_k x[k] D x[k+1] + x[n−2]·d[:,0]``, quadratic in ``x``.

Reader: TSPLIB95 ``.tsp``/``.atsp`` with TSPLIB's distance rules (see
:mod:`kakehashi.apps._tsplib`). Baseline: exact Held–Karp dynamic programming up to
:data:`HELD_KARP_MAX_CITIES` cities, else Google OR-Tools routing (guided local search) — what a
practitioner would reach for.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> tsp = get_use_case("tsp")
    >>> data = tsp.load("burma14")                     # TSPLIB GEO distances
    >>> held_karp(data.distances)[0]                    # the published optimum
    3323.0
    >>> small = tsp.generate(8, seed=1)
    >>> ref = tsp.baseline(small)                       # Held–Karp: proven optimal
    >>> ref.status, tsp.validate(ref.answer, small).valid
    ('optimal', True)
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from kakehashi.apps._routing import clustered_points, ortools_routes
from kakehashi.apps.base import Answer, AppDataError, BaselineResult, UseCase, Validation, register
from kakehashi.model.problem import Problem
from kakehashi.result import Result

__all__ = ["HELD_KARP_MAX_CITIES", "Tour", "Tsp", "TspData", "held_karp", "tour_length"]

#: largest instance the baseline solves exactly by Held–Karp (2^(n-1)·n² work)
HELD_KARP_MAX_CITIES = 13


@dataclasses.dataclass
class TspData:
    """A travelling-salesman instance: an (n, n) distance matrix (asymmetric allowed).

    ``coords`` are kept for plotting when the instance came from coordinates.

    Example:
        >>> TspData(np.array([[0, 2, 9], [2, 0, 6], [9, 6, 0]])).n
        3
    """

    distances: np.ndarray
    name: str = "tsp"
    coords: np.ndarray | None = None
    edge_weight_type: str = "EXPLICIT"

    def __post_init__(self) -> None:
        d = np.asarray(self.distances, dtype=np.float64)
        if d.ndim != 2 or d.shape[0] != d.shape[1]:
            raise AppDataError(f"TSP distances must be a square (n, n) matrix, got shape {d.shape}")
        if d.shape[0] < 3:
            raise AppDataError(
                f"a TSP needs at least 3 cities, got {d.shape[0]}; with fewer there is only "
                "one tour"
            )
        if not np.all(np.isfinite(d)) or np.any(d < 0):
            raise AppDataError(
                "TSP distances must be finite and non-negative; replace missing links by a "
                "large number"
            )
        self.distances = d

    @property
    def n(self) -> int:
        return int(self.distances.shape[0])


@dataclasses.dataclass
class Tour(Answer):
    """A tour: the order in which cities (0-based indices) are visited; it returns to the
    first. ``objective`` is its length (``nan`` when the sample is not a tour)."""

    tour: list[int]

    def describe(self, max_items: int = 40) -> str:
        shown = self.tour if len(self.tour) <= max_items else [*self.tour[:max_items], "…"]
        return (
            "tour "
            + " → ".join(str(c) for c in shown)
            + (f" → {self.tour[0]}" if self.tour and len(self.tour) <= max_items else "")
        )


def make_tour(tour: list[int], data: TspData) -> Tour:
    """A :class:`Tour` answer with its length computed from the data (``nan`` if broken)."""
    tour = [int(c) for c in tour]
    ok = sorted(tour) == list(range(data.n))
    length = tour_length(tour, data.distances) if ok else float("nan")
    return Tour(objective=length, tour=tour)


def tour_length(tour: list[int] | np.ndarray, distances: np.ndarray) -> float:
    """Length of the closed tour (back to its first city).

    Example:
        >>> tour_length([0, 1, 2], np.array([[0, 2, 9], [2, 0, 6], [9, 6, 0]]))
        17.0
    """
    t = np.asarray(tour, dtype=np.int64)
    return float(np.asarray(distances)[t, np.roll(t, -1)].sum())


def held_karp(distances: np.ndarray) -> tuple[float, list[int]]:
    """Exact shortest tour by Held–Karp dynamic programming (fine up to ~17 cities).

    Vectorised over all subsets of one size at a time; memory 2^(n−1)·(n−1) entries.

    Example:
        >>> held_karp(np.array([[0, 1, 9, 1], [1, 0, 1, 9], [9, 1, 0, 1], [1, 9, 1, 0.]]))
        (4.0, [0, 3, 2, 1])
    """
    d = np.asarray(distances, dtype=np.float64)
    n = d.shape[0]
    if n > 20:
        raise AppDataError(f"Held–Karp is exponential; {n} cities is too many (at most 20)")
    m = n - 1  # cities 1..n-1 are subset bits 0..m-1
    full = 1 << m
    dp = np.full((full, m), np.inf)
    parent = np.full((full, m), -1, dtype=np.int8)
    bits = 1 << np.arange(m)
    dp[bits, np.arange(m)] = d[0, 1:]
    popcount = np.array([bin(s).count("1") for s in range(full)]) if m <= 16 else None
    if popcount is None:
        popcount = np.zeros(full, dtype=np.int64)
        for b in range(m):
            popcount += (np.arange(full) >> b) & 1
    inner = d[1:, 1:]
    for size in range(2, m + 1):
        masks = np.flatnonzero(popcount == size)
        # prev[s, j]: the subset without j (only meaningful when j is in s)
        has_j = (masks[:, None] & bits[None, :]) != 0
        prev = masks[:, None] ^ bits[None, :]
        # cand[s, j, i] = dp[prev(s, j), i] + d(i → j)
        cand = dp[prev] + inner.T[None, :, :]
        best_i = np.argmin(cand, axis=2)
        best = np.take_along_axis(cand, best_i[..., None], axis=2)[..., 0]
        best[~has_j] = np.inf
        dp[masks] = best
        parent[masks] = best_i
    last = dp[full - 1] + d[1:, 0]
    j = int(np.argmin(last))
    length = float(last[j])
    order, s = [], full - 1
    while j >= 0:
        order.append(j + 1)
        pj = int(parent[s, j])
        s ^= 1 << j
        j = pj if s else -1
    return length, [0, *order[::-1]]


def ortools_tsp(distances: np.ndarray, time_limit: float) -> tuple[list[int], dict]:
    """Best tour OR-Tools routing finds in ``time_limit`` s (guided local search)."""
    routes, info = ortools_routes(
        distances,
        time_limit,
        problem="TSP",
        no_solution="OR-Tools routing found no tour; check the distance matrix",
    )
    return [0, *routes[0]], info


@register
class Tsp(UseCase):
    """Travelling salesman: shortest closed tour through every city."""

    name = "tsp"
    title = "Travelling salesman"
    domain = "logistics"
    data_type = TspData
    sense = "min"
    baseline_tool = "Held–Karp (≤13 cities) / OR-Tools routing"
    size_meaning = "cities"
    max_size = 250
    file_suffixes = (".tsp", ".atsp")

    def generate(self, size: int, seed: int | None = None) -> TspData:
        """Cities clustered around towns in a 1000×1000 square, TSPLIB EUC_2D distances.

        Example:
            >>> Tsp().generate(6, seed=3).n
            6
        """
        from kakehashi.apps._tsplib import distance_matrix

        if size < 3:
            raise AppDataError(f"a TSP needs at least 3 cities; got size {size}")
        rng = np.random.default_rng(seed)
        pts = clustered_points(int(size), rng)
        return TspData(
            distance_matrix(pts, "EUC_2D"),
            name=f"random{size}-s{seed}",
            coords=pts,
            edge_weight_type="EUC_2D",
        )

    def read(self, path: str | Path) -> TspData:
        """Read a TSPLIB ``.tsp``/``.atsp`` file."""
        from kakehashi.apps._tsplib import read_tsplib

        f = read_tsplib(path)
        if f.type not in ("TSP", "ATSP"):
            raise AppDataError(
                f"{path}: TYPE is {f.type}, not TSP/ATSP; read CVRP files with the 'cvrp' use case"
            )
        return TspData(
            f.distances, name=f.name, coords=f.coords, edge_weight_type=f.edge_weight_type
        )

    def build(self, data: TspData) -> Problem:
        from kakehashi.model.model import Model

        D = data.distances
        m = Model(f"tsp-{data.name}")
        x = m.binary("x", shape=(data.n - 1, data.n - 1))
        inner = D[1:, 1:]
        m.minimize(D[0, 1:] @ x[0] + ((x[:-1] @ inner) * x[1:]).sum() + x[-1] @ D[1:, 0])
        m.one_hot(x, axis=1, name="one_city_per_step")
        m.one_hot(x, axis=0, name="one_step_per_city")
        return m.to_problem()

    def decode(self, result: Result, data: TspData) -> Tour:
        x = result.solution["x"]
        # a step holding no city or several is reported as -1: the sample is not a tour
        steps = np.where(x.sum(axis=1) == 1, x.argmax(axis=1) + 1, -1)
        return make_tour([0, *steps.tolist()], data)

    def validate(self, answer: Tour, data: TspData) -> Validation:
        return validate_tour(answer, data)

    def baseline(self, data: TspData, time_limit: float | None = None) -> BaselineResult:
        t0 = time.perf_counter()
        if data.n <= HELD_KARP_MAX_CITIES:
            _, tour = held_karp(data.distances)
            return BaselineResult(
                "Held–Karp dynamic programming",
                make_tour(tour, data),
                time.perf_counter() - t0,
                "optimal",
            )
        tour, info = ortools_tsp(data.distances, 2.0 if time_limit is None else time_limit)
        return BaselineResult(
            "OR-Tools routing (guided local search)",
            make_tour(tour, data),
            time.perf_counter() - t0,
            "heuristic",
            info=info,
        )


def validate_tour(answer: Tour, data: TspData) -> Validation:
    """Every city exactly once, only real cities, and the stated length recomputed.

    Example:
        >>> d = TspData(np.array([[0, 2, 9], [2, 0, 6], [9, 6, 0]]))
        >>> validate_tour(make_tour([0, 1, 1], d), d).errors
        ['city 1 is visited 2 times', 'city 2 is never visited']
    """
    errors: list[str] = []
    tour = list(answer.tour)
    unknown = [c for c in tour if not 0 <= c < data.n]
    if unknown:
        errors.append(f"the tour names {len(unknown)} stop(s) that are no city: {unknown[:5]}")
    counts = np.bincount([c for c in tour if 0 <= c < data.n], minlength=data.n)
    errors += [f"city {c} is visited {counts[c]} times" for c in np.flatnonzero(counts > 1)]
    errors += [f"city {c} is never visited" for c in np.flatnonzero(counts == 0)]
    if errors:
        return Validation.from_errors(errors, None)
    length = tour_length(tour, data.distances)
    if not np.isclose(length, answer.objective):
        errors.append(f"the stated length {answer.objective:g} is not the tour's length {length:g}")
    return Validation.from_errors(errors, length)
