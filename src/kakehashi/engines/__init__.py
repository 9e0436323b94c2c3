"""kakehashi's own QUBO engines: numba kernels over plain arrays, arrays in, arrays out.

Every engine takes a QUBO as a :class:`~kakehashi.compile.qubo.Qubo` (or anything with
``h``, ``J``, ``offset``, or a tuple ``(h, J[, offset])``) with
``E(x) = offset + h·x + ½ xᵀ J x`` over ``x ∈ {0,1}^n``, and returns an
:class:`EngineResult`: 0/1 samples sorted best first, their energies (recomputed from the
samples), a best-so-far trace ``(seconds, energy)`` for time-to-target curves, and ``info``.

All engines take ``seed`` (the same seed and thread count give the same samples bit for bit
when the run ends by its work count rather than by the clock), ``time_limit`` in seconds,
``target`` (stop as soon as an energy ≤ target is found) and ``threads``.

=============  =====================================================================
``anneal``     simulated annealing, many reads in parallel
``temper``     parallel tempering with an adaptive temperature ladder
``populate``   population annealing: a population of anneals resampled as it cools
``tabu``       tabu search with adaptive tenure and perturbation restarts
``bifurcate``  simulated bifurcation (discrete / ballistic), CPU or GPU (PyTorch)
``polish``     steepest descent to a 1-flip local minimum
``exhaust``    exact minimum by enumeration (tiny problems; for tests)
=============  =====================================================================

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> from kakehashi.engines import tabu
    >>> h = np.array([-1.0, -1.0]); J = sp.csr_matrix([[0, 3.0], [3.0, 0]])
    >>> r = tabu((h, J), seed=0, max_moves=100)
    >>> r.best_energy, sorted(r.best_sample.tolist())
    (-1.0, [0, 1])
"""

from kakehashi.engines._core import (
    EngineResult,
    QuboArrays,
    as_arrays,
    default_beta_range,
    default_threads,
    energies,
)
from kakehashi.engines.annealing import anneal, beta_schedule
from kakehashi.engines.bifurcation import bifurcate, gpu_available
from kakehashi.engines.descent import descend_rows, polish
from kakehashi.engines.exhaustive import exhaust
from kakehashi.engines.population import populate
from kakehashi.engines.tabu import tabu
from kakehashi.engines.tempering import temper

__all__ = [
    "EngineResult",
    "QuboArrays",
    "anneal",
    "as_arrays",
    "beta_schedule",
    "bifurcate",
    "default_beta_range",
    "default_threads",
    "descend_rows",
    "energies",
    "exhaust",
    "gpu_available",
    "polish",
    "populate",
    "tabu",
    "temper",
]
