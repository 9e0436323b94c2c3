"""Max-cut and balanced graph partitioning (networks, circuit layout).

**Max-cut** splits a graph's nodes into two sides so that the total weight of edges between
the sides is largest. Model: ``x[v]`` binary (the side of node ``v``); maximise
``Σ_(i,j) w_ij (x_i + x_j − 2 x_i x_j)``. Reader: Gset/rudy files through
:func:`kakehashi.model.io.gset.read_gset`. Baseline: exhaustive enumeration up to
:data:`EXACT_MAX_NODES` nodes, else iterated 1-flip local search.

**Graph partitioning** splits the nodes into ``k`` parts of (nearly) equal size so that the
weight of edges between parts is smallest — placing a circuit on ``k`` chips, sharding a
network. Model: ``x[v, p]`` binary, one part per node (one-hot), each part holding
``⌊n/k⌋``–``⌈n/k⌉`` nodes; minimise ``Σ_(i,j) w_ij (1 − Σ_p x_ip x_jp)``. Baseline: exhaustive
enumeration for tiny graphs, else Google OR-Tools CP-SAT.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> mc = get_use_case("maxcut")
    >>> data = mc.generate(12, seed=0)
    >>> run = mc.run(data, backend="exact")
    >>> run.validation.valid, run.answer.objective == run.baseline.objective
    (True, True)
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from kakehashi.apps.base import Answer, AppDataError, BaselineResult, UseCase, Validation, register
from kakehashi.model.problem import Problem
from kakehashi.result import Result

__all__ = [
    "EXACT_MAX_NODES",
    "Cut",
    "GraphData",
    "GraphPartitioning",
    "MaxCut",
    "Partition",
    "PartitionData",
    "cut_weight",
    "local_search_maxcut",
]

#: largest graph the baselines solve by enumerating every assignment
EXACT_MAX_NODES = 20
_CHUNK = 1 << 15


@dataclasses.dataclass
class GraphData:
    """An undirected weighted graph: ``edges`` (m, 2) of 0-based node pairs, ``weights`` (m,).

    Example:
        >>> GraphData(3, [[0, 1], [1, 2]], [1.0, 2.0]).num_edges
        2
    """

    num_nodes: int
    edges: np.ndarray
    weights: np.ndarray
    name: str = "graph"

    def __post_init__(self) -> None:
        e = np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)
        w = np.asarray(self.weights, dtype=np.float64).ravel()
        if self.num_nodes < 2:
            raise AppDataError(f"a graph to cut needs at least 2 nodes, got {self.num_nodes}")
        if w.shape[0] != e.shape[0]:
            raise AppDataError(
                f"{e.shape[0]} edges but {w.shape[0]} weights; give one weight per edge"
            )
        if e.size and (e.min() < 0 or e.max() >= self.num_nodes):
            raise AppDataError(f"edges name nodes outside 0..{self.num_nodes - 1}")
        if not np.all(np.isfinite(w)):
            raise AppDataError("edge weights must be finite numbers")
        loops = e[:, 0] == e[:, 1]
        # a self-loop is never cut: it changes no cut value, so it is dropped here once
        self.edges, self.weights = e[~loops], w[~loops]
        self.num_nodes = int(self.num_nodes)

    @property
    def num_edges(self) -> int:
        return int(self.edges.shape[0])


@dataclasses.dataclass
class PartitionData(GraphData):
    """A graph to split into ``parts`` parts of ⌊n/k⌋–⌈n/k⌉ nodes each.

    Example:
        >>> PartitionData(4, [[0, 1], [2, 3], [1, 2]], [1, 1, 1], parts=2).size_bounds
        (2, 2)
    """

    parts: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 2 <= self.parts <= self.num_nodes:
            raise AppDataError(
                f"parts must be between 2 and the number of nodes ({self.num_nodes}), "
                f"got {self.parts}"
            )

    @property
    def size_bounds(self) -> tuple[int, int]:
        return self.num_nodes // self.parts, math.ceil(self.num_nodes / self.parts)


@dataclasses.dataclass
class Cut(Answer):
    """``side[v]`` ∈ {0, 1} for each node; ``objective`` is the cut weight."""

    side: list[int]

    def describe(self, max_items: int = 40) -> str:
        s = self.side
        ones = int(sum(1 for v in s if v == 1))
        shown = "".join(str(v) for v in s[: max_items * 2])
        return (
            f"sides {shown}{'…' if len(s) > 2 * max_items else ''} ({ones} of {len(s)} on side 1)"
        )


@dataclasses.dataclass
class Partition(Answer):
    """``part[v]`` ∈ 0..k−1 for each node; ``objective`` is the weight of edges cut."""

    part: list[int]

    def describe(self, max_items: int = 40) -> str:
        counts = np.bincount([p for p in self.part if p >= 0]).tolist() if self.part else []
        shown = " ".join(str(v) for v in self.part[: max_items * 2])
        return f"parts {shown}{' …' if len(self.part) > 2 * max_items else ''} (sizes {counts})"


def cut_weight(labels: np.ndarray | list[int], data: GraphData) -> float:
    """Total weight of edges whose ends carry different labels.

    Example:
        >>> cut_weight([0, 1, 1], GraphData(3, [[0, 1], [1, 2]], [1.0, 2.0]))
        1.0
    """
    lab = np.asarray(labels)
    return float(data.weights[lab[data.edges[:, 0]] != lab[data.edges[:, 1]]].sum())


def _adjacency(data: GraphData) -> sp.csr_matrix:
    i, j = data.edges[:, 0], data.edges[:, 1]
    n = data.num_nodes
    adj = sp.csr_matrix(
        (
            np.concatenate([data.weights, data.weights]),
            (np.concatenate([i, j]), np.concatenate([j, i])),
        ),
        shape=(n, n),
    )
    adj.sum_duplicates()
    return adj


def _all_labelings(n: int, k: int):
    """Every labelling of n nodes with k labels, node 0 fixed to label 0, in chunks."""
    total = k ** (n - 1)
    powers = k ** np.arange(n - 1, dtype=np.int64)
    for start in range(0, total, _CHUNK):
        codes = np.arange(start, min(start + _CHUNK, total), dtype=np.int64)
        rest = (codes[:, None] // powers[None, :]) % k
        yield np.hstack([np.zeros((codes.size, 1), dtype=np.int64), rest])


def exhaustive_partition(
    data: GraphData, k: int, sizes: tuple[int, int] | None, maximize: bool
) -> np.ndarray:
    """Best labelling by enumeration (label of node 0 fixed: labels are interchangeable)."""
    if k ** (data.num_nodes - 1) > 2**EXACT_MAX_NODES:
        raise AppDataError(
            f"enumeration of {k}^{data.num_nodes - 1} labellings is too large; use a heuristic"
        )
    best_val, best_lab = -np.inf, None
    sign = 1.0 if maximize else -1.0
    for lab in _all_labelings(data.num_nodes, k):
        cut = (lab[:, data.edges[:, 0]] != lab[:, data.edges[:, 1]]) @ data.weights
        val = sign * cut
        if sizes is not None:
            counts = np.stack([(lab == p).sum(axis=1) for p in range(k)], axis=1)
            ok = np.all((counts >= sizes[0]) & (counts <= sizes[1]), axis=1)
            val = np.where(ok, val, -np.inf)
        i = int(np.argmax(val))
        if val[i] > best_val:
            best_val, best_lab = val[i], lab[i].copy()
    return best_lab


def local_search_maxcut(
    data: GraphData, time_limit: float = 1.0, seed: int | None = 0
) -> tuple[np.ndarray, dict]:
    """Iterated 1-flip local search: steepest ascent to a local optimum, then repeatedly kick
    a few random nodes of the best cut over and climb again, keeping the best, until
    ``time_limit`` — the simple classical heuristic a practitioner codes in an afternoon.

    Example:
        >>> g = GraphData(4, [[0, 1], [1, 2], [2, 3], [3, 0]], [1, 1, 1, 1])
        >>> side, info = local_search_maxcut(g, time_limit=0.05, seed=1)
        >>> cut_weight(side, g)
        4.0
    """
    adj = _adjacency(data)
    n = data.num_nodes
    rng = np.random.default_rng(seed)
    indptr, indices, w = adj.indptr, adj.indices, adj.data

    def flip(spin: np.ndarray, gain: np.ndarray, v: int) -> None:
        spin[v] = -spin[v]
        gain[v] = -gain[v]
        lo, hi = indptr[v], indptr[v + 1]
        nb = indices[lo:hi]
        gain[nb] += 2 * w[lo:hi] * spin[nb] * spin[v]

    def climb(spin: np.ndarray, gain: np.ndarray) -> None:
        while True:
            v = int(np.argmax(gain))
            if gain[v] <= 1e-12:
                return
            flip(spin, gain, v)

    # spin ±1; flipping v changes the cut by gain[v] = s_v Σ_u w_vu s_u
    spin = 1 - 2 * rng.integers(0, 2, size=n)
    gain = (spin * (adj @ spin)).astype(np.float64)
    climb(spin, gain)
    cut = 0.5 * float(data.weights.sum()) - 0.25 * float(spin @ (adj @ spin))
    best_spin, best_gain, best_cut = spin.copy(), gain.copy(), cut
    kick = max(2, n // 50)
    kicks = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < time_limit:
        spin, gain = best_spin.copy(), best_gain.copy()
        cut = best_cut
        for v in rng.choice(n, size=min(kick, n), replace=False):
            cut += gain[v]
            flip(spin, gain, int(v))
        while True:
            v = int(np.argmax(gain))
            if gain[v] <= 1e-12:
                break
            cut += gain[v]
            flip(spin, gain, v)
        kicks += 1
        if cut >= best_cut:  # ties accepted: lets the search drift across plateaus
            best_spin, best_gain, best_cut = spin, gain, cut
    return (1 - best_spin) // 2, {"kicks": kicks, "seed": seed}


def read_graph(path: str | Path) -> GraphData:
    """Read a Gset/rudy file with kakehashi's Gset reader and recover the weighted graph."""
    from kakehashi.model.io.gset import read_gset

    problem = read_gset(path)
    # the reader's objective is Σ w (x_i + x_j − 2 x_i x_j): edge weights are −Q_ij / 2
    q = sp.triu(problem.quadratic, k=1).tocoo()
    return GraphData(
        problem.num_variables, np.column_stack([q.row, q.col]), -q.data / 2.0, name=problem.name
    )


def _erdos_renyi(n: int, degree: float, rng: np.random.Generator) -> np.ndarray:
    iu, ju = np.triu_indices(n, 1)
    keep = rng.random(iu.size) < min(1.0, degree / max(1, n - 1))
    return np.column_stack([iu[keep], ju[keep]])


@register
class MaxCut(UseCase):
    """Max-cut: two sides, heaviest total weight of edges between them."""

    name = "maxcut"
    title = "Max-cut"
    domain = "networks / circuit design"
    data_type = GraphData
    sense = "max"
    baseline_tool = "exhaustive (≤20 nodes) / iterated 1-flip local search"
    size_meaning = "nodes"
    max_size = 1_000_000
    file_suffixes = (".gset",)

    def generate(self, size: int, seed: int | None = None) -> GraphData:
        """A random graph with unit weights and average degree about 6 (like Gset's G1–G10).

        Example:
            >>> MaxCut().generate(10, seed=0).num_nodes
            10
        """
        if size < 2:
            raise AppDataError(f"max-cut needs at least 2 nodes; got size {size}")
        rng = np.random.default_rng(seed)
        edges = _erdos_renyi(int(size), 6.0, rng)
        return GraphData(int(size), edges, np.ones(len(edges)), name=f"random{size}-s{seed}")

    def read(self, path: str | Path) -> GraphData:
        """Read a Gset/rudy graph file."""
        return read_graph(path)

    def build(self, data: GraphData) -> Problem:
        from kakehashi.model.model import Model

        m = Model(f"maxcut-{data.name}")
        x = m.binary("x", shape=data.num_nodes)
        xi, xj = x[data.edges[:, 0]], x[data.edges[:, 1]]
        m.maximize((data.weights * (xi + xj - 2 * xi * xj)).sum())
        return m.to_problem()

    def decode(self, result: Result, data: GraphData) -> Cut:
        side = result.solution["x"].astype(int).tolist()
        return Cut(objective=cut_weight(side, data), side=side)

    def validate(self, answer: Cut, data: GraphData) -> Validation:
        errors: list[str] = []
        side = list(answer.side)
        if len(side) != data.num_nodes:
            errors.append(f"{len(side)} sides given for {data.num_nodes} nodes")
        bad = [v for v, s in enumerate(side) if s not in (0, 1)]
        if bad:
            errors.append(f"nodes {bad[:5]} have a side other than 0 or 1")
        if errors:
            return Validation.from_errors(errors, None)
        cut = cut_weight(side, data)
        if not np.isclose(cut, answer.objective):
            errors.append(f"the stated cut {answer.objective:g} is not the sides' cut {cut:g}")
        return Validation.from_errors(errors, cut)

    def baseline(self, data: GraphData, time_limit: float | None = None) -> BaselineResult:
        t0 = time.perf_counter()
        if data.num_nodes <= EXACT_MAX_NODES:
            side = exhaustive_partition(data, 2, None, maximize=True)
            return BaselineResult(
                "exhaustive enumeration", self._cut(side, data), time.perf_counter() - t0, "optimal"
            )
        side, info = local_search_maxcut(data, 1.0 if time_limit is None else time_limit)
        return BaselineResult(
            "iterated 1-flip local search",
            self._cut(side, data),
            time.perf_counter() - t0,
            "heuristic",
            info=info,
        )

    @staticmethod
    def _cut(side: np.ndarray, data: GraphData) -> Cut:
        return Cut(objective=cut_weight(side, data), side=[int(s) for s in side])


def cpsat_partition(data: PartitionData, time_limit: float) -> tuple[np.ndarray, str, float]:
    """Balanced k-way partition by CP-SAT: (labels, status, bound on the cut)."""
    try:
        from ortools.sat.python import cp_model
    except ImportError:
        from kakehashi.errors import BackendUnavailableError

        raise BackendUnavailableError(
            "the graph-partitioning baseline needs Google OR-Tools; pip install 'kakehashi[mip]'"
        ) from None
    n, k = data.num_nodes, data.parts
    lo, hi = data.size_bounds
    scale = 1 if np.all(data.weights == np.round(data.weights)) else 1000
    model = cp_model.CpModel()
    x = [[model.NewBoolVar(f"x{v}_{p}") for p in range(k)] for v in range(n)]
    for v in range(n):
        model.AddExactlyOne(x[v])
    for p in range(k):
        model.AddLinearConstraint(sum(x[v][p] for v in range(n)), lo, hi)
    model.Add(x[0][0] == 1)  # parts are interchangeable: node 0 goes to part 0
    together = []
    for e, (i, j) in enumerate(data.edges.tolist()):
        for p in range(k):
            s = model.NewBoolVar(f"s{e}_{p}")
            model.AddBoolAnd([x[i][p], x[j][p]]).OnlyEnforceIf(s)
            model.AddBoolOr([x[i][p].Not(), x[j][p].Not()]).OnlyEnforceIf(s.Not())
            together.append((round(float(data.weights[e]) * scale), s))
    model.Maximize(sum(w * s for w, s in together))  # weight kept together = total − cut
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    code = solver.Solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        from kakehashi.errors import BackendError

        raise BackendError("CP-SAT found no balanced partition in time; allow more time")
    labels = np.array([next(p for p in range(k) if solver.Value(x[v][p])) for v in range(n)])
    total = float(data.weights.sum())
    bound = total - solver.BestObjectiveBound() / scale
    return labels, "optimal" if code == cp_model.OPTIMAL else "feasible", bound


@register
class GraphPartitioning(UseCase):
    """Balanced k-way graph partitioning: equal parts, lightest weight of edges between."""

    name = "partition"
    title = "Graph partitioning (balanced)"
    domain = "networks / circuit layout"
    data_type = PartitionData
    sense = "min"
    baseline_tool = "exhaustive (tiny) / OR-Tools CP-SAT"
    size_meaning = "nodes"
    max_size = 100_000
    file_suffixes = (".gset",)

    def generate(self, size: int, seed: int | None = None, parts: int = 2) -> PartitionData:
        """A random geometric graph (nodes in the unit square, linked when close: local wiring
        as in a netlist), average degree about 6, split into ``parts``.

        Example:
            >>> GraphPartitioning().generate(10, seed=0).parts
            2
        """
        if size < 2:
            raise AppDataError(f"graph partitioning needs at least 2 nodes; got size {size}")
        rng = np.random.default_rng(seed)
        pts = rng.random((int(size), 2))
        radius = math.sqrt(6.0 / (math.pi * max(1, size - 1)))
        iu, ju = np.triu_indices(int(size), 1)
        close = np.hypot(*(pts[iu] - pts[ju]).T) <= radius
        edges = np.column_stack([iu[close], ju[close]])
        return PartitionData(
            int(size), edges, np.ones(len(edges)), name=f"random{size}-s{seed}", parts=parts
        )

    def read(self, path: str | Path) -> PartitionData:
        """Read a Gset/rudy graph to bisect (two parts)."""
        g = read_graph(path)
        return PartitionData(g.num_nodes, g.edges, g.weights, name=g.name, parts=2)

    def build(self, data: PartitionData) -> Problem:
        from kakehashi.model.model import Model

        k, (lo, hi) = data.parts, data.size_bounds
        m = Model(f"partition-{data.name}")
        x = m.binary("x", shape=(data.num_nodes, k))
        xi, xj = x[data.edges[:, 0]], x[data.edges[:, 1]]
        m.minimize(data.weights.sum() - (data.weights[:, None] * xi * xj).sum())
        m.one_hot(x, axis=1, name="one_part_per_node")
        m.constrain_range(x.sum(axis=0), lo, hi, name="balanced_parts")
        return m.to_problem()

    def decode(self, result: Result, data: PartitionData) -> Partition:
        x = result.solution["x"]
        part = np.where(x.sum(axis=1) == 1, x.argmax(axis=1), -1)
        return self._partition(part, data)

    @staticmethod
    def _partition(part: np.ndarray, data: PartitionData) -> Partition:
        part = np.asarray(part)
        ok = bool(np.all(part >= 0))
        return Partition(
            objective=cut_weight(part, data) if ok else float("nan"), part=[int(p) for p in part]
        )

    def validate(self, answer: Partition, data: PartitionData) -> Validation:
        errors: list[str] = []
        part = list(answer.part)
        lo, hi = data.size_bounds
        if len(part) != data.num_nodes:
            errors.append(f"{len(part)} parts given for {data.num_nodes} nodes")
        bad = [v for v, p in enumerate(part) if not 0 <= p < data.parts]
        if bad:
            errors.append(f"nodes {bad[:5]} are in no part 0..{data.parts - 1}")
        counts = np.bincount([p for p in part if 0 <= p < data.parts], minlength=data.parts)
        for p, c in enumerate(counts):
            if not lo <= c <= hi:
                errors.append(f"part {p} has {c} nodes; balanced parts have {lo}–{hi}")
        if bad or len(part) != data.num_nodes:
            return Validation.from_errors(errors, None)
        cut = cut_weight(part, data)
        if not np.isclose(cut, answer.objective):
            errors.append(f"the stated cut {answer.objective:g} is not the parts' cut {cut:g}")
        return Validation.from_errors(errors, cut)

    def baseline(self, data: PartitionData, time_limit: float | None = None) -> BaselineResult:
        t0 = time.perf_counter()
        if data.parts ** (data.num_nodes - 1) <= 2**EXACT_MAX_NODES:
            lab = exhaustive_partition(data, data.parts, data.size_bounds, maximize=False)
            return BaselineResult(
                "exhaustive enumeration",
                self._partition(lab, data),
                time.perf_counter() - t0,
                "optimal",
            )
        lab, status, bound = cpsat_partition(data, 2.0 if time_limit is None else time_limit)
        return BaselineResult(
            "OR-Tools CP-SAT",
            self._partition(lab, data),
            time.perf_counter() - t0,
            status,
            bound=bound,
        )
