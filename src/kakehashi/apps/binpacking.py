"""Bin packing (loading trucks, cutting stock, VM placement): pack items of given sizes into
as few bins of one capacity as possible.

Model: ``x[i, b] = 1`` when item ``i`` goes into bin ``b``, ``y[b] = 1`` when bin ``b`` is used;
``B`` bins are offered, as many as first-fit decreasing needs (an upper bound on the optimum).
Each item in one bin (one-hot), ``sizes · x[:, b] ≤ capacity · y[b]`` (an unused bin holds
nothing), bins used in order ``y[b] ≥ y[b+1]`` (removes symmetric copies); minimise ``Σ y``.

Reader: the BPPLIB/OR-Library plain format (``n``, ``capacity``, then ``n`` sizes).
Baseline: first-fit decreasing, then Google OR-Tools CP-SAT on the same model seeded with it
— what a practitioner would run; CP-SAT proves optimality on small and medium instances.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> bp = get_use_case("binpacking")
    >>> data = bp.generate(12, seed=0)
    >>> ref = bp.baseline(data, time_limit=5)
    >>> ref.status, bp.validate(ref.answer, data).valid
    ('optimal', True)
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np

from kakehashi.apps.base import Answer, AppDataError, BaselineResult, UseCase, Validation, register
from kakehashi.model.problem import Problem
from kakehashi.result import Result

__all__ = ["BinPacking", "BinPackingData", "Bins", "first_fit_decreasing", "lower_bound"]


@dataclasses.dataclass
class BinPackingData:
    """Positive integer item ``sizes`` and one integer bin ``capacity``.

    Example:
        >>> BinPackingData(sizes=[4, 3, 3, 2], capacity=6).n
        4
    """

    sizes: np.ndarray
    capacity: int
    name: str = "binpacking"

    def __post_init__(self) -> None:
        s = np.asarray(self.sizes, dtype=np.float64)
        if s.ndim != 1 or s.size == 0:
            raise AppDataError(f"sizes must be a non-empty list, got shape {s.shape}")
        if np.any(s != np.round(s)) or np.any(s <= 0) or self.capacity != int(self.capacity):
            raise AppDataError(
                "item sizes must be positive integers and the capacity an integer (scale "
                "fractional sizes, e.g. to millimetres)"
            )
        if s.max() > self.capacity:
            raise AppDataError(
                f"item {int(s.argmax())} has size {s.max():g}, larger than a bin "
                f"({self.capacity}); it can never be packed"
            )
        self.sizes, self.capacity = s.astype(np.int64), int(self.capacity)

    @property
    def n(self) -> int:
        return int(self.sizes.size)


@dataclasses.dataclass
class Bins(Answer):
    """The items (0-based) in each used bin; ``objective`` is the number of bins used."""

    bins: list[list[int]]

    def describe(self, max_items: int = 40) -> str:
        text = " | ".join(" ".join(map(str, b)) for b in self.bins)
        return f"{len(self.bins)} bins: " + (text if len(text) < 400 else text[:400] + " …")


def make_bins(bins: list[list[int]]) -> Bins:
    bins = [sorted(int(i) for i in b) for b in bins if len(b)]
    return Bins(objective=float(len(bins)), bins=bins)


def lower_bound(data: BinPackingData) -> int:
    """The continuous bound ⌈Σ sizes / capacity⌉ (Martello–Toth L1).

    Example:
        >>> lower_bound(BinPackingData([4, 3, 3, 2], 6))
        2
    """
    return math.ceil(int(data.sizes.sum()) / data.capacity)


def first_fit_decreasing(sizes: np.ndarray, capacity: int) -> list[list[int]]:
    """Largest item first into the first bin with room (at most 11/9·OPT + 6/9 bins).

    Example:
        >>> first_fit_decreasing(np.array([4, 3, 3, 2]), 6)
        [[0, 3], [1, 2]]
    """
    sizes = np.asarray(sizes)
    bins: list[list[int]] = []
    room: list[int] = []
    for i in np.argsort(-sizes, kind="stable"):
        s = int(sizes[i])
        for b, r in enumerate(room):
            if s <= r:
                bins[b].append(int(i))
                room[b] -= s
                break
        else:
            bins.append([int(i)])
            room.append(int(capacity) - s)
    return bins


def cpsat_binpacking(
    data: BinPackingData, hint: list[list[int]], time_limit: float
) -> tuple[list[list[int]], str, float]:
    """CP-SAT on the assignment model, hinted with ``hint``: (bins, status, bound)."""
    from ortools.sat.python import cp_model

    n, nb = data.n, len(hint)
    model = cp_model.CpModel()
    x = [[model.NewBoolVar(f"x{i}_{b}") for b in range(nb)] for i in range(n)]
    y = [model.NewBoolVar(f"y{b}") for b in range(nb)]
    for i in range(n):
        model.AddExactlyOne(x[i])
    for b in range(nb):
        model.Add(sum(int(data.sizes[i]) * x[i][b] for i in range(n)) <= data.capacity * y[b])
        if b + 1 < nb:
            model.Add(y[b] >= y[b + 1])
    model.Minimize(sum(y))
    where = {i: b for b, items in enumerate(hint) for i in items}
    for i in range(n):
        for b in range(nb):
            model.AddHint(x[i][b], where[i] == b)
    for b in range(nb):
        model.AddHint(y[b], True)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    code = solver.Solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return hint, "heuristic", float(lower_bound(data))
    bins = [[i for i in range(n) if solver.Value(x[i][b])] for b in range(nb)]
    status = "optimal" if code == cp_model.OPTIMAL else "feasible"
    return bins, status, float(solver.BestObjectiveBound())


def read_bpp(path: str | Path) -> BinPackingData:
    """Read the BPPLIB/OR-Library plain format: ``n``, ``capacity``, then ``n`` item sizes.

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "t.bpp"
        >>> _ = f.write_text("3\\n10\\n4\\n5\\n6\\n")
        >>> read_bpp(f).sizes.tolist()
        [4, 5, 6]
    """
    from kakehashi.model.io.readers_common import declared_count, fail, parse_numbers, read_text

    nums = parse_numbers(read_text(path), path, "a bin-packing file")
    if nums.size < 3:
        raise fail(
            path,
            "expected 'n', 'capacity' and n item sizes",
            "check that this is a BPPLIB plain-format file",
        )
    n = declared_count(path, nums[0], "the item count n", line=1)
    if nums.size != n + 2:
        raise fail(
            path,
            f"the file declares {n} items but lists {nums.size - 2} sizes",
            "the file is truncated or in another format",
        )
    if not 0 < nums[1] < 2**53 or nums[1] != int(nums[1]):
        raise fail(
            path, f"line 2: the capacity {nums[1]:g} is not a positive whole number", "fix it"
        )
    return BinPackingData(nums[2:], int(nums[1]), name=Path(path).name.split(".")[0])


@register
class BinPacking(UseCase):
    """Bin packing: fewest bins of one capacity holding every item."""

    name = "binpacking"
    title = "Bin packing"
    domain = "logistics / manufacturing"
    data_type = BinPackingData
    sense = "min"
    baseline_tool = "first-fit decreasing + OR-Tools CP-SAT"
    size_meaning = "items"
    max_size = 3_000
    file_suffixes = (".bpp",)

    def generate(self, size: int, seed: int | None = None) -> BinPackingData:
        """Falkenauer's "uniform" class: sizes 20–100, bins of 150.

        Example:
            >>> BinPacking().generate(8, seed=0).capacity
            150
        """
        if size < 1:
            raise AppDataError(f"bin packing needs at least one item; got size {size}")
        rng = np.random.default_rng(seed)
        return BinPackingData(rng.integers(20, 101, size=size), 150, name=f"random{size}-s{seed}")

    def read(self, path: str | Path) -> BinPackingData:
        """Read a BPPLIB plain-format file."""
        return read_bpp(path)

    def build(self, data: BinPackingData) -> Problem:
        from kakehashi.model.model import Model

        nb = len(first_fit_decreasing(data.sizes, data.capacity))
        m = Model(f"binpacking-{data.name}")
        x = m.binary("x", shape=(data.n, nb))
        y = m.binary("y", shape=nb)
        m.minimize(y.sum())
        m.one_hot(x, axis=1, name="one_bin_per_item")
        m.constrain(data.sizes @ x - data.capacity * y <= 0, name="bin_capacity")
        if nb > 1:
            m.constrain(y[:-1] - y[1:] >= 0, name="use_bins_in_order")
        return m.to_problem()

    def decode(self, result: Result, data: BinPackingData) -> Bins:
        x = result.solution["x"]
        # an item in no bin, or in several, is reported as it is; validate() flags it
        return make_bins([np.flatnonzero(x[:, b]).tolist() for b in range(x.shape[1])])

    def validate(self, answer: Bins, data: BinPackingData) -> Validation:
        return validate_bins(answer, data)

    def baseline(self, data: BinPackingData, time_limit: float | None = None) -> BaselineResult:
        t0 = time.perf_counter()
        ffd = first_fit_decreasing(data.sizes, data.capacity)
        lb = lower_bound(data)
        if len(ffd) == lb:  # FFD meets the bound: provably optimal, nothing left to search
            return BaselineResult(
                "first-fit decreasing (meets the L1 bound)",
                make_bins(ffd),
                time.perf_counter() - t0,
                "optimal",
                bound=float(lb),
            )
        try:
            bins, status, bound = cpsat_binpacking(
                data, ffd, 2.0 if time_limit is None else time_limit
            )
        except ImportError:
            return BaselineResult(
                "first-fit decreasing (OR-Tools not installed)",
                make_bins(ffd),
                time.perf_counter() - t0,
                "heuristic",
                bound=float(lb),
            )
        return BaselineResult(
            "OR-Tools CP-SAT (hinted with first-fit decreasing)",
            make_bins(bins),
            time.perf_counter() - t0,
            status,
            bound=bound,
            info={"first_fit_decreasing_bins": len(ffd)},
        )


def validate_bins(answer: Bins, data: BinPackingData) -> Validation:
    """Every item in exactly one bin, no bin over capacity, the bin count recomputed.

    Example:
        >>> d = BinPackingData([4, 3, 3, 2], 6)
        >>> validate_bins(make_bins([[0, 1], [2, 3]]), d).errors
        ['bin 0 holds 7, more than the capacity 6']
    """
    errors: list[str] = []
    bins = [list(b) for b in answer.bins if len(b)]
    items = [i for b in bins for i in b]
    bad = [i for i in items if not 0 <= i < data.n]
    if bad:
        errors.append(f"bins hold {len(bad)} unknown item(s): {bad[:5]}")
    counts = np.bincount([i for i in items if 0 <= i < data.n], minlength=data.n)
    errors += [f"item {i} is in {counts[i]} bins" for i in np.flatnonzero(counts > 1)]
    errors += [f"item {i} is in no bin" for i in np.flatnonzero(counts == 0)]
    for k, b in enumerate(bins):
        load = int(data.sizes[[i for i in b if 0 <= i < data.n]].sum())
        if load > data.capacity:
            errors.append(f"bin {k} holds {load}, more than the capacity {data.capacity}")
    used = float(len(bins))
    if used != answer.objective:
        errors.append(f"the stated bin count {answer.objective:g} is not {used:g}")
    return Validation.from_errors(errors, None if bad else used)
