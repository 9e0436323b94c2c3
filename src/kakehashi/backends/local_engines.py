"""Backends ``sa``, ``pt``, ``tabu``, ``sb``: kakehashi's own numba engines.

They inherit compilation, the adaptive penalty loop for constrained problems, decoding and
evaluation from :class:`~kakehashi.backends.base.QuboSamplerBackend`; each round hands the
compiled :class:`~kakehashi.compile.qubo.Qubo` to one engine of :mod:`kakehashi.engines` with
that round's share of the time limit. Options are passed on to the engine (``num_reads``,
``num_sweeps``, ``max_moves``, ``threads``, ``variant``, ``device``, ...): with a work count
such as ``num_reads`` or ``max_moves`` a round ends when the work is done, else when its time
is up.

Example:
    >>> import kakehashi
    >>> p = kakehashi.examples.small_maxcut()
    >>> r = kakehashi.solve(p, backend="tabu", time_limit=0.5, seed=1)
    >>> r.feasible
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kakehashi.backends.base import QuboSamplerBackend, SampleBatch, register
from kakehashi.backends.catalog import info_for

_KEEP_INFO = (
    "engine",
    "seed",
    "threads",
    "num_reads",
    "sweeps",
    "moves",
    "phases",
    "flip_attempts",
    "elapsed",
    "stopped",
    "variant",
    "device",
    "num_replicas",
    "runs",
    "swaps",
    "population",
)


class _EngineBackend(QuboSamplerBackend):
    default_time_limit = 10.0
    #: the function of :mod:`kakehashi.engines` this backend runs; looked up when it runs, so
    #: that `import kakehashi` does not import numba and the kernels (a quarter of a second)
    engine_name: str
    _warm = False

    def warm_up(self) -> None:
        """Run the engine once on a 3-variable Qubo so numba compiles (or loads from its
        cache) the kernels before the user's clock starts: on a fresh install that takes
        tens of seconds, which would otherwise be taken out of the first solve's budget."""
        if type(self)._warm:
            return
        import scipy.sparse as sp

        from kakehashi import engines
        from kakehashi.compile.qubo import Qubo

        J = sp.csr_matrix(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, -1.0, 0.0]]))
        getattr(engines, self.engine_name)(
            Qubo(np.array([-1.0, 1.0, 0.5]), J), seed=0, time_limit=0.01
        )
        type(self)._warm = True

    def sample_qubo(
        self, qubo: Any, *, time_limit: float, seed: int | None, **options: Any
    ) -> SampleBatch:
        if qubo.num_variables == 0:
            return SampleBatch(
                samples=np.zeros((1, 0), dtype=np.int8), energies=np.array([qubo.offset])
            )
        from kakehashi import engines

        engine = getattr(engines, self.engine_name)
        res = engine(qubo, seed=seed, time_limit=time_limit, **options)
        info = {k: v for k, v in res.info.items() if k in _KEEP_INFO}
        info["best_energy"] = res.best_energy
        info["time_to_best"] = float(res.trace[-1, 0]) if res.trace.shape[0] else None
        return SampleBatch(samples=res.samples, energies=res.energies, info=info)


@register("sa")
class SimulatedAnnealingBackend(_EngineBackend):
    """Simulated annealing (:func:`kakehashi.engines.anneal`)."""

    name = "sa"
    info = info_for("sa")
    engine_name = "anneal"


@register("pt")
class ParallelTemperingBackend(_EngineBackend):
    """Parallel tempering (:func:`kakehashi.engines.temper`)."""

    name = "pt"
    info = info_for("pt")
    engine_name = "temper"


@register("pa")
class PopulationAnnealingBackend(_EngineBackend):
    """Population annealing (:func:`kakehashi.engines.populate`)."""

    name = "pa"
    info = info_for("pa")
    engine_name = "populate"


@register("tabu")
class TabuBackend(_EngineBackend):
    """Tabu search (:func:`kakehashi.engines.tabu`)."""

    name = "tabu"
    info = info_for("tabu")
    engine_name = "tabu"


@register("sb")
class SimulatedBifurcationBackend(_EngineBackend):
    """Simulated bifurcation (:func:`kakehashi.engines.bifurcate`); ``device="auto"`` uses a
    CUDA GPU through PyTorch when one is present."""

    name = "sb"
    info = info_for("sb")
    engine_name = "bifurcate"
