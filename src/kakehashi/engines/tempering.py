"""Parallel tempering (replica exchange) with an adaptive temperature ladder.

Each chain (one per thread) holds ``num_replicas`` copies of the problem at inverse
temperatures between ``beta_range``; every sweep each copy makes Metropolis single-flip
attempts at its own β, then neighbouring temperatures try to exchange their copies. During the
first part of the run the ladder adapts: gaps whose exchanges are accepted too rarely shrink,
gaps accepted too often widen, until every pair exchanges at about the same rate — so copies
travel from hot (exploring) to cold (refining) and back.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from kakehashi.engines._core import (
    as_arrays,
    clock,
    deadline_of,
    default_beta_range,
    energy_of,
    energy_tolerance,
    finish,
    local_fields,
    merge_traces,
    now,
    resolve_seed,
    rng_next,
    rng_unit,
    seed_states,
    target_of,
    using_threads,
)
from kakehashi.engines.annealing import EXP_TABLE, metropolis_sweep
from kakehashi.engines.descent import polish_rows
from kakehashi.engines.presolve import presolved

_TRACE_CAP = 512


@nb.njit(cache=True, parallel=True)
def _pt_kernel(
    h,
    indptr,
    indices,
    data,
    offset,
    X0,
    betas0,
    states,
    max_sweeps,
    adapt_sweeps,
    deadline,
    target,
    tol,
    stop,
    exp_table,
    Xout,
    rec_t,
    rec_e,
    rec_n,
    sweeps_out,
    swaps_out,
    betas_out,
):
    C, K, n = X0.shape
    check_every = max(1, 16384 // max(n * K, 1))
    for c in nb.prange(C):
        s = states[c]
        betas = betas0.copy()
        sig = np.empty((K, n))
        g = np.empty((K, n))
        E = np.empty(K)
        for k in range(K):
            x = X0[c, k]
            g[k] = local_fields(h, indptr, indices, data, x)
            E[k] = energy_of(h, indptr, indices, data, offset, x)
            for i in range(n):
                sig[k, i] = 1.0 - 2.0 * x[i]
        # perm[t] = which copy sits at temperature t
        perm = np.arange(K)
        best = np.inf
        sbest = sig[0].copy()
        acc = np.zeros(max(K - 1, 1))
        tries = np.zeros(max(K - 1, 1))
        nrec = 0
        done = 0
        swaps = 0
        for sw in range(max_sweeps):
            if sw % check_every == 0:
                if stop[0] != 0 or now() > deadline:
                    break
            for t in range(K):
                k = perm[t]
                dE, s = metropolis_sweep(
                    indptr, indices, data, sig[k], g[k], betas[t], s, exp_table
                )
                E[k] += dE
            done += 1
            # best so far
            kb = 0
            for k in range(1, K):
                if E[k] < E[kb]:
                    kb = k
            if E[kb] < best - tol:
                best = E[kb]
                sbest[:] = sig[kb]
                slot = nrec if nrec < rec_t.shape[1] else rec_t.shape[1] - 1
                rec_t[c, slot] = now()
                rec_e[c, slot] = best
                nrec = min(nrec + 1, rec_t.shape[1])
                if best <= target + tol:
                    stop[0] = 1
            # exchanges between neighbouring temperatures, even and odd pairs alternately
            for t in range(sw % 2, K - 1, 2):
                a = perm[t]
                b = perm[t + 1]
                z = (betas[t] - betas[t + 1]) * (E[a] - E[b])  # log of the acceptance ratio
                tries[t] += 1.0
                s = rng_next(s)
                if z >= 0.0 or rng_unit(s) < np.exp(z):
                    perm[t] = b
                    perm[t + 1] = a
                    acc[t] += 1.0
                    swaps += 1
            # adapt the ladder: equalise exchange rates by moving log-β gaps
            if sw < adapt_sweeps and K > 2 and (sw + 1) % 64 == 0:
                lb0 = np.log(betas[0])
                span = np.log(betas[K - 1]) - lb0
                gaps = np.empty(K - 1)
                mean_rate = 0.0
                for t in range(K - 1):
                    mean_rate += (acc[t] + 0.5) / (tries[t] + 1.0)
                mean_rate /= K - 1
                total = 0.0
                for t in range(K - 1):
                    rate = (acc[t] + 0.5) / (tries[t] + 1.0)
                    gaps[t] = (np.log(betas[t + 1]) - np.log(betas[t])) * np.sqrt(rate / mean_rate)
                    total += gaps[t]
                cum = lb0
                for t in range(K - 1):
                    cum += gaps[t] * span / total
                    betas[t + 1] = np.exp(cum)
                acc[:] = 0.0
                tries[:] = 0.0
        for i in range(n):
            Xout[c, i] = 1 if sbest[i] < 0.0 else 0
        states[c] = s
        sweeps_out[c] = done
        swaps_out[c] = swaps
        betas_out[c] = betas
        rec_n[c] = nrec


@presolved("pt")
def temper(
    qubo: Any,
    *,
    num_replicas: int = 16,
    num_chains: int | None = None,
    max_sweeps: int | None = None,
    beta_range: tuple[float, float] | None = None,
    adapt_sweeps: int | None = None,
    seed: int | None = None,
    time_limit: float | None = None,
    target: float | None = None,
    threads: int | None = None,
    polish: bool = True,
    presolve: bool = True,
) -> Any:
    """Parallel tempering on a QUBO → :class:`~kakehashi.engines.EngineResult`.

    ``num_chains`` independent chains (default: one per thread) of ``num_replicas`` copies
    each run ``max_sweeps`` sweeps (default 2000 when there is no ``time_limit``), the ladder
    adapting during the first ``adapt_sweeps`` (default: a quarter of the sweeps, at most
    2000). Each chain returns the best point it saw. ``info["betas"]`` is the final ladder.

    Example:
        >>> import numpy as np, scipy.sparse as sp
        >>> h = np.array([-1.0, -1.0, 2.0])
        >>> J = sp.csr_matrix(np.array([[0, 2, 0], [2, 0, -3], [0, -3, 0.0]]))
        >>> temper((h, J), seed=1, max_sweeps=200).best_energy
        -2.0
    """
    q = as_arrays(qubo)
    seed = resolve_seed(seed)
    t0 = clock()
    deadline = deadline_of(t0, time_limit)
    if beta_range is None:
        beta_range = default_beta_range(q)
    b0, b1 = float(beta_range[0]), float(beta_range[1])
    if not 0 < b0 <= b1:
        raise ValueError("beta_range must be 0 < hot <= cold")
    K = max(1, int(num_replicas))
    if max_sweeps is None:
        max_sweeps = 2000 if time_limit is None else 2**62
    if adapt_sweeps is None:
        adapt_sweeps = min(2000, max_sweeps // 4)
    betas = np.geomspace(b0, b1, K) if K > 1 else np.array([b1])
    stop = np.zeros(1, dtype=np.int64)
    with using_threads(threads) as nthreads:
        C = int(num_chains) if num_chains is not None else nthreads
        states = seed_states(seed, C)
        X0 = np.random.default_rng(int(states[0]) if C else 0).integers(
            0, 2, size=(C, K, q.n), dtype=np.int8
        )
        Xout = np.zeros((C, q.n), dtype=np.int8)
        rec_t = np.zeros((C, _TRACE_CAP))
        rec_e = np.zeros((C, _TRACE_CAP))
        rec_n = np.zeros(C, dtype=np.int64)
        sweeps = np.zeros(C, dtype=np.int64)
        swaps = np.zeros(C, dtype=np.int64)
        betas_out = np.zeros((C, K))
        if q.n:
            _pt_kernel(
                q.h,
                q.indptr,
                q.indices,
                q.data,
                q.offset,
                X0,
                betas,
                states,
                int(max_sweeps),
                int(adapt_sweeps),
                deadline,
                target_of(target),
                energy_tolerance(q),
                stop,
                EXP_TABLE,
                Xout,
                rec_t,
                rec_e,
                rec_n,
                sweeps,
                swaps,
                betas_out,
            )
        if polish:
            polish_rows(q, Xout, nthreads)
    trace = merge_traces(rec_t, rec_e, rec_n, t0)
    info = {
        "engine": "pt",
        "seed": seed,
        "threads": nthreads,
        "num_chains": C,
        "num_replicas": K,
        "sweeps": int(sweeps.sum()),
        "flip_attempts": int(sweeps.sum()) * K * q.n,
        "swaps": int(swaps.sum()),
        "betas": betas_out[0].tolist() if C else betas.tolist(),
        "elapsed": clock() - t0,
        "stopped": "target" if stop[0] else ("time" if clock() >= deadline else "done"),
    }
    return finish(q, Xout, trace, info)
