"""Quadratic assignment / facility layout (manufacturing): place ``n`` facilities on ``n``
locations so that flow × distance summed over all pairs is smallest.

With ``A`` and ``B`` the two matrices of a QAPLIB file (flow and distance, in either order),
the cost of placing facility ``i`` at location ``p(i)`` is ``Σ_ij A[i,j] · B[p(i), p(j)]``.

Model: ``x[i, p] = 1`` when facility ``i`` is at location ``p``; one location per facility
and one facility per location (two one-hot groups); cost ``Σ x ∘ (A x Bᵀ)``, quadratic in x.

Reader: QAPLIB ``.dat`` (``n``, then ``A``, then ``B``). Baseline: Taillard's robust tabu
search (Ro-TS, 1991) — the classical workhorse for QAP — and exhaustive enumeration for
``n`` ≤ :data:`EXACT_MAX_FACILITIES`.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> qap = get_use_case("qap")
    >>> data = qap.load("nug12")
    >>> ref = qap.baseline(data, time_limit=2)          # robust tabu search, seeded
    >>> ref.objective, qap.validate(ref.answer, data).valid
    (578.0, True)
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from pathlib import Path

import numpy as np

from kakehashi.apps.base import Answer, AppDataError, BaselineResult, UseCase, Validation, register
from kakehashi.model.problem import Problem
from kakehashi.result import Result

__all__ = ["EXACT_MAX_FACILITIES", "Layout", "Qap", "QapData", "layout_cost", "robust_tabu"]

#: largest instance the baseline solves by trying every permutation (n! work)
EXACT_MAX_FACILITIES = 8


@dataclasses.dataclass
class QapData:
    """A QAP instance: ``flow`` between facilities and ``distance`` between locations,
    both (n, n). The cost of an assignment ``p`` is ``Σ_ij flow[i,j] · distance[p(i), p(j)]``.

    Example:
        >>> QapData(np.ones((3, 3)), np.eye(3)).n
        3
    """

    flow: np.ndarray
    distance: np.ndarray
    name: str = "qap"

    def __post_init__(self) -> None:
        a = np.asarray(self.flow, dtype=np.float64)
        b = np.asarray(self.distance, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape != b.shape:
            raise AppDataError(
                f"flow and distance must be square matrices of the same size, got "
                f"{a.shape} and {b.shape}"
            )
        if a.shape[0] < 2:
            raise AppDataError("a QAP needs at least 2 facilities")
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            raise AppDataError("flow and distance must be finite numbers")
        self.flow, self.distance = a, b

    @property
    def n(self) -> int:
        return int(self.flow.shape[0])


@dataclasses.dataclass
class Layout(Answer):
    """``location[i]`` is the location (0-based) of facility ``i``; ``objective`` its cost."""

    location: list[int]

    def describe(self, max_items: int = 40) -> str:
        loc = self.location
        shown = loc if len(loc) <= max_items else [*loc[:max_items], "…"]
        return "facility→location " + " ".join(str(v) for v in shown)


def layout_cost(location: list[int] | np.ndarray, data: QapData) -> float:
    """``Σ_ij flow[i,j] · distance[p(i), p(j)]``.

    Example:
        >>> d = QapData(np.array([[0, 3], [3, 0]]), np.array([[0, 2], [2, 0]]))
        >>> layout_cost([1, 0], d)
        12.0
    """
    p = np.asarray(location, dtype=np.int64)
    return float((data.flow * data.distance[np.ix_(p, p)]).sum())


def make_layout(location: list[int], data: QapData) -> Layout:
    location = [int(v) for v in location]
    ok = sorted(location) == list(range(data.n))
    return Layout(objective=layout_cost(location, data) if ok else float("nan"), location=location)


# ---------------------------------------------------------------------- robust tabu search
def swap_deltas(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Cost change of swapping the locations of every pair of facilities, as an (n, n)
    matrix (Taillard's move evaluation, vectorised: two matrix products).

    Example:
        >>> a = np.array([[0, 3, 1], [3, 0, 2], [1, 2, 0.]]); b = np.array([[0, 1, 2],
        ...     [1, 0, 1], [2, 1, 0.]])
        >>> d = QapData(a, b); p = np.array([0, 1, 2])
        >>> float(swap_deltas(a, b, p)[0, 2]) == layout_cost([2, 1, 0], d) - layout_cost(p, d)
        True
    """
    bp = b[np.ix_(p, p)]  # bp[i, j] = b[p(i), p(j)]
    m = a.T @ bp  # m[r, s] = Σ_k a[k, r] bp[k, s]
    q = a @ bp.T  # q[r, s] = Σ_k a[r, k] bp[s, k]
    am, bm = np.diag(a), np.diag(bp)
    dm, dq = np.diag(m), np.diag(q)
    # Σ over every k of both terms, then the k = r and k = s terms taken back out
    full = (m + m.T - dm[:, None] - dm[None, :]) + (q + q.T - dq[:, None] - dq[None, :])
    at, bt = a.T, bp.T
    k_is_r = (am[:, None] - a) * (bp - bm[:, None]) + (am[:, None] - at) * (bt - bm[:, None])
    k_is_s = (at - am[None, :]) * (bm[None, :] - bt) + (a - am[None, :]) * (bm[None, :] - bp)
    own = (am[:, None] - am[None, :]) * (bm[None, :] - bm[:, None]) + (a - at) * (bt - bp)
    return own + full - k_is_r - k_is_s


def robust_tabu(
    data: QapData,
    time_limit: float = 1.0,
    seed: int | None = 0,
    target: float | None = None,
) -> tuple[list[int], dict]:
    """Taillard's robust tabu search (1991) from a random start, for ``time_limit`` seconds
    (or until ``target`` is reached).

    Each step makes the best swap that is not tabu — or that is *aspired*: it beats the best
    cost so far, or its facilities have not moved for ``5n²`` steps. A facility may not return
    to a location it left for a random tenure of 0.9n–1.1n steps.

    Example:
        >>> d = QapData(np.array([[0, 5, 1], [5, 0, 2], [1, 2, 0]]), np.array([[0, 1, 2],
        ...             [1, 0, 1], [2, 1, 0]]))
        >>> loc, info = robust_tabu(d, time_limit=0.1, seed=1)
        >>> layout_cost(loc, d)
        18.0
    """
    a, b, n = data.flow, data.distance, data.n
    rng = np.random.default_rng(seed)
    p = rng.permutation(n)
    tabu = -(n * np.arange(n)[:, None] + np.arange(n)[None, :])
    current = best = layout_cost(p, data)
    best_p = p.copy()
    aspiration = 5 * n * n
    t_min, t_max = int(0.9 * n), max(int(0.9 * n), math.ceil(1.1 * n))
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    it = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < time_limit:
        if target is not None and best <= target + 1e-9:
            break
        for _ in range(64):  # check the clock every 64 steps
            it += 1
            delta = swap_deltas(a, b, p)
            t_fwd = tabu[:, p]  # t_fwd[i, j]: when facility i may go to j's location
            t_back = t_fwd.T
            authorized = upper & ((t_fwd < it) | (t_back < it))
            aspired = upper & (
                ((t_fwd < it - aspiration) & (t_back < it - aspiration))
                | (current + delta < best - 1e-9)
            )
            pool = aspired if aspired.any() else authorized
            if not pool.any():
                continue
            flat = int(np.argmin(np.where(pool, delta, np.inf)))
            i, j = divmod(flat, n)
            current += delta[i, j]
            p[i], p[j] = p[j], p[i]
            # forbid each facility to return to the location it just left
            tabu[i, p[j]] = it + rng.integers(t_min, t_max + 1)
            tabu[j, p[i]] = it + rng.integers(t_min, t_max + 1)
            if current < best - 1e-9:
                best, best_p = current, p.copy()
    return best_p.tolist(), {"iterations": it, "seed": seed}


def exhaustive_qap(data: QapData) -> list[int]:
    """The optimal assignment by trying all n! permutations (n ≤ 9), vectorised in chunks."""
    n = data.n
    if n > 9:
        raise AppDataError(f"exhaustive QAP tries n! permutations; n = {n} is too many (≤ 9)")
    best_cost, best_perm = np.inf, None
    perms = itertools.permutations(range(n))
    while True:
        block = np.array(list(itertools.islice(perms, 20000)), dtype=np.int64)
        if block.size == 0:
            break
        # cost[k] = Σ_ij A_ij B[p_k(i), p_k(j)]
        costs = np.einsum(
            "ij,kij->k", data.flow, data.distance[block[:, :, None], block[:, None, :]]
        )
        k = int(np.argmin(costs))
        if costs[k] < best_cost:
            best_cost, best_perm = costs[k], block[k].tolist()
    return best_perm


def read_qaplib(path: str | Path) -> QapData:
    """Read a QAPLIB ``.dat`` file: ``n``, then the ``n×n`` matrices ``A`` and ``B``.

    Example:
        >>> from kakehashi.apps.base import shipped_instance_dir
        >>> read_qaplib(shipped_instance_dir() / "nug12.dat").n
        12
    """
    from kakehashi.model.io.readers_common import declared_count, fail, parse_numbers, read_text

    nums = parse_numbers(read_text(path), path, "a QAPLIB file")
    if nums.size == 0:
        raise fail(
            path,
            "the file is empty; a QAPLIB file starts with the size n (an integer ≥ 2)",
            "check that this is a QAPLIB .dat file",
        )
    # two n×n matrices follow n: it cannot exceed what the file holds
    n = declared_count(
        path, nums[0], "the size n", line=1, present=math.isqrt(max(nums.size - 1, 0) // 2)
    )
    if n < 2:
        raise fail(
            path,
            "a QAPLIB file starts with the size n (an integer ≥ 2)",
            "check that this is a QAPLIB .dat file",
        )
    if nums.size != 1 + 2 * n * n:
        raise fail(
            path,
            f"n = {n} needs {2 * n * n} matrix entries but the file has {nums.size - 1}",
            "the file is truncated or not a QAPLIB .dat file",
        )
    a = nums[1 : 1 + n * n].reshape(n, n)
    b = nums[1 + n * n :].reshape(n, n)
    return QapData(a, b, name=Path(path).name.split(".")[0])


@register
class Qap(UseCase):
    """Quadratic assignment: facilities to locations, flow × distance smallest."""

    name = "qap"
    title = "Quadratic assignment / facility layout"
    domain = "manufacturing"
    data_type = QapData
    sense = "min"
    baseline_tool = "robust tabu search (Taillard); exhaustive for n ≤ 8"
    size_meaning = "facilities"
    max_size = 60
    file_suffixes = (".dat",)

    def generate(self, size: int, seed: int | None = None) -> QapData:
        """A shop floor: locations on a grid (walking distance = Manhattan), sparse integer
        flows between departments, in the style of QAPLIB's nug instances.

        Example:
            >>> Qap().generate(6, seed=0).n
            6
        """
        if size < 2:
            raise AppDataError(f"a QAP needs at least 2 facilities; got size {size}")
        rng = np.random.default_rng(seed)
        cols = math.ceil(math.sqrt(size))
        cells = np.array([(r, c) for r in range(math.ceil(size / cols)) for c in range(cols)])
        cells = cells[:size]
        dist = np.abs(cells[:, None, :] - cells[None, :, :]).sum(axis=2).astype(float)
        flow = rng.integers(0, 10, size=(size, size)) * (rng.random((size, size)) < 0.6)
        flow = np.triu(flow, 1)
        flow = (flow + flow.T).astype(float)
        return QapData(flow, dist, name=f"random{size}-s{seed}")

    def read(self, path: str | Path) -> QapData:
        """Read a QAPLIB ``.dat`` file."""
        return read_qaplib(path)

    def build(self, data: QapData) -> Problem:
        from kakehashi.model.model import Model

        m = Model(f"qap-{data.name}")
        x = m.binary("x", shape=(data.n, data.n))
        m.minimize((x * (data.flow @ x @ data.distance.T)).sum())
        m.one_hot(x, axis=1, name="one_location_per_facility")
        m.one_hot(x, axis=0, name="one_facility_per_location")
        return m.to_problem()

    def decode(self, result: Result, data: QapData) -> Layout:
        x = result.solution["x"]
        loc = np.where(x.sum(axis=1) == 1, x.argmax(axis=1), -1)
        return make_layout(loc.tolist(), data)

    def validate(self, answer: Layout, data: QapData) -> Validation:
        return validate_layout(answer, data)

    def baseline(self, data: QapData, time_limit: float | None = None) -> BaselineResult:
        t0 = time.perf_counter()
        if data.n <= EXACT_MAX_FACILITIES:
            return BaselineResult(
                "exhaustive enumeration",
                make_layout(exhaustive_qap(data), data),
                time.perf_counter() - t0,
                "optimal",
            )
        loc, info = robust_tabu(data, 1.0 if time_limit is None else time_limit, seed=0)
        return BaselineResult(
            "robust tabu search (Taillard)",
            make_layout(loc, data),
            time.perf_counter() - t0,
            "heuristic",
            info=info,
        )


def validate_layout(answer: Layout, data: QapData) -> Validation:
    """A location for every facility, no location used twice, the cost recomputed.

    Example:
        >>> d = QapData(np.ones((3, 3)), np.ones((3, 3)))
        >>> validate_layout(make_layout([0, 0, 2], d), d).errors
        ['location 0 holds 2 facilities', 'location 1 holds no facility']
    """
    errors: list[str] = []
    loc = list(answer.location)
    if len(loc) != data.n:
        errors.append(f"{len(loc)} facilities placed but the instance has {data.n}")
    bad = [(i, v) for i, v in enumerate(loc) if not 0 <= v < data.n]
    errors += [f"facility {i} has no valid location ({v})" for i, v in bad]
    counts = np.bincount([v for v in loc if 0 <= v < data.n], minlength=data.n)
    errors += [f"location {p} holds {counts[p]} facilities" for p in np.flatnonzero(counts > 1)]
    errors += [f"location {p} holds no facility" for p in np.flatnonzero(counts == 0)]
    if errors:
        return Validation.from_errors(errors, None)
    cost = layout_cost(loc, data)
    if not np.isclose(cost, answer.objective):
        errors.append(f"the stated cost {answer.objective:g} is not the layout's cost {cost:g}")
    return Validation.from_errors(errors, cost)
