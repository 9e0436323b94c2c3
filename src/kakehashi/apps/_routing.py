"""What the routing use cases (``tsp``, ``cvrp``) share: generated delivery areas and the
Google OR-Tools routing baseline (guided local search)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["clustered_points", "ortools_routes"]


def clustered_points(n: int, rng: np.random.Generator, side: float = 1000.0) -> np.ndarray:
    """Cities as a few towns with suburbs around them, the shape delivery areas have.

    Example:
        >>> clustered_points(5, np.random.default_rng(0)).shape
        (5, 2)
    """
    towns = max(1, n // 8)
    centres = rng.uniform(0.1 * side, 0.9 * side, size=(towns, 2))
    which = rng.integers(0, towns, size=n)
    pts = centres[which] + rng.normal(0.0, 0.08 * side, size=(n, 2))
    return np.clip(pts, 0.0, side).round(1)


def ortools_routes(
    distances: np.ndarray,
    time_limit: float,
    *,
    vehicles: int = 1,
    demand: np.ndarray | None = None,
    capacity: int | None = None,
    problem: str = "TSP",
    no_solution: str = "OR-Tools routing found no solution",
) -> tuple[list[list[int]], dict[str, Any]]:
    """Routes from node 0 that OR-Tools routing finds in ``time_limit`` s (guided local
    search), one per vehicle, node 0 left out; with ``demand`` and ``capacity`` each
    vehicle's load is capped. Also returns OR-Tools' own objective.

    Example:
        >>> d = np.array([[0, 2, 9], [2, 0, 6], [9, 6, 0]])
        >>> ortools_routes(d, 0.1)                          # doctest: +SKIP
        ([[1, 2]], {'ortools_objective': 17.0})
    """
    try:
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2
    except ImportError:
        from kakehashi.errors import BackendUnavailableError

        raise BackendUnavailableError(
            f"the {problem} baseline needs Google OR-Tools; pip install 'kakehashi[mip]'"
        ) from None
    d = np.asarray(distances, dtype=np.float64)
    scale = 1.0 if np.all(d == np.round(d)) else 1000.0  # OR-Tools arc costs are integers
    manager = pywrapcp.RoutingIndexManager(d.shape[0], vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    # a native matrix callback: several times more search per second than a Python one
    arc = routing.RegisterTransitMatrix(np.round(d * scale).astype(np.int64).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    if demand is not None and capacity is not None:
        load = routing.RegisterUnaryTransitVector(np.asarray(demand).tolist())
        routing.AddDimensionWithVehicleCapacity(load, 0, [capacity] * vehicles, True, "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        from kakehashi.errors import BackendError

        raise BackendError(no_solution)
    routes = []
    for k in range(vehicles):
        idx, route = solution.Value(routing.NextVar(routing.Start(k))), []
        while not routing.IsEnd(idx):
            route.append(manager.IndexToNode(idx))
            idx = solution.Value(routing.NextVar(idx))
        routes.append(route)
    return routes, {"ortools_objective": solution.ObjectiveValue() / scale}
