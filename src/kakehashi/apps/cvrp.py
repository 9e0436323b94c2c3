"""Capacitated vehicle routing (logistics): serve every customer from one depot with a fleet
of equal trucks, no truck loaded beyond its capacity, shortest total distance.

Model: ``x[k, t, v] = 1`` when truck ``k``'s ``t``-th slot is node ``v`` (node 0 is the depot:
an empty slot). Every slot holds one node, every customer is in exactly one slot of one truck
(two one-hot groups), and each truck's load is at most the capacity (a linear inequality the
compiler encodes with slack bits). The distance is
``Σ_k d[0]·x[k,0] + Σ_t x[k,t] D x[k,t+1] + x[k,T−1]·d[:,0]``. A truck has
:func:`max_stops` slots — as many customers as its capacity can possibly carry.

Reader: TSPLIB/CVRPLIB ``.vrp`` (TSPLIB distance rules; the fleet size from ``VEHICLES`` or the
``-kN`` in the name). Baseline: Google OR-Tools routing with a capacity dimension (guided local
search); instances of up to :data:`EXACT_MAX_CUSTOMERS` customers are solved exactly by dynamic
programming over customer subsets.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> cvrp = get_use_case("cvrp")
    >>> data = cvrp.generate(5, seed=2)
    >>> ref = cvrp.baseline(data)                       # exact: 5 customers
    >>> ref.status, cvrp.validate(ref.answer, data).valid
    ('optimal', True)
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from pathlib import Path

import numpy as np

from kakehashi.apps._routing import clustered_points, ortools_routes
from kakehashi.apps.base import Answer, AppDataError, BaselineResult, UseCase, Validation, register
from kakehashi.model.problem import Problem
from kakehashi.result import Result

__all__ = ["EXACT_MAX_CUSTOMERS", "Cvrp", "CvrpData", "Routes", "exact_cvrp", "max_stops"]

#: largest instance the baseline solves exactly (subset DP: 3^n work)
EXACT_MAX_CUSTOMERS = 8


@dataclasses.dataclass
class CvrpData:
    """A CVRP instance; node 0 is the depot (its demand must be 0).

    Example:
        >>> d = np.array([[0, 4, 4], [4, 0, 2], [4, 2, 0]])
        >>> CvrpData(d, demand=np.array([0, 3, 4]), capacity=5, vehicles=2).customers
        2
    """

    distances: np.ndarray
    demand: np.ndarray
    capacity: int
    vehicles: int
    name: str = "cvrp"
    coords: np.ndarray | None = None

    def __post_init__(self) -> None:
        d = np.asarray(self.distances, dtype=np.float64)
        q = np.asarray(self.demand, dtype=np.int64)
        if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] < 2:
            raise AppDataError(
                f"CVRP distances must be a square (n, n) matrix over the depot and at least "
                f"one customer, got shape {d.shape}"
            )
        if not np.all(np.isfinite(d)) or np.any(d < 0):
            raise AppDataError("CVRP distances must be finite and non-negative")
        if q.shape != (d.shape[0],):
            raise AppDataError(
                f"demand has {q.size} entries but there are {d.shape[0]} nodes (depot first)"
            )
        if q[0] != 0:
            raise AppDataError(f"node 0 is the depot; its demand must be 0, got {q[0]}")
        if np.any(q < 0):
            raise AppDataError("demands must be non-negative")
        if self.capacity <= 0 or self.vehicles <= 0:
            raise AppDataError(
                f"capacity ({self.capacity}) and vehicles ({self.vehicles}) must be positive"
            )
        if q.max() > self.capacity:
            raise AppDataError(
                f"customer {int(q.argmax())} demands {q.max()}, more than a truck's capacity "
                f"{self.capacity}; no plan can serve it"
            )
        if q.sum() > self.capacity * self.vehicles:
            raise AppDataError(
                f"total demand {q.sum()} exceeds the fleet's capacity "
                f"{self.vehicles} × {self.capacity}; add trucks"
            )
        self.distances, self.demand = d, q
        self.capacity, self.vehicles = int(self.capacity), int(self.vehicles)

    @property
    def customers(self) -> int:
        return int(self.distances.shape[0] - 1)


@dataclasses.dataclass
class Routes(Answer):
    """One route per used truck: customers (node indices, depot 0 excluded) in visiting
    order; each route starts and ends at the depot. ``objective`` is the total distance."""

    routes: list[list[int]]

    def describe(self, max_items: int = 40) -> str:
        parts = [" → ".join(["0", *map(str, r), "0"]) for r in self.routes]
        text = " | ".join(parts)
        return f"{len(self.routes)} routes: " + (text if len(text) < 400 else text[:400] + " …")


def routes_length(routes: list[list[int]], distances: np.ndarray) -> float:
    """Total distance of routes that each start and end at the depot (node 0).

    Example:
        >>> routes_length([[1], [2]], np.array([[0, 4, 4], [4, 0, 2], [4, 2, 0]]))
        16.0
    """
    total = 0.0
    for r in routes:
        if r:
            path = np.array([0, *r, 0])
            total += float(distances[path[:-1], path[1:]].sum())
    return total


def make_routes(routes: list[list[int]], data: CvrpData) -> Routes:
    routes = [[int(c) for c in r] for r in routes if len(r)]
    ok = all(0 < c <= data.customers for r in routes for c in r)
    return Routes(
        objective=routes_length(routes, data.distances) if ok else float("nan"), routes=routes
    )


def max_stops(data: CvrpData) -> int:
    """Most customers one truck can carry: the count of the smallest demands that fit.

    Example:
        >>> d = CvrpData(np.zeros((4, 4)), np.array([0, 2, 3, 4]), capacity=5, vehicles=3)
        >>> max_stops(d)
        2
    """
    q = np.sort(data.demand[1:])
    fit = int(np.searchsorted(np.cumsum(q), data.capacity, side="right"))
    return max(1, min(fit, data.customers))


def _route_costs(d: np.ndarray) -> np.ndarray:
    """Shortest depot→S→depot tour for every customer subset S (bit i = customer i+1)."""
    m = d.shape[0] - 1
    full = 1 << m
    bits = 1 << np.arange(m)
    dp = np.full((full, m), np.inf)
    dp[bits, np.arange(m)] = d[0, 1:]
    popcount = np.zeros(full, dtype=np.int64)
    for b in range(m):
        popcount += (np.arange(full) >> b) & 1
    inner = d[1:, 1:]
    for size in range(2, m + 1):
        masks = np.flatnonzero(popcount == size)
        has_j = (masks[:, None] & bits[None, :]) != 0
        cand = dp[masks[:, None] ^ bits[None, :]] + inner.T[None, :, :]
        best = cand.min(axis=2)
        best[~has_j] = np.inf
        dp[masks] = best
    cost = (dp + d[1:, 0][None, :]).min(axis=1)
    cost[0] = 0.0
    return cost


def exact_cvrp(data: CvrpData) -> Routes:
    """Optimal routes by dynamic programming over customer subsets (tiny instances only).

    Example:
        >>> d = np.array([[0, 4, 4], [4, 0, 2], [4, 2, 0]])
        >>> exact_cvrp(CvrpData(d, np.array([0, 3, 2]), capacity=5, vehicles=2)).objective
        10.0
    """
    n = data.customers
    if n > 12:
        raise AppDataError(f"exact CVRP enumerates subsets; {n} customers is too many (≤ 12)")
    cost = _route_costs(data.distances)
    full = 1 << n
    load = np.zeros(full, dtype=np.int64)
    for b in range(n):
        load += np.where((np.arange(full) >> b) & 1, data.demand[b + 1], 0)
    cost[load > data.capacity] = np.inf
    # best[k][S]: cheapest way to serve S with at most k trucks
    best = np.where(np.arange(full) == 0, 0.0, np.inf)
    choice: list[np.ndarray] = []
    for _ in range(data.vehicles):
        nxt, pick = best.copy(), np.zeros(full, dtype=np.int64)
        for s in range(1, full):
            low = s & -s
            sub = s
            while sub:
                if sub & low:  # the route holding S's lowest customer: no double counting
                    c = cost[sub] + best[s ^ sub]
                    if c < nxt[s]:
                        nxt[s], pick[s] = c, sub
                sub = (sub - 1) & s
        best = nxt
        choice.append(pick)
    if not np.isfinite(best[full - 1]):
        raise AppDataError("no plan serves every customer within the fleet's capacity")
    subsets, s = [], full - 1
    for pick in reversed(choice):
        if s == 0:
            break
        if pick[s]:
            subsets.append(int(pick[s]))
            s ^= int(pick[s])
    routes = []
    for sub in subsets:
        members = [b + 1 for b in range(n) if sub >> b & 1]
        routes.append(_best_order(members, data.distances))
    return make_routes(routes, data)


def _best_order(members: list[int], d: np.ndarray) -> list[int]:
    from kakehashi.apps.tsp import held_karp

    if len(members) <= 2:
        return members
    nodes = [0, *members]
    _, tour = held_karp(d[np.ix_(nodes, nodes)])
    return [nodes[i] for i in tour[1:]]


def ortools_cvrp(data: CvrpData, time_limit: float) -> tuple[list[list[int]], dict]:
    """Routes OR-Tools finds in ``time_limit`` s (capacity dimension, guided local search)."""
    return ortools_routes(
        data.distances,
        time_limit,
        vehicles=data.vehicles,
        demand=data.demand,
        capacity=data.capacity,
        problem="CVRP",
        no_solution="OR-Tools routing found no plan within the time limit; allow more time",
    )


@register
class Cvrp(UseCase):
    """Capacitated vehicle routing from one depot."""

    name = "cvrp"
    title = "Capacitated vehicle routing"
    domain = "logistics"
    data_type = CvrpData
    sense = "min"
    baseline_tool = "OR-Tools routing (exact DP for ≤8 customers)"
    size_meaning = "customers"
    max_size = 200
    file_suffixes = (".vrp",)

    def generate(self, size: int, seed: int | None = None) -> CvrpData:
        """A depot amid clustered customers with demands 1–10, about five stops per truck.

        Example:
            >>> Cvrp().generate(7, seed=0).customers
            7
        """
        from kakehashi.apps._tsplib import distance_matrix

        if size < 1:
            raise AppDataError(f"a CVRP needs at least one customer; got size {size}")
        rng = np.random.default_rng(seed)
        pts = np.vstack([[500.0, 500.0], clustered_points(int(size), rng)])
        demand = np.concatenate([[0], rng.integers(1, 11, size=size)])
        vehicles = max(2, math.ceil(size / 5))
        capacity = max(int(demand.max()), math.ceil(1.25 * demand.sum() / vehicles))
        return CvrpData(
            distance_matrix(pts, "EUC_2D"),
            demand,
            capacity,
            vehicles,
            name=f"random{size}-s{seed}",
            coords=pts,
        )

    def read(self, path: str | Path) -> CvrpData:
        """Read a TSPLIB/CVRPLIB ``.vrp`` file (depot moved to node 0)."""
        from kakehashi.apps._tsplib import read_tsplib

        f = read_tsplib(path)
        if f.type != "CVRP" or f.demand is None or f.capacity is None:
            raise AppDataError(
                f"{path}: not a CVRP file (TYPE {f.type}; needs CAPACITY and DEMAND_SECTION)"
            )
        depot = f.depots[0] if f.depots else 0
        order = [depot, *[i for i in range(f.dimension) if i != depot]]
        vehicles = _fleet_size(f)
        return CvrpData(
            f.distances[np.ix_(order, order)],
            f.demand[order],
            f.capacity,
            vehicles,
            name=f.name,
            coords=None if f.coords is None else f.coords[order],
        )

    def build(self, data: CvrpData) -> Problem:
        from kakehashi.model.model import Model

        D, K, T, N = data.distances, data.vehicles, max_stops(data), data.customers + 1
        if K * T < data.customers:
            raise AppDataError(
                f"{K} trucks carry at most {T} customers each ({K * T} in all) but there are "
                f"{data.customers} customers; no plan exists — add trucks"
            )
        m = Model(f"cvrp-{data.name}")
        x = m.binary("x", shape=(K, T, N))
        m.minimize(
            (x[:, 0] @ D[0]).sum() + ((x[:, :-1] @ D) * x[:, 1:]).sum() + (x[:, -1] @ D[:, 0]).sum()
        )
        m.one_hot(x, axis=2, name="one_node_per_slot")
        m.one_hot(x[:, :, 1:].reshape(K * T, N - 1), axis=0, name="serve_each_customer")
        m.constrain(
            (x[:, :, 1:] @ data.demand[1:]).sum(axis=1) <= data.capacity, name="truck_capacity"
        )
        return m.to_problem()

    def decode(self, result: Result, data: CvrpData) -> Routes:
        x = result.solution["x"]
        routes = []
        for k in range(x.shape[0]):
            # report exactly what the slots say: a slot with several nodes lists them all
            route = [int(v) for t in range(x.shape[1]) for v in np.flatnonzero(x[k, t]) if v]
            routes.append(route)
        return make_routes(routes, data)

    def validate(self, answer: Routes, data: CvrpData) -> Validation:
        return validate_routes(answer, data)

    def baseline(self, data: CvrpData, time_limit: float | None = None) -> BaselineResult:
        t0 = time.perf_counter()
        if data.customers <= EXACT_MAX_CUSTOMERS:
            return BaselineResult(
                "exact subset dynamic programming",
                exact_cvrp(data),
                time.perf_counter() - t0,
                "optimal",
            )
        routes, info = ortools_cvrp(data, 2.0 if time_limit is None else time_limit)
        return BaselineResult(
            "OR-Tools routing (guided local search)",
            make_routes(routes, data),
            time.perf_counter() - t0,
            "heuristic",
            info=info,
        )


def validate_routes(answer: Routes, data: CvrpData) -> Validation:
    """Every customer served once, only real customers, loads within capacity, fleet size
    respected, the stated distance recomputed.

    Example:
        >>> d = CvrpData(np.array([[0, 4, 4], [4, 0, 2], [4, 2, 0]]), np.array([0, 3, 4]), 5, 2)
        >>> validate_routes(make_routes([[1, 2]], d), d).errors
        ['route 0 carries 7, more than the capacity 5']
    """
    errors: list[str] = []
    n = data.customers
    routes = [list(r) for r in answer.routes if len(r)]
    stops = [c for r in routes for c in r]
    bad = [c for c in stops if not 1 <= c <= n]
    if bad:
        errors.append(f"routes name {len(bad)} stop(s) that are no customer: {bad[:5]}")
    counts = np.bincount([c for c in stops if 1 <= c <= n], minlength=n + 1)
    errors += [f"customer {c} is served {counts[c]} times" for c in np.flatnonzero(counts > 1)]
    errors += [f"customer {c} is never served" for c in range(1, n + 1) if counts[c] == 0]
    if len(routes) > data.vehicles:
        errors.append(f"{len(routes)} routes need more trucks than the {data.vehicles} available")
    for k, r in enumerate(routes):
        load = int(data.demand[[c for c in r if 1 <= c <= n]].sum())
        if load > data.capacity:
            errors.append(f"route {k} carries {load}, more than the capacity {data.capacity}")
    if bad:
        return Validation.from_errors(errors, None)
    length = routes_length(routes, data.distances)
    if not np.isclose(length, answer.objective):
        errors.append(f"the stated distance {answer.objective:g} is not the routes' {length:g}")
    return Validation.from_errors(errors, length)


def _fleet_size(f) -> int:
    if "VEHICLES" in f.spec:
        return int(float(f.spec["VEHICLES"]))
    match = re.search(r"-k(\d+)", f.name)
    if match:
        return int(match.group(1))
    # no fleet size given: as many trucks as first-fit decreasing packing needs
    from kakehashi.apps.binpacking import first_fit_decreasing

    return len(first_fit_decreasing(f.demand[f.demand > 0], f.capacity))
