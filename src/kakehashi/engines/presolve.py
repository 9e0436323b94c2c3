"""Exact presolve: eliminate the variables that have at most two neighbours.

A variable ``i`` whose neighbours are ``N`` (``|N| ≤ 2``) contributes
``x_i (h_i + Σ_{j∈N} J_ij x_j)`` to the energy; whatever the neighbours do, its best value is
``x_i = 1`` exactly when that bracket is negative, so its contribution is
``min(0, h_i + Σ J_ij x_j)`` — a function of at most two binaries, which is always a constant
plus linear terms plus one pair term. Folding it into its neighbours removes ``i`` without
changing the minimum (bucket elimination on a graph of degree ≤ 2), and the fold may lower a
neighbour's degree in turn, so pendant trees and chains of degree-2 variables disappear
entirely. Any reduced state lifts back (in reverse elimination order) to a full state with
exactly the same energy, so targets, traces and energies mean the same on both sides.

Sparse graphs gain the most: G55 (5000 vertices, average degree 5) keeps 4351, and simulated
annealing on the reduced problem reaches better cuts in less time per sweep. Dense QUBOs have
nothing to eliminate and pay one degree count.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp

from kakehashi.engines._core import (
    QuboArrays,
    as_arrays,
    as_states,
    clock,
    finish,
    resolve_seed,
)


@dataclasses.dataclass
class Reduction:
    """A reduced QUBO and what is needed to lift its states back to the original variables.

    ``reduced`` has the same energy as the original at every lifted state (its offset carries
    the eliminated variables' constant part). ``kept[k]`` is the original index of reduced
    variable ``k``; ``var``/``bias``/``nbr``/``weight`` record each elimination in order: the
    variable, its linear coefficient then, and up to two neighbours (``-1`` for none) with
    their coupling.
    """

    original: QuboArrays
    reduced: QuboArrays
    kept: np.ndarray
    var: np.ndarray
    bias: np.ndarray
    nbr: np.ndarray
    weight: np.ndarray
    seconds: float

    @property
    def eliminated(self) -> int:
        return int(self.var.size)

    def restrict(self, X: np.ndarray) -> np.ndarray:
        """Full 0/1 states → the reduced variables' columns."""
        X = as_states(X, self.original.n)
        return np.ascontiguousarray(X[:, self.kept])

    def lift(self, Y: np.ndarray, seed: int | None = 0) -> np.ndarray:
        """Reduced 0/1 states → full states of the same energy.

        An eliminated variable whose two values cost the same (a free variable, or a tie
        given its neighbours) is drawn at random from ``seed``, so different seeds sample
        different optima and each row draws its own."""
        Y = np.atleast_2d(np.asarray(Y, dtype=np.int8))
        X = np.zeros((Y.shape[0], self.original.n), dtype=np.int8)
        X[:, self.kept] = Y
        coin = np.random.default_rng(seed).integers(0, 2, size=(Y.shape[0], self.eliminated))
        _lift_rows(X, self.var, self.bias, self.nbr, self.weight, coin.astype(np.int8))
        return X


@nb.njit(cache=True, parallel=True)
def _lift_rows(X, var, bias, nbr, weight, coin):
    for r in nb.prange(X.shape[0]):
        for t in range(var.size - 1, -1, -1):
            s = bias[t]
            for k in range(2):
                j = nbr[t, k]
                if j >= 0 and X[r, j]:
                    s += weight[t, k]
            # s == 0: both values give the same energy (exactly), so either is a minimum
            X[r, var[t]] = 1 if s < 0.0 else (coin[r, t] if s == 0.0 else 0)


def eliminate_low_degree(qubo: Any) -> Reduction | None:
    """Eliminate every variable of degree ≤ 2, repeatedly; ``None`` when there is none.

    Example:
        >>> import numpy as np, scipy.sparse as sp
        >>> h = np.array([1.5, -2.0, 1.5])        # a path 0 - 1 - 2
        >>> J = sp.csr_matrix(np.array([[0, -1, 0], [-1, 0, -1], [0, -1, 0.0]]))
        >>> red = eliminate_low_degree((h, J))
        >>> red.reduced.n, red.reduced.offset      # solved outright: minimum -2
        (0, -2.0)
        >>> red.lift(np.zeros((1, 0))).tolist()
        [[0, 1, 0]]
    """
    q = as_arrays(qubo)
    t0 = clock()
    row_of = np.repeat(np.arange(q.n), np.diff(q.indptr))
    degree = np.bincount(row_of[q.data != 0.0], minlength=q.n)
    low = np.flatnonzero(degree <= 2)
    if low.size == 0:
        return None
    h = q.h.copy()
    offset = q.offset
    scale = max(1.0, q.max_abs())
    rows: dict[int, dict[int, float]] = {}

    def row(i: int) -> dict[int, float]:
        r = rows.get(i)
        if r is None:
            a, b = q.indptr[i], q.indptr[i + 1]
            cols, vals = q.indices[a:b], q.data[a:b]
            r = {int(j): float(w) for j, w in zip(cols, vals, strict=True) if w != 0.0}
            rows[i] = r
        return r

    alive = np.ones(q.n, dtype=bool)
    var, bias, nbr, weight = [], [], [], []
    stack = low[::-1].tolist()
    while stack:
        i = stack.pop()
        if not alive[i]:
            continue
        ri = row(i)
        if len(ri) > 2:
            continue
        alive[i] = False
        hi = h[i]
        items = list(ri.items())
        var.append(i)
        bias.append(hi)
        nbr.append([j for j, _ in items] + [-1] * (2 - len(items)))
        weight.append([w for _, w in items] + [0.0] * (2 - len(items)))
        for j, _ in items:
            del row(j)[i]
        f0 = min(0.0, hi)
        offset += f0
        if len(items) >= 1:
            j, a = items[0]
            h[j] += min(0.0, hi + a) - f0
        if len(items) == 2:
            k, b = items[1]
            h[k] += min(0.0, hi + b) - f0
            pair = min(0.0, hi + a + b) - min(0.0, hi + a) - min(0.0, hi + b) + f0
            if abs(pair) > 1e-12 * scale:
                rj, rk = row(j), row(k)
                w = rj.get(k, 0.0) + pair
                if abs(w) > 1e-12 * scale:
                    rj[k] = rk[j] = w
                else:
                    rj.pop(k, None)
                    rk.pop(j, None)
        for j, _ in items:
            if alive[j] and len(row(j)) <= 2:
                stack.append(j)
    reduced, kept = _reduced_arrays(q, h, offset, alive, rows)
    return Reduction(
        original=q,
        reduced=reduced,
        kept=kept,
        var=np.array(var, dtype=np.int64),
        bias=np.array(bias, dtype=np.float64),
        nbr=np.array(nbr, dtype=np.int64).reshape(-1, 2),
        weight=np.array(weight, dtype=np.float64).reshape(-1, 2),
        seconds=clock() - t0,
    )


def _reduced_arrays(
    q: QuboArrays, h: np.ndarray, offset: float, alive: np.ndarray, rows: dict
) -> tuple[QuboArrays, np.ndarray]:
    # Rows never touched by an elimination are the original CSR rows (none of their
    # neighbours was eliminated, or they would have been touched); the rest come from `rows`.
    kept = np.flatnonzero(alive)
    new_index = np.full(q.n, -1, dtype=np.int64)
    new_index[kept] = np.arange(kept.size)
    untouched = alive.copy()
    untouched[list(rows)] = False
    counts = np.diff(q.indptr)
    take = np.repeat(untouched, counts) & (q.data != 0.0)
    r0 = np.repeat(np.arange(q.n), counts)[take]
    c0, v0 = q.indices[take].astype(np.int64), q.data[take]
    touched = [(i, r) for i, r in rows.items() if alive[i]]
    r1 = np.array([i for i, r in touched for _ in r], dtype=np.int64)
    c1 = np.array([j for _, r in touched for j in r], dtype=np.int64)
    v1 = np.array([w for _, r in touched for w in r.values()], dtype=np.float64)
    r = new_index[np.concatenate([r0, r1])]
    c = new_index[np.concatenate([c0, c1])]
    v = np.concatenate([v0, v1])
    J = sp.csr_matrix((v, (r, c)), shape=(kept.size, kept.size))
    return as_arrays((h[kept], J, offset)), kept


def presolved(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate an engine: run it on the reduced QUBO when ``presolve`` (default on) finds
    something to eliminate, and return the lifted samples: same energies, trace shifted by the
    presolve time, which also comes out of ``time_limit``; ``info["presolve"]`` says what was
    kept. An ``on_improve`` callback is given full (lifted) rows. ``name`` is the engine's
    name in ``info``."""

    def decorate(engine: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(engine)
        def run(qubo: Any, **kw: Any) -> Any:
            return _run_presolved(engine, name, qubo, kw)

        return run

    return decorate


def _lifting(on_improve: Callable[..., Any], red: Reduction, seed: int) -> Callable[..., Any]:
    """The engine's callback on the reduced Qubo, calling ``on_improve`` with the full row
    (a lifted state has the same energy, so the energy passes through)."""

    def call(row: np.ndarray, energy: float) -> None:
        on_improve(red.lift(row[None, :], seed)[0], energy)

    return call


def _run_presolved(engine: Callable[..., Any], name: str, qubo: Any, kw: dict) -> Any:
    if not kw.pop("presolve", True):
        return engine(qubo, presolve=False, **kw)
    q = as_arrays(qubo)
    red = eliminate_low_degree(q)
    if red is None:
        return engine(q, presolve=False, **kw)
    # one seed for the engine and for the lift's draws of free variables
    kw["seed"] = resolve_seed(kw.get("seed"))
    spent = red.seconds
    if kw.get("time_limit") is not None:
        kw["time_limit"] = max(0.0, float(kw["time_limit"]) - spent)
    if kw.get("initial_states") is not None:
        kw["initial_states"] = red.restrict(kw["initial_states"])
    if kw.get("on_improve") is not None:
        kw["on_improve"] = _lifting(kw["on_improve"], red, kw["seed"])
    summary = {"variables": q.n, "kept": red.reduced.n, "seconds": spent}
    if red.reduced.n == 0:
        # nothing left to search: the engine still runs (instantly, on no variables) so that
        # the read count and the info keys are those of an ordinary run
        kw["time_limit"] = kw["target"] = None
    res = engine(red.reduced, presolve=False, **kw)
    trace = res.trace.copy()
    trace[:, 0] += spent
    if trace.shape[0] == 0:
        trace = np.array([[spent, red.reduced.offset]])
    info = dict(res.info, presolve=summary)
    if "elapsed" in info:
        info["elapsed"] += spent
    return finish(q, red.lift(res.samples, kw["seed"]), trace, info)
