"""`reference-sa`: a plain simulated annealing in numpy, kept as a readable reference.

The fast numba engines (``sa``, ``pt``, ``tabu``, ``sb``) are what users should run; this one
exists so that ``kakehashi.solve`` works end to end with nothing but numpy, and as a
yardstick the engines are checked against.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from kakehashi.backends.base import QuboSamplerBackend, SampleBatch, register
from kakehashi.backends.catalog import info_for
from kakehashi.backends.params import Param
from kakehashi.compile.qubo import Qubo


def beta_range(qubo: Qubo) -> tuple[float, float]:
    """Hot enough to accept the largest flip half the time, cold enough to refuse the smallest.

    Uses the per-variable extreme flip costs (as dwave-samplers does).
    """
    absJ = abs(qubo.J)
    max_flip = np.abs(qubo.h) + np.asarray(absJ.sum(axis=1)).ravel()
    big = float(max_flip.max(initial=1.0)) or 1.0
    nz = np.concatenate([np.abs(qubo.h[qubo.h != 0]), np.abs(qubo.J.data)])
    small = float(nz.min()) if nz.size else 1.0
    return np.log(2) / big, np.log(100) / small


def anneal_numpy(
    qubo: Qubo, *, num_reads: int, num_sweeps: int, seed: int | None, time_limit: float | None
) -> np.ndarray:
    """Metropolis sweeps over all reads at once; one Python step per variable per sweep."""
    rng = np.random.default_rng(seed)
    n = qubo.num_variables
    x = rng.integers(0, 2, size=(num_reads, n)).astype(np.float64)
    field = qubo.h[None, :] + (qubo.J @ x.T).T  # ∂E/∂x_i with the others fixed
    b0, b1 = beta_range(qubo)
    indptr, indices, data = qubo.J.indptr, qubo.J.indices, qubo.J.data

    def sweep(beta: float) -> None:
        u = rng.random((n, num_reads))
        for i in range(n):
            delta = (1.0 - 2.0 * x[:, i]) * field[:, i]
            accept = (delta <= 0) | (u[i] < np.exp(-beta * np.maximum(delta, 0)))
            if not accept.any():
                continue
            step = np.where(accept, 1.0 - 2.0 * x[:, i], 0.0)
            x[:, i] += step
            nb = indices[indptr[i] : indptr[i + 1]]
            field[:, nb] += step[:, None] * data[indptr[i] : indptr[i + 1]][None, :]

    # time the first sweep, then shorten the schedule to fit: an anneal cut off half-way
    # would return hot, useless samples
    t0 = time.perf_counter()
    sweep(b0)
    per_sweep = time.perf_counter() - t0
    if time_limit is not None and per_sweep > 0:
        num_sweeps = int(min(num_sweeps, max(8, time_limit / per_sweep)))
    for beta in np.geomspace(b0, b1, num_sweeps)[1:]:
        sweep(beta)
    return x.astype(np.uint8)


@register("reference-sa")
class ReferenceSABackend(QuboSamplerBackend):
    name = "reference-sa"
    info = info_for("reference-sa")
    default_time_limit = 5.0
    parameters = (
        Param("num_reads", int, 16, "anneals run side by side", low=1, high=10**6),
        Param("num_sweeps", int, 500, "sweeps per anneal (shortened to fit the time)",
              low=2, high=10**9),
    )  # fmt: skip

    def sample_qubo(
        self,
        qubo: Qubo,
        *,
        time_limit: float,
        seed: int | None,
        num_reads: int = 16,
        num_sweeps: int = 500,
        **options: Any,
    ) -> SampleBatch:
        X = anneal_numpy(
            qubo, num_reads=num_reads, num_sweeps=num_sweeps, seed=seed, time_limit=time_limit
        )
        return SampleBatch(samples=X, energies=qubo.energies(X))
