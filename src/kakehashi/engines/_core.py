"""Shared pieces of the numba kernels: clock, random numbers, energies, the result type.

Everything here works on plain arrays. A QUBO is ``(h, indptr, indices, data, offset)`` with
``E(x) = offset + h·x + ½ xᵀ J x`` over ``x ∈ {0,1}^n`` and ``J`` symmetric with a zero
diagonal (both halves stored), exactly as in :class:`kakehashi.compile.qubo.Qubo`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

# ---------------------------------------------------------------------- clock inside kernels
# Kernels check their deadline themselves, so one call can run for seconds across threads.
# clock_gettime(CLOCK_MONOTONIC) is linked by name (not by address), so kernels stay cacheable;
# Python's time.monotonic() reads the same clock on Linux and macOS.
_CLOCK_MONOTONIC = 6 if sys.platform == "darwin" else 1


@intrinsic
def _monotonic_ns(typingctx):  # pragma: no cover - compiled
    sig = types.int64()

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        i64 = ir.IntType(64)
        ts_t = ir.LiteralStructType([i64, i64])
        fnty = ir.FunctionType(i32, [i32, ts_t.as_pointer()])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "clock_gettime")
        ts = cgutils.alloca_once(builder, ts_t)
        builder.call(fn, [ir.Constant(i32, _CLOCK_MONOTONIC), ts])
        sec = builder.load(cgutils.gep_inbounds(builder, ts, 0, 0))
        nsec = builder.load(cgutils.gep_inbounds(builder, ts, 0, 1))
        return builder.add(builder.mul(sec, ir.Constant(i64, 1_000_000_000)), nsec)

    return sig, codegen


@nb.njit(cache=True, inline="always")
def now() -> float:
    """Monotonic seconds, the same clock as :func:`time.monotonic`."""
    return _monotonic_ns() * 1e-9


def clock() -> float:
    return time.monotonic()


# ---------------------------------------------------------------------- random numbers
# xorshift64* per walker: a state is one uint64, so each read / walker / replica owns its
# stream and results do not depend on how threads are scheduled.
_U12 = np.uint64(12)
_U25 = np.uint64(25)
_U27 = np.uint64(27)
_U11 = np.uint64(11)
_U33 = np.uint64(33)
_MUL = np.uint64(0x2545F4914F6CDD1D)
_INV53 = 1.0 / 9007199254740992.0


@nb.njit(cache=True, inline="always")
def rng_next(s):
    s ^= s >> _U12
    s ^= s << _U25
    s ^= s >> _U27
    return s


@nb.njit(cache=True, inline="always")
def rng_unit(s) -> float:
    """Uniform [0, 1) from a state (call after :func:`rng_next`)."""
    return ((s * _MUL) >> _U11) * _INV53


@nb.njit(cache=True, inline="always")
def rng_below(s, n) -> int:
    """Uniform integer in [0, n) from a state (call after :func:`rng_next`)."""
    return np.int64(((s * _MUL) >> _U33) % np.uint64(n))


def seed_states(seed: int | None, count: int, stream: int = 0) -> np.ndarray:
    """``count`` independent non-zero xorshift states derived from ``seed`` by splitmix64."""
    base = np.random.SeedSequence(None if seed is None else [int(seed) & (2**63 - 1), stream])
    states = base.generate_state(count, dtype=np.uint64)
    states[states == 0] = np.uint64(0x9E3779B97F4A7C15)
    return states


def resolve_seed(seed: int | None) -> int:
    """A concrete seed: the given one, or a fresh one to record."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint32)[0])
    return int(seed)


# ---------------------------------------------------------------------- arrays
@dataclasses.dataclass
class QuboArrays:
    """The arrays a kernel takes: dense ``h``, CSR of symmetric zero-diagonal ``J``, offset."""

    h: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    offset: float

    @property
    def n(self) -> int:
        return self.h.size

    def max_abs(self) -> float:
        return float(max(np.abs(self.h).max(initial=0.0), np.abs(self.data).max(initial=0.0)))


def as_arrays(qubo: Any) -> QuboArrays:
    """Accept a :class:`~kakehashi.compile.qubo.Qubo`, anything with ``h``/``J``/``offset``, a
    tuple ``(h, J)`` / ``(h, J, offset)``, or a :class:`QuboArrays`."""
    if isinstance(qubo, QuboArrays):
        return qubo
    if isinstance(qubo, tuple):
        h, J, *rest = qubo
        offset = float(rest[0]) if rest else 0.0
    else:
        h, J, offset = qubo.h, qubo.J, float(getattr(qubo, "offset", 0.0))
    h = np.ascontiguousarray(np.asarray(h, dtype=np.float64).ravel())
    J = sp.csr_matrix(J, shape=(h.size, h.size), dtype=np.float64)
    if J.nnz and J.diagonal().any():
        raise ValueError("J must have a zero diagonal; fold diagonal terms into h")
    J.sum_duplicates()
    J.sort_indices()
    if J.nnz and abs(J - J.T).max() > 1e-12 * max(1.0, abs(J.data).max()):
        raise ValueError("J must be symmetric with both halves stored (E = h·x + ½ xᵀJx)")
    return QuboArrays(
        h,
        J.indptr.astype(np.int64),
        J.indices.astype(np.int32),
        np.ascontiguousarray(J.data, dtype=np.float64),
        float(offset),
    )


def as_states(X: Any, n: int, rows: int | None = None) -> np.ndarray:
    """Starting states as a fresh (rows, n) int8 array of 0s and 1s, or a ValueError: any
    other value would send a 0/1 kernel's local fields astray (a -1 made tabu and steepest
    descent loop forever)."""
    X = np.array(np.atleast_2d(X), dtype=np.int8, copy=True)
    if X.shape[1:] != (n,) or (rows is not None and X.shape[0] != rows):
        want = f"({rows}, {n})" if rows is not None else f"{n} columns"
        raise ValueError(f"initial_states must have {want}, got shape {X.shape}")
    if X.size and (X.min() < 0 or X.max() > 1):
        raise ValueError("initial_states must be 0/1 (convert spins with (1 + s) // 2)")
    return np.ascontiguousarray(X)


def energies(q: QuboArrays, X: np.ndarray) -> np.ndarray:
    """Exact energy of each row of a (k, n) 0/1 array (recomputed, not accumulated)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    J = sp.csr_matrix((q.data, q.indices, q.indptr), shape=(q.n, q.n))
    return q.offset + X @ q.h + 0.5 * np.einsum("ij,ij->i", (J @ X.T).T, X)


@nb.njit(cache=True)
def local_fields(h, indptr, indices, data, x):
    """``g = h + J x`` for one 0/1 vector."""
    n = h.size
    g = h.copy()
    for i in range(n):
        if x[i]:
            for k in range(indptr[i], indptr[i + 1]):
                g[indices[k]] += data[k]
    return g


@nb.njit(cache=True)
def energy_of(h, indptr, indices, data, offset, x):
    e = offset
    n = h.size
    for i in range(n):
        if x[i]:
            e += h[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j > i and x[j]:
                    e += data[k]
    return e


def default_beta_range(
    q: QuboArrays, seed: int = 0, hot_acceptance: float = 0.25
) -> tuple[float, float]:
    """Hot β: a typical uphill flip from a random state is accepted ``hot_acceptance`` of the
    time (default a quarter; simulated annealing starts colder, at an eighth);
    cold β: the smallest non-zero coefficient's change is accepted 0.1% of the time.

    (dwave-samplers heats until the *largest* possible change is accepted half the time;
    measured on Gset that spends most sweeps randomising. Accepting the typical flip half
    the time, as an earlier version did, was still too hot, and ending where the smallest
    change is accepted 1% of the time too warm: on G55 in 10 s these bounds reach cut
    10291-10292 against 10286, on G22 13358 against 13354-13357.)"""
    if not 0.0 < hot_acceptance < 1.0:
        raise ValueError(f"hot_acceptance must be in (0, 1), got {hot_acceptance}")
    absJ = np.abs(q.data)
    nz = np.concatenate([np.abs(q.h)[q.h != 0], absJ[absJ != 0]])
    if nz.size == 0:
        return 0.1, 1.0
    x = np.random.default_rng(seed).integers(0, 2, size=(4, q.n)).astype(np.float64)
    J = sp.csr_matrix((q.data, q.indices, q.indptr), shape=(q.n, q.n))
    g = np.abs(q.h[None, :] + (J @ x.T).T).ravel()
    g = g[g > 1e-12 * nz.max()]
    typical = float(np.median(g)) if g.size else float(nz.max())
    hot = float(np.log(1.0 / hot_acceptance) / typical)
    cold = float(np.log(1000) / nz.min())
    return min(hot, cold), max(hot, cold)


def energy_tolerance(q: QuboArrays) -> float:
    return 1e-9 * max(1.0, q.max_abs()) * max(1, q.n)


# ---------------------------------------------------------------------- results
@dataclasses.dataclass
class EngineResult:
    """What every engine returns.

    ``samples`` are 0/1 rows (int8) over the QUBO's variables, ``energies`` are recomputed from
    them, sorted best first. ``trace`` is the best-so-far curve: one row ``(seconds since start,
    energy)`` each time the best energy improved, for time-to-target curves.
    """

    samples: np.ndarray
    energies: np.ndarray
    trace: np.ndarray
    info: dict[str, Any]

    @property
    def best_energy(self) -> float:
        return float(self.energies[0])

    @property
    def best_sample(self) -> np.ndarray:
        return self.samples[0]

    def time_to(self, energy: float, tol: float = 1e-9) -> float | None:
        """Seconds until the best energy first reached ``energy`` (None if it never did)."""
        hit = np.nonzero(self.trace[:, 1] <= energy + tol)[0]
        return float(self.trace[hit[0], 0]) if hit.size else None

    def best_at(self, seconds: float) -> float:
        """Best energy found within ``seconds`` (inf if nothing by then)."""
        ok = self.trace[:, 0] <= seconds
        return float(self.trace[ok, 1].min()) if ok.any() else float("inf")


def merge_traces(
    times: np.ndarray, values: np.ndarray, counts: np.ndarray, t0: float
) -> np.ndarray:
    """Merge per-walker improvement records (absolute times) into one best-so-far curve."""
    parts_t = [times[w, : counts[w]] for w in range(len(counts))]
    parts_e = [values[w, : counts[w]] for w in range(len(counts))]
    if not parts_t or sum(p.size for p in parts_t) == 0:
        return np.zeros((0, 2))
    t = np.concatenate(parts_t) - t0
    e = np.concatenate(parts_e)
    order = np.lexsort((e, t))
    t, e = t[order], e[order]
    best = np.minimum.accumulate(e)
    keep = np.ones(e.size, dtype=bool)
    keep[1:] = best[1:] < best[:-1]
    return np.column_stack([np.maximum(t[keep], 0.0), best[keep]])


def finish(
    q: QuboArrays,
    X: np.ndarray,
    trace: np.ndarray,
    info: dict[str, Any],
    max_samples: int | None = None,
) -> EngineResult:
    """Recompute energies, sort best first, keep at most ``max_samples`` rows."""
    X = np.ascontiguousarray(X, dtype=np.int8)
    E = energies(q, X) if X.shape[0] else np.zeros(0)
    order = np.argsort(E, kind="stable")
    if max_samples is not None:
        order = order[:max_samples]
    X, E = X[order], E[order]
    if trace.shape[0] and E.size and E[0] < trace[-1, 1] - energy_tolerance(q):
        # the exact best is below what the kernels accumulated (rounding): end the curve there
        trace = np.vstack([trace, [trace[-1, 0], E[0]]])
    return EngineResult(X, E, trace, info)


#: ``on_improve(row, energy)``: an engine's new best 0/1 row over the Qubo it was given
OnImprove = Callable[[np.ndarray, float], None]


class Improvements:
    """Tells ``on_improve`` about each new best row among the blocks an engine produces
    between its kernel calls (batches, runs), so a caller can follow a long run live.

    Only the Python loop around the kernels calls :meth:`offer`, never a kernel: one energy
    evaluation per block (a sparse product over its rows), and nothing at all without a
    callback.

    Example:
        >>> import numpy as np, scipy.sparse as sp
        >>> q = as_arrays((np.array([1.0, -1.0]), sp.csr_matrix((2, 2))))
        >>> seen = []
        >>> imp = Improvements(q, lambda row, e: seen.append((row.tolist(), e)))
        >>> imp.offer(np.array([[1, 1], [0, 1]], dtype=np.int8)); imp.offer(np.ones((1, 2)))
        >>> seen
        [([0, 1], -1.0)]
    """

    def __init__(self, q: QuboArrays, on_improve: OnImprove | None) -> None:
        self.q, self.on_improve = q, on_improve
        self.best = np.inf
        self.tol = energy_tolerance(q)

    def offer(self, X: np.ndarray) -> None:
        """Consider a block of rows just produced; call back with its best if it improves."""
        if self.on_improve is None or X.shape[0] == 0:
            return
        E = energies(self.q, X)
        k = int(np.argmin(E))
        if E[k] < self.best - self.tol:
            self.best = float(E[k])
            self.on_improve(np.array(X[k], dtype=np.int8), self.best)


def default_threads() -> int:
    """How many threads the engines use when not told (numba's current setting)."""
    return int(nb.get_num_threads())


def prune(q: QuboArrays, parts: list[np.ndarray], cap: int) -> list[np.ndarray]:
    """Keep the ``cap`` lowest-energy rows of the accumulated sample blocks (repeated runs
    under a time limit would otherwise pile up samples without bound)."""
    if sum(p.shape[0] for p in parts) <= 2 * cap:
        return parts
    X = np.concatenate(parts)
    keep = np.argsort(energies(q, X), kind="stable")[:cap]
    return [X[np.sort(keep)]]


@contextlib.contextmanager
def using_threads(threads: int | None) -> Iterator[int]:
    """Run numba's parallel loops on ``threads`` threads (default: all numba has)."""
    old = nb.get_num_threads()
    want = old if threads is None else max(1, min(int(threads), nb.config.NUMBA_NUM_THREADS))
    nb.set_num_threads(want)
    try:
        yield want
    finally:
        nb.set_num_threads(old)


def fewer_threads(nthreads: int, rows: int) -> int:
    """Inside :func:`using_threads`: run on at most ``rows`` threads (one per read is the
    most a row-parallel kernel uses; the outer context restores numba's setting)."""
    want = max(1, min(nthreads, rows))
    if want != nthreads:
        nb.set_num_threads(want)
    return want


def deadline_of(start: float, time_limit: float | None) -> float:
    return np.inf if time_limit is None else start + max(0.0, float(time_limit))


def target_of(target: float | None) -> float:
    return -np.inf if target is None else float(target)
