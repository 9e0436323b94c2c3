"""Simulated annealing: Metropolis single-flip sweeps along a β schedule, many reads in parallel.

Local fields ``g = h + J x`` are kept up to date incrementally, so a rejected attempt costs a
few loads and a comparison and an accepted one costs one pass over the variable's neighbours.
Each read owns its random stream, so the samples do not depend on the number of threads.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from kakehashi.engines._core import (
    Improvements,
    OnImprove,
    as_arrays,
    as_states,
    clock,
    deadline_of,
    default_beta_range,
    energy_of,
    energy_tolerance,
    fewer_threads,
    finish,
    local_fields,
    merge_traces,
    now,
    prune,
    resolve_seed,
    rng_next,
    rng_unit,
    seed_states,
    target_of,
    using_threads,
)
from kakehashi.engines.descent import polish_rows
from kakehashi.engines.presolve import presolved

_TRACE_CAP = 256
# exp(-y) for y in [0, _EXP_MAX] on a grid of 1/_EXP_RES, interpolated linearly (relative error
# < 1e-4): a table look-up instead of a libm call on every uphill attempt.
_EXP_MAX = 36.0
_EXP_RES = 64.0
EXP_TABLE = np.exp(-np.arange(int(_EXP_MAX * _EXP_RES) + 2) / _EXP_RES)
# kakehashi's kernels take a free (zero-energy) move half the time: always taking them makes
# a sequential sweep carry domain walls along with it, so they never meet (rings, grids)
FREE_MOVES = 0.5


@nb.njit(cache=True, inline="always")
def metropolis_sweep(indptr, indices, data, sig, g, beta, s, exp_table, free=FREE_MOVES):
    """One sequential Metropolis sweep over a copy (``sig = 1 - 2x``, fields ``g``), shared by
    annealing, tempering and population annealing; returns (energy change, rng state).

    The energy change of flipping i is ``sig[i]*g[i]``, and flipping i moves each neighbour's
    field by ``sig[i]*J_ij`` (no branch on x). A zero-energy flip is taken with probability
    ``free`` (1.0 is textbook Metropolis, as dwave-samplers run it)."""
    n = sig.size
    dE = 0.0
    thr = _EXP_MAX / beta if beta > 0.0 else np.inf
    bres = beta * _EXP_RES
    for i in range(n):
        d = sig[i] * g[i]
        if d > 0.0:
            if d > thr:
                continue
            y = d * bres
            k = np.int64(y)
            s = rng_next(s)
            if rng_unit(s) >= exp_table[k] + (y - k) * (exp_table[k + 1] - exp_table[k]):
                continue
        elif d == 0.0 and free < 1.0:
            s = rng_next(s)
            if rng_unit(s) >= free:
                continue
        si = sig[i]
        sig[i] = -si
        dE += d
        # the unsigned index spares numba's negative-index wrap-around on the hottest
        # line of the kernel (measured +15-20% attempts/s on G1)
        for k in range(indptr[i], indptr[i + 1]):
            g[np.uint64(indices[k])] += si * data[k]
    return dE, s


@nb.njit(cache=True, parallel=True)
def _anneal_kernel(
    h,
    indptr,
    indices,
    data,
    offset,
    betas,
    X,
    states,
    deadline,
    target,
    tol,
    stop,
    rec_t,
    rec_e,
    rec_n,
    sweeps_done,
    exp_table,
    free,
    keep_last,
):
    R, n = X.shape
    S = betas.size
    cap = rec_t.shape[1]
    check_every = max(1, 16384 // max(n, 1))
    for r in nb.prange(R):
        x = X[r]
        g = local_fields(h, indptr, indices, data, x)
        sig = np.empty(n)  # +1 where x = 0, -1 where x = 1 (see metropolis_sweep)
        for i in range(n):
            sig[i] = 1.0 - 2.0 * x[i]
        E = energy_of(h, indptr, indices, data, offset, x)
        best = E
        sbest = sig.copy()
        s = states[r]
        done = 0
        nrec = 0
        for sw in range(S):
            if sw % check_every == 0:
                if stop[0] != 0 or now() > deadline:
                    break
            dE, s = metropolis_sweep(indptr, indices, data, sig, g, betas[sw], s, exp_table, free)
            E += dE
            done += 1
            if E < best - tol:
                best = E
                sbest[:] = sig
                slot = nrec if nrec < cap else cap - 1
                rec_t[r, slot] = now()
                rec_e[r, slot] = E
                nrec = min(nrec + 1, cap)
                if E <= target + tol:
                    stop[0] = 1
        last = sig if keep_last else sbest
        for i in range(n):
            x[i] = 1 if last[i] < 0.0 else 0
        states[r] = s
        sweeps_done[r] = done
        rec_n[r] = nrec


def beta_schedule(
    beta_range: tuple[float, float], num_sweeps: int, schedule: Any = "geometric"
) -> np.ndarray:
    """β per sweep from hot to cold: ``geometric`` (default) or ``linear``; an array of βs
    is taken as the schedule itself (one sweep each, ``beta_range`` and ``num_sweeps``
    unused)."""
    if not isinstance(schedule, str):
        betas = np.asarray(schedule, dtype=np.float64).ravel()
        if betas.size and not (betas.min() >= 0.0):
            raise ValueError("a beta schedule must be non-negative numbers")
        return betas
    b0, b1 = float(beta_range[0]), float(beta_range[1])
    if num_sweeps <= 0:
        return np.zeros(0)
    if schedule == "geometric":
        if b0 <= 0:
            raise ValueError("a geometric schedule needs beta_range[0] > 0")
        return np.geomspace(b0, b1, num_sweeps)
    if schedule == "linear":
        return np.linspace(b0, b1, num_sweeps)
    raise ValueError(f"unknown schedule {schedule!r}; use 'geometric' or 'linear'")


@presolved("sa")
def anneal(
    qubo: Any,
    *,
    num_reads: int | None = None,
    num_sweeps: int | None = None,
    beta_range: tuple[float, float] | None = None,
    schedule: Any = "geometric",
    seed: int | None = None,
    time_limit: float | None = None,
    target: float | None = None,
    threads: int | None = None,
    initial_states: np.ndarray | None = None,
    polish: bool = True,
    max_samples: int | None = None,
    presolve: bool = True,
    keep: str = "best",
    free_moves: float = FREE_MOVES,
    on_improve: OnImprove | None = None,
) -> Any:
    """Simulated annealing on a QUBO → :class:`~kakehashi.engines.EngineResult`.

    With ``num_reads`` (default when there is no ``time_limit``: 2 per thread, at least 8)
    it runs that many independent anneals of ``num_sweeps`` sweeps (default 1000) and stops;
    the samples then depend only on ``seed``. With a ``time_limit`` and no ``num_reads`` it
    keeps annealing batches of one read per thread until the time is up or ``target`` is
    reached, doubling the sweeps of each batch from ``num_sweeps`` (default 256) — so short
    budgets get quick anneals and long budgets slow ones — and keeps the best
    ``max_samples`` (default 1000) samples. ``schedule`` is ``"geometric"``, ``"linear"`` or
    an explicit array of βs, one sweep each. Each read returns the best state it visited
    (``keep="best"``) or its last state (``keep="last"``: a Boltzmann sample at the cold
    end, as dwave-samplers return); ``free_moves`` is the probability of taking a
    zero-energy flip (default 0.5; 1.0 is textbook Metropolis). ``on_improve(row, energy)``
    is called after each batch that improved the best state so far (a timed run anneals in
    batches; a counted run is one batch, so it calls back once, at its end).

    Example:
        >>> import numpy as np, scipy.sparse as sp
        >>> h = np.array([-1.0, -1.0, 2.0])
        >>> J = sp.csr_matrix(np.array([[0, 2, 0], [2, 0, -3], [0, -3, 0.0]]))
        >>> anneal((h, J), num_reads=4, seed=1).best_energy
        -2.0
    """
    if keep not in ("best", "last"):
        raise ValueError(f"keep must be 'best' or 'last', got {keep!r}")
    if not 0.0 <= free_moves <= 1.0:
        raise ValueError(f"free_moves must be a probability in [0, 1], got {free_moves!r}")
    q = as_arrays(qubo)
    seed = resolve_seed(seed)
    t0 = clock()
    deadline = deadline_of(t0, time_limit)
    if beta_range is None and not isinstance(schedule, str) and len(schedule):
        beta_range = (float(schedule[0]), float(schedule[-1]))  # an explicit schedule's ends
    if beta_range is None:
        # hot end colder than the generic range: on G55 in 10 s (8 seeds) the cut median
        # is 10292 (10291-10293) against 10291 (10289-10291) starting at a quarter; G22
        # unchanged (13358)
        beta_range = default_beta_range(q, hot_acceptance=0.125)
    tol = energy_tolerance(q)
    stop = np.zeros(1, dtype=np.int64)
    timed = time_limit is not None and num_reads is None
    with using_threads(threads) as nthreads:
        if num_reads is None:
            num_reads = nthreads if timed else max(8, 2 * nthreads)
        rows = num_reads if initial_states is None else max(num_reads, len(initial_states))
        nthreads = fewer_threads(nthreads, rows)
        sweeps = int(num_sweeps) if num_sweeps is not None else (256 if timed else 1000)
        all_X, traces = [], []
        improvements = Improvements(q, on_improve)
        total_sweeps = 0
        batch = 0
        while True:
            betas = beta_schedule(beta_range, sweeps, schedule)
            t_batch = clock()
            if initial_states is not None and batch == 0:
                X = as_states(initial_states, q.n)
                R = X.shape[0]
                states = seed_states(seed, R, stream=batch)
            else:
                R = num_reads
                states = seed_states(seed, R, stream=batch)
                X = _random_states(states, R, q.n)
            rec_t = np.zeros((R, _TRACE_CAP))
            rec_e = np.zeros((R, _TRACE_CAP))
            rec_n = np.zeros(R, dtype=np.int64)
            done = np.zeros(R, dtype=np.int64)
            _anneal_kernel(
                q.h,
                q.indptr,
                q.indices,
                q.data,
                q.offset,
                betas,
                X,
                states,
                deadline,
                target_of(target),
                tol,
                stop,
                rec_t,
                rec_e,
                rec_n,
                done,
                EXP_TABLE,
                float(free_moves),
                keep == "last",
            )
            all_X.append(X)
            improvements.offer(X)
            if timed:  # repeated batches would pile up; counted reads are all kept
                all_X = prune(q, all_X, max_samples or 1000)
            traces.append((rec_t, rec_e, rec_n))
            total_sweeps += int(done.sum())
            batch += 1
            if not timed or stop[0] or clock() >= deadline:
                break
            if num_sweeps is None:
                sweeps = _next_sweeps(sweeps, clock() - t_batch, deadline - clock())
        X = np.concatenate(all_X)
        if polish:
            polish_rows(q, X, nthreads)
    rec_t = np.concatenate([t[0] for t in traces])
    rec_e = np.concatenate([t[1] for t in traces])
    rec_n = np.concatenate([t[2] for t in traces])
    trace = merge_traces(rec_t, rec_e, rec_n, t0)
    elapsed = clock() - t0
    info = {
        "engine": "sa",
        "seed": seed,
        "threads": nthreads,
        "num_reads": int(X.shape[0]),
        "batches": batch,
        "sweeps": total_sweeps,
        "flip_attempts": total_sweeps * q.n,
        "beta_range": (float(beta_range[0]), float(beta_range[1])),
        "schedule": schedule if isinstance(schedule, str) else "custom",
        "keep": keep,
        "elapsed": elapsed,
        "stopped": "target" if stop[0] else ("time" if clock() >= deadline else "done"),
    }
    return finish(q, X, trace, info, max_samples)


def _next_sweeps(sweeps: int, batch_seconds: float, left: float) -> int:
    """Sweeps for the next timed batch: double while there is room for more batches after it,
    and once there is not, one anneal that fills the time left. An anneal cut off by the
    deadline never reaches the cold end, so its time would be wasted; and one long anneal
    finds better minima than two of half the length (G55: cut 10291 vs 10272-10285)."""
    per_sweep = max(batch_seconds, 1e-9) / max(sweeps, 1)
    fit = int(0.9 * left / per_sweep)  # 10% margin: sweeps get slower as the state changes
    doubled = 2 * sweeps
    if fit >= 3 * doubled:
        return min(doubled, 1 << 24)
    return int(min(max(fit, 16), 1 << 24))


def _random_states(states: np.ndarray, R: int, n: int) -> np.ndarray:
    # The starting states come from the same seed as the kernels' streams (a separate stream).
    rng = np.random.default_rng(int(states[0]) if R else 0)
    return rng.integers(0, 2, size=(R, n), dtype=np.int8)
