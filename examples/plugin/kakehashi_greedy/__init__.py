"""A plug-in backend for kakehashi: greedy one-flip descent from random starts.

Everything a backend needs is here: a name, a :class:`~kakehashi.backends.BackendInfo`
(this backend is not in kakehashi's catalog, so it describes itself), its declared
options, and ``sample_qubo``. kakehashi's base class does the rest — option checks, the
applicability check, compilation and the penalty loop for constrained problems, decoding,
evaluation, timing and the Result.

Example:
    >>> import kakehashi  # doctest: +SKIP
    >>> kakehashi.solve(kakehashi.examples.small_maxcut(), backend="greedy").objective
    -5.0
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np

from kakehashi.backends import BackendInfo, Param, QuboSamplerBackend, SampleBatch


class GreedyBackend(QuboSamplerBackend):
    """Descend from ``num_starts`` random states, flipping the best improving bit each step,
    until no flip improves; repeat with fresh starts while time remains."""

    name = "greedy"
    info = BackendInfo(
        family="example",
        modality="classical heuristic",
        vendor="kakehashi-greedy",
        hardware="local CPU",
        accepts=("qubo", "constrained"),
        price_model={"model": "cpu-time"},
        description="Greedy one-flip descent (an example plug-in)",
    )
    parameters = (
        Param("num_starts", int, 16, "random starts per batch", low=1, high=100_000),
        Param("max_batches", int, None, "batches at most (default: until the time is up)",
              low=1, high=10**9),
    )  # fmt: skip
    reproducible_options: ClassVar[dict[str, Any]] = {"max_batches": 2}

    def sample_qubo(
        self,
        qubo: Any,
        *,
        time_limit: float,
        seed: int | None,
        num_starts: int = 16,
        max_batches: int | None = None,
    ) -> SampleBatch:
        rng = np.random.default_rng(seed)
        deadline = time.perf_counter() + time_limit
        best: list[np.ndarray] = []
        batches = 0
        while True:
            x = rng.integers(0, 2, size=(num_starts, qubo.num_variables)).astype(np.float64)
            best.append(_descend(qubo, x))
            batches += 1
            if max_batches is not None and batches >= max_batches:
                break
            if time.perf_counter() >= deadline:
                break
        X = np.unique(np.concatenate(best).astype(np.uint8), axis=0)
        return SampleBatch(samples=X, energies=qubo.energies(X), info={"batches": batches})


def _descend(qubo: Any, x: np.ndarray) -> np.ndarray:
    """Flip the most improving bit of every row until none improves (E = h·x + ½xᵀJx)."""
    field = qubo.h[None, :] + (qubo.J @ x.T).T
    rows = np.arange(x.shape[0])
    while True:
        delta = (1.0 - 2.0 * x) * field  # energy change of flipping each bit
        j = np.argmin(delta, axis=1)
        moving = delta[rows, j] < -1e-12
        if not moving.any():
            return x
        r, c = rows[moving], j[moving]
        step = 1.0 - 2.0 * x[r, c]
        x[r, c] += step
        field[r] += step[:, None] * qubo.J[c].toarray()
