"""Radio channel / frequency assignment: interference-graph colouring for cellular networks.

Each cell (a sector of a base-station site) needs a number of channels set by its traffic.
Two cells that hear each other interfere when they use the same channel, and (less) when
they use adjacent channels; the interference is weighted by the traffic it hurts. Some
pairs — sectors of one site, a cell and its strongest neighbour — must never share a
channel; a cell's own channels must not be adjacent (its transmitters would desensitise
each other); some channels are blocked for some cells (licences, border coordination).
Minimise the total traffic-weighted interference.

The model has one binary ``x[i, c]`` per cell and channel: co- and adjacent-channel
interference are the quadratic terms ``x[i, c]·x[j, c]`` and ``x[i, c]·x[j, c±1]``.

The baseline is OR-Tools CP-SAT on an independent linearised model; the DSatur greedy
colouring (Brélaz 1979, least-interference channel first) is available as
``baseline(data, method="dsatur")``.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> fap = get_use_case("frequency")
    >>> data = fap.generate(9, seed=0)
    >>> plan = fap.baseline(data, time_limit=5).answer
    >>> fap.validate(plan, data).valid
    True
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from kakehashi.apps.base import (
    Answer,
    AppDataError,
    BaselineResult,
    UseCase,
    Validation,
    register,
)
from kakehashi.apps.rostering import integer_weights, solve_cp_sat
from kakehashi.model.problem import Problem
from kakehashi.result import Result

__all__ = ["ChannelPlan", "FrequencyAssignment", "FrequencyData", "dsatur_assignment"]


@dataclasses.dataclass
class FrequencyData:
    """A channel assignment instance with ``N`` cells and ``K`` channels.

    Attributes:
        cells: cell names (N).
        num_channels: channels available, numbered ``0..K-1`` (adjacent numbers are
            adjacent in frequency).
        demand: (N,) channels each cell needs (≥ 1).
        edges: (M, 2) interfering cell pairs ``(i, j)``, ``i != j``, each pair once.
        interference: (M,) traffic-weighted cost when the pair shares a channel (≥ 0).
        separated: (M,) pairs that must never share a channel.
        adjacent_factor: fraction of ``interference`` a pair costs on adjacent channels.
        blocked: (N, K) channels a cell may not use (default: none).
        traffic: (N,) offered traffic in Erlang (for reports; optional).
        positions: (N, 2) cell positions in km (for plots; optional).
    """

    cells: list[str]
    num_channels: int
    demand: np.ndarray
    edges: np.ndarray
    interference: np.ndarray
    separated: np.ndarray | None = None
    adjacent_factor: float = 0.2
    blocked: np.ndarray | None = None
    traffic: np.ndarray | None = None
    positions: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.cells = [str(c) for c in self.cells]
        N, K = len(self.cells), int(self.num_channels)
        self.num_channels = K
        if N == 0 or K < 1:
            raise AppDataError(f"need at least one cell and one channel, got {N} and {K}")
        self.demand = _ints(self.demand, (N,), "demand")
        if np.any(self.demand < 1):
            raise AppDataError("every cell needs at least one channel (demand >= 1)")
        self.edges = _ints(np.reshape(self.edges, (-1, 2)), None, "edges")
        M = self.edges.shape[0]
        if np.any(self.edges < 0) or np.any(self.edges >= N):
            raise AppDataError(f"edges must hold cell indices 0..{N - 1}")
        if np.any(self.edges[:, 0] == self.edges[:, 1]):
            raise AppDataError("an edge joins a cell to itself; drop self-pairs")
        keys = np.sort(self.edges, axis=1)
        if np.unique(keys, axis=0).shape[0] != M:
            raise AppDataError("an interfering pair is listed twice; list each pair once")
        self.interference = np.asarray(self.interference, dtype=np.float64).reshape(-1)
        if self.interference.size != M:
            raise AppDataError(f"interference has {self.interference.size} entries for {M} edges")
        if np.any(self.interference < 0) or not np.all(np.isfinite(self.interference)):
            raise AppDataError("interference weights must be finite and non-negative")
        self.separated = (
            np.zeros(M, dtype=bool)
            if self.separated is None
            else np.asarray(self.separated, dtype=bool).reshape(-1)
        )
        if self.separated.size != M:
            raise AppDataError(f"separated has {self.separated.size} entries for {M} edges")
        self.blocked = (
            np.zeros((N, K), dtype=bool)
            if self.blocked is None
            else np.asarray(self.blocked, dtype=bool)
        )
        if self.blocked.shape != (N, K):
            raise AppDataError(f"blocked has shape {self.blocked.shape}; expected {(N, K)}")
        self.adjacent_factor = float(self.adjacent_factor)
        if not 0 <= self.adjacent_factor <= 1:
            raise AppDataError("adjacent_factor must lie in [0, 1]")
        # a cell with d channels, none adjacent, needs 2d-1 usable channels at least
        usable = (~self.blocked).sum(axis=1)
        short = np.flatnonzero(_max_non_adjacent(~self.blocked) < self.demand)
        if short.size:
            i = int(short[0])
            raise AppDataError(
                f"cell {self.cells[i]} needs {self.demand[i]} non-adjacent channels but only "
                f"{usable[i]} of {K} are open to it; unblock channels or add channels"
            )

    @property
    def num_cells(self) -> int:
        return len(self.cells)


@dataclasses.dataclass
class ChannelPlan(Answer):
    """``assigned[i, c]`` is True when cell ``i`` uses channel ``c``; ``objective`` is the
    total traffic-weighted interference."""

    assigned: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0), bool))
    cells: list[str] = dataclasses.field(default_factory=list)

    def channels(self) -> dict[str, list[int]]:
        """Channels per cell name."""
        return {
            name: np.flatnonzero(row).tolist()
            for name, row in zip(self.cells, self.assigned, strict=True)
        }

    def describe(self, max_items: int = 40) -> str:
        items = list(self.channels().items())
        shown = ", ".join(f"{k}:{v}" for k, v in items[:max_items])
        more = f", … ({len(items)} cells)" if len(items) > max_items else ""
        return f"channels {{{shown}{more}}}"


def interference_cost(assigned: np.ndarray, data: FrequencyData) -> float:
    """Traffic-weighted co- and adjacent-channel interference of a plan."""
    A = np.asarray(assigned, dtype=np.float64)
    ai, aj = A[data.edges[:, 0]], A[data.edges[:, 1]]
    co = (ai * aj).sum(axis=1)
    adj = (ai[:, :-1] * aj[:, 1:]).sum(axis=1) + (ai[:, 1:] * aj[:, :-1]).sum(axis=1)
    return float(data.interference @ (co + data.adjacent_factor * adj))


# ---------------------------------------------------------------------- the use case
@register
class FrequencyAssignment(UseCase):
    """Channel assignment for a cellular network, minimising weighted interference.

    Example:
        >>> from kakehashi.apps.frequency import FrequencyAssignment
        >>> data = FrequencyAssignment().generate(6, seed=1)
        >>> FrequencyAssignment().build(data).is_binary()
        True
    """

    name = "frequency"
    title = "Radio channel / frequency assignment"
    domain = "telecom"
    data_type = FrequencyData
    sense = "min"
    baseline_tool = "OR-Tools CP-SAT"
    size_meaning = "cells"
    max_size = 100_000

    def generate(
        self, size: int, seed: int | None = None, *, neighbours: int = 5, spare_channels: int = 0
    ) -> FrequencyData:
        """``size`` cells: three sectors per site, sites scattered at about one per 9 km²
        (a suburban macro layer), lognormal traffic (busy cells need two channels),
        interference from path loss (exponent 3.5) and sector antenna patterns, each cell
        linked to its ``neighbours`` strongest interferers. Sectors of one site and each
        cell's strongest interferer must be separated. The channel count is the fewest
        with which DSatur finds a feasible plan (plus ``spare_channels``), so interference
        cannot all be avoided; a few cells have channels blocked.

        Example:
            >>> d = FrequencyAssignment().generate(12, seed=4)
            >>> d.num_cells, d.edges.shape[1]
            (12, 2)
        """
        if size < 2:
            raise AppDataError(f"frequency assignment needs at least 2 cells, got size={size}")
        rng = np.random.default_rng(seed)
        N = int(size)
        num_sites = math.ceil(N / 3)
        side_km = 3.0 * math.sqrt(num_sites)
        sites = rng.uniform(0, side_km, (num_sites, 2))
        site = np.arange(N) // 3
        azimuth = np.deg2rad((np.arange(N) % 3) * 120 + rng.uniform(0, 120, num_sites)[site])
        pos = sites[site]
        traffic = np.round(rng.lognormal(np.log(4.0), 0.6, N), 2)
        demand = np.where(traffic > 6.0, 2, 1)

        # coupling between cells: path gain times both antennas' gain towards each other
        diff = pos[None, :, :] - pos[:, None, :]
        dist = np.hypot(diff[..., 0], diff[..., 1])
        bearing = np.arctan2(diff[..., 1], diff[..., 0])  # from i towards j
        gain_i = _sector_gain(bearing - azimuth[:, None])
        gain_j = _sector_gain(bearing + np.pi - azimuth[None, :])
        coupling = gain_i * gain_j * np.maximum(dist, 0.2) ** -3.5
        np.fill_diagonal(coupling, 0.0)
        coupling = np.maximum(coupling, coupling.T)
        same_site = site[:, None] == site[None, :]
        np.fill_diagonal(same_site, False)
        coupling[same_site] = 0.0  # co-site pairs are separated outright

        pairs: dict[tuple[int, int], bool] = {}
        for i in range(N):
            for j in np.flatnonzero(same_site[i]):
                pairs[(min(i, int(j)), max(i, int(j)))] = True
            order = np.argsort(-coupling[i], kind="stable")
            strongest = [int(j) for j in order[:neighbours] if coupling[i, j] > 0]
            for rank, j in enumerate(strongest):
                key = (min(i, j), max(i, j))
                pairs[key] = pairs.get(key, False) or rank == 0
        edges = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
        separated = np.array([pairs[tuple(e)] for e in edges.tolist()], dtype=bool)
        c = coupling[edges[:, 0], edges[:, 1]]
        scale = np.median(c[c > 0]) if np.any(c > 0) else 1.0
        strength = np.where(separated & (c == 0), 10.0, np.minimum(c / scale, 10.0))
        weight = np.round(strength * (traffic[edges[:, 0]] + traffic[edges[:, 1]]), 2)

        names = [f"s{site[i]}{'abc'[i % 3]}" for i in range(N)]
        K = max(1, int(2 * demand.max() - 1))
        while True:
            trial = FrequencyData(
                names, K, demand, edges, weight, separated, traffic=traffic, positions=pos
            )
            plan = dsatur_assignment(trial)
            if plan is not None:
                break
            K += 1
        K += int(spare_channels)
        # block a few channels the feasible plan leaves free, so the instance stays feasible
        blocked = np.zeros((N, K), dtype=bool)
        for i in np.flatnonzero(rng.random(N) < 0.15):
            free = np.flatnonzero(~plan[i])
            if free.size:
                blocked[i, rng.choice(free, size=min(free.size, 2), replace=False)] = True
        return FrequencyData(
            cells=names,
            num_channels=K,
            demand=demand,
            edges=edges,
            interference=weight,
            separated=separated,
            blocked=blocked,
            traffic=traffic,
            positions=np.round(pos, 3),
        )

    def build(self, data: FrequencyData) -> Problem:
        from kakehashi import Model

        N, K = data.num_cells, data.num_channels
        m = Model("frequency")
        x = m.binary("x", shape=(N, K))
        xi, xj = x[data.edges[:, 0]], x[data.edges[:, 1]]
        co = (xi * xj).sum(axis=1)
        adjacent = (xi[:, :-1] * xj[:, 1:]).sum(axis=1) + (xi[:, 1:] * xj[:, :-1]).sum(axis=1)
        m.minimize(data.interference @ (co + data.adjacent_factor * adjacent))
        if np.all(data.demand == 1):
            m.one_hot(x, axis=1, name="channels_per_cell")
        else:
            m.constrain(x.sum(axis=1) == data.demand, name="channels_per_cell")
        blocked = np.nonzero(data.blocked)
        if blocked[0].size:
            m.constrain(x[blocked] == 0, name="blocked_channels")
        multi = np.flatnonzero(data.demand > 1)
        if multi.size and K > 1:
            m.constrain(x[multi, :-1] + x[multi, 1:] <= 1, name="co_site_spacing")
        sep = data.edges[data.separated]
        if sep.size:
            m.constrain(x[sep[:, 0]] + x[sep[:, 1]] <= 1, name="separation")
        return m.to_problem()

    def decode(self, result: Result, data: FrequencyData) -> ChannelPlan:
        assigned = np.asarray(result.solution["x"]).astype(bool)
        return ChannelPlan(
            objective=interference_cost(assigned, data), assigned=assigned, cells=list(data.cells)
        )

    def validate(self, answer: ChannelPlan, data: FrequencyData) -> Validation:
        N, K = data.num_cells, data.num_channels
        A = np.asarray(answer.assigned)
        if A.shape != (N, K):
            return Validation.from_errors(
                [f"the plan has shape {A.shape}; expected (cells, channels) = {(N, K)}"], None
            )
        A = A.astype(bool)
        errors: list[str] = []
        count = A.sum(axis=1)
        for i in np.flatnonzero(count != data.demand):
            errors.append(
                f"cell {data.cells[i]} has {count[i]} channels; it needs {data.demand[i]}"
            )
        for i, c in np.argwhere(A & data.blocked):
            errors.append(f"cell {data.cells[i]} uses channel {c}, which is blocked for it")
        for i, c in np.argwhere(A[:, :-1] & A[:, 1:]):
            errors.append(
                f"cell {data.cells[i]} uses adjacent channels {c} and {c + 1} (co-site spacing)"
            )
        for i, j in data.edges[data.separated]:
            for c in np.flatnonzero(A[i] & A[j]):
                errors.append(
                    f"interfering cells {data.cells[i]} and {data.cells[j]} share channel {c}; "
                    "they must be separated"
                )
        return Validation.from_errors(errors, interference_cost(A, data))

    def baseline(
        self, data: FrequencyData, time_limit: float | None = None, *, method: str = "cp-sat"
    ) -> BaselineResult:
        """CP-SAT (default) or the DSatur greedy heuristic (``method="dsatur"``)."""
        t0 = time.perf_counter()
        if method == "dsatur":
            plan = dsatur_assignment(data)
            if plan is None:
                raise AppDataError(
                    "DSatur could not complete a feasible plan (it is greedy); use the "
                    "CP-SAT baseline or add channels"
                )
            answer = ChannelPlan(interference_cost(plan, data), plan, list(data.cells))
            return BaselineResult("DSatur", answer, time.perf_counter() - t0, "heuristic")
        if method != "cp-sat":
            raise AppDataError(f"unknown baseline method {method!r}; use 'cp-sat' or 'dsatur'")
        return self._cp_sat(data, time_limit, t0)

    def _cp_sat(self, data: FrequencyData, time_limit: float | None, t0: float) -> BaselineResult:
        from ortools.sat.python import cp_model

        N, K = data.num_cells, data.num_channels
        model = cp_model.CpModel()
        x = [[model.new_bool_var(f"x_{i}_{c}") for c in range(K)] for i in range(N)]
        for i in range(N):
            model.add(sum(x[i]) == int(data.demand[i]))
            for c in np.flatnonzero(data.blocked[i]):
                model.add(x[i][c] == 0)
            if data.demand[i] > 1:
                for c in range(K - 1):
                    model.add_at_most_one([x[i][c], x[i][c + 1]])
        a = data.adjacent_factor
        weights, scale = integer_weights(np.concatenate([data.interference, a * data.interference]))
        w_co, w_adj = weights[: len(data.interference)], weights[len(data.interference) :]
        objective = []

        def both(u: Any, v: Any, w: int) -> None:
            # minimising a positive weight: z >= u + v - 1 is enough for z = u AND v
            if w <= 0:
                return
            z = model.new_bool_var("")
            model.add_bool_or([u.Not(), v.Not(), z])
            objective.append(w * z)

        for e, (i, j) in enumerate(data.edges):
            for c in range(K):
                if data.separated[e]:
                    model.add_at_most_one([x[i][c], x[j][c]])
                else:
                    both(x[i][c], x[j][c], int(w_co[e]))
                if c + 1 < K:
                    both(x[i][c], x[j][c + 1], int(w_adj[e]))
                    both(x[i][c + 1], x[j][c], int(w_adj[e]))
        model.minimize(sum(objective))
        hint = dsatur_assignment(data)
        if hint is not None:
            for i, c in np.ndindex(N, K):
                model.add_hint(x[i][c], bool(hint[i, c]))
        solver, status = solve_cp_sat(model, time_limit)
        seconds = time.perf_counter() - t0
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise AppDataError(
                f"CP-SAT found no channel plan ({solver.status_name(status)}) within "
                f"{time_limit} s; the instance may be infeasible, or give it more time"
            )
        plan = np.array([[solver.value(v) for v in row] for row in x], dtype=bool)
        return BaselineResult(
            tool=self.baseline_tool,
            answer=ChannelPlan(interference_cost(plan, data), plan, list(data.cells)),
            seconds=seconds,
            status="optimal" if status == cp_model.OPTIMAL else "feasible",
            bound=float(solver.best_objective_bound) / scale,
            info={"cp_sat_status": solver.status_name(status), "cost_scale": scale},
        )


# ---------------------------------------------------------------------- DSatur
def dsatur_assignment(data: FrequencyData) -> np.ndarray | None:
    """Greedy DSatur channel assignment; ``None`` when it gets stuck.

    Repeatedly takes the cell with channels still to assign whose choice is most
    constrained (fewest feasible channels left, then most traffic-weighted interference),
    and gives it the feasible channel adding the least interference.

    Example:
        >>> d = FrequencyData(["a", "b"], 2, [1, 1], [[0, 1]], [1.0], [True])
        >>> dsatur_assignment(d).astype(int).tolist()
        [[1, 0], [0, 1]]
    """
    N, K = data.num_cells, data.num_channels
    assigned = np.zeros((N, K), dtype=bool)
    forbidden = data.blocked.copy()
    added_cost = np.zeros((N, K))  # interference channel c would add to cell i
    remaining = data.demand.copy()
    nbr: list[list[tuple[int, float, bool]]] = [[] for _ in range(N)]
    for (i, j), w, sep in zip(data.edges, data.interference, data.separated, strict=True):
        nbr[i].append((int(j), float(w), bool(sep)))
        nbr[j].append((int(i), float(w), bool(sep)))
    degree = np.array([sum(w for _, w, _ in n) for n in nbr])
    while remaining.any():
        open_count = (~forbidden).sum(axis=1)
        todo = np.flatnonzero(remaining > 0)
        # most constrained first: fewest open channels per channel still needed
        key = np.lexsort((-degree[todo], open_count[todo] / remaining[todo]))
        i = int(todo[key[0]])
        choices = np.flatnonzero(~forbidden[i])
        if choices.size == 0:
            return None
        c = int(choices[np.argmin(added_cost[i, choices])])
        assigned[i, c] = True
        remaining[i] -= 1
        forbidden[i, c] = True
        forbidden[i, max(c - 1, 0) : c + 2] = True  # own channels not adjacent
        for j, w, sep in nbr[i]:
            if sep:
                forbidden[j, c] = True
            added_cost[j, c] += w
            if c > 0:
                added_cost[j, c - 1] += data.adjacent_factor * w
            if c + 1 < K:
                added_cost[j, c + 1] += data.adjacent_factor * w
    return assigned


def _sector_gain(angle: np.ndarray) -> np.ndarray:
    """3GPP sector antenna pattern (65° beamwidth, 20 dB front-to-back), linear."""
    theta = np.rad2deg((angle + np.pi) % (2 * np.pi) - np.pi)
    return 10 ** (-np.minimum(12 * (theta / 65.0) ** 2, 20.0) / 10)


def _max_non_adjacent(open_: np.ndarray) -> np.ndarray:
    """Per row, the most channels that can be picked from the open ones with none adjacent."""
    out = np.zeros(open_.shape[0], dtype=np.int64)
    for r, row in enumerate(open_):
        count, last = 0, -2
        for c in np.flatnonzero(row):
            if c > last + 1:
                count, last = count + 1, c
        out[r] = count
    return out


def _ints(value: Any, shape: tuple[int, ...] | None, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AppDataError(f"{name} must be an array of whole numbers") from None
    if shape is not None and arr.shape != shape:
        raise AppDataError(f"{name} has shape {arr.shape}; expected {shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise AppDataError(f"{name} must hold whole numbers")
    return arr.astype(np.int64)
