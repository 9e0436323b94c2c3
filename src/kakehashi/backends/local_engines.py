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

from typing import Any, ClassVar

import numpy as np

from kakehashi.backends.base import QuboSamplerBackend, SampleBatch, register
from kakehashi.backends.catalog import info_for
from kakehashi.backends.params import Param
from kakehashi.errors import OptionError

MAX_WORK = 10**12  # reads, sweeps, moves, steps: far beyond any run, well inside int64


def _pair(kind: type, *, positive: bool) -> Any:
    """A check for ``(low, high)`` options such as ``beta_range`` and ``tenure``."""

    def check(value: Any) -> str | None:
        if not (isinstance(value, (tuple, list)) and len(value) == 2):
            return "must be a pair (low, high)"
        ok_type = all(
            isinstance(v, (int, np.integer) if kind is int else (int, float, np.number))
            and not isinstance(v, bool)
            and np.isfinite(v)
            for v in value
        )
        if not ok_type:
            return f"both must be finite {'integers' if kind is int else 'numbers'}"
        if positive and min(value) <= 0:
            return "both must be > 0"
        if value[0] > value[1]:
            return "low must not exceed high"
        return None

    return check


def _states(value: Any) -> str | None:
    arr = np.asarray(value)
    if arr.ndim != 2 or not np.isin(arr, (0, 1)).all():
        return "must be a 2-D array of 0/1 rows, one per read"
    return None


_COMMON = (
    Param("target", float, None, "stop as soon as this energy is reached"),
    Param("threads", int, None, "worker threads (default: all cores)", low=1, high=4096),
    Param("polish", bool, True, "finish every sample with a steepest-descent pass"),
    Param("presolve", bool, True, "fix variables whose value is forced before searching"),
)
_BETA = Param(
    "beta_range", (tuple, list), None, "(hot β, cold β)", check=_pair(float, positive=True)
)
_STATES = Param("initial_states", object, None, "0/1 start states, one row per read",
                check=_states)  # fmt: skip

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


def warm_up_qubo(n: int = 12) -> Any:
    """A dense random ±1 Qubo on ``n`` variables that presolve cannot reduce (frustrated:
    every variable's best value depends on the others).

    Example:
        >>> warm_up_qubo().num_variables
        12
    """
    import scipy.sparse as sp

    from kakehashi.compile.qubo import Qubo

    rng = np.random.default_rng(12345)
    upper = np.triu(rng.choice([-1.0, 1.0], size=(n, n)), k=1)
    J = upper + upper.T
    return Qubo(rng.choice([-0.5, 0.5], size=n), sp.csr_matrix(J))


class _EngineBackend(QuboSamplerBackend):
    default_time_limit = 10.0
    #: the function of :mod:`kakehashi.engines` this backend runs; looked up when it runs, so
    #: that `import kakehashi` does not import numba and the kernels (a quarter of a second)
    engine_name: str
    _warm = False

    def warm_up(self) -> None:
        """Run the engine on a small frustrated Qubo so numba compiles (or loads from its
        cache) every kernel a real run uses before the user's clock starts: on a fresh
        install that takes tens of seconds, which would otherwise be taken out of the first
        solve's budget. The Qubo must survive presolve (a problem presolve solves outright
        never reaches the search kernels), and both the clocked and the work-bounded paths
        run."""
        if type(self)._warm:
            return
        from kakehashi import engines

        engine = getattr(engines, self.engine_name)
        qubo = warm_up_qubo()
        engine(qubo, seed=0, time_limit=0.05)
        engine(qubo, seed=1, **self.reproducible_options)
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
        try:
            res = engine(qubo, seed=seed, time_limit=time_limit, **options)
        except ValueError as exc:  # the engines' own argument checks: the caller's input
            raise OptionError(f"backend {self.name!r}: {exc}") from None
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
    reproducible_options: ClassVar[dict[str, Any]] = {"num_reads": 4, "num_sweeps": 200}
    reports_improvements = True  # it anneals in batches: calls back after each
    parameters = (
        Param("num_reads", int, None, "anneals per round (default: by the clock)",
              low=1, high=MAX_WORK),
        Param("num_sweeps", int, None, "sweeps per anneal", low=1, high=MAX_WORK),
        _BETA,
        Param("schedule", str, "geometric", "β schedule", choices=("geometric", "linear")),
        Param("max_samples", int, None, "best samples kept", low=1, high=10**7),
        _STATES,
        *_COMMON,
    )  # fmt: skip


@register("pt")
class ParallelTemperingBackend(_EngineBackend):
    """Parallel tempering (:func:`kakehashi.engines.temper`)."""

    name = "pt"
    info = info_for("pt")
    engine_name = "temper"
    reproducible_options: ClassVar[dict[str, Any]] = {"max_sweeps": 200, "num_chains": 2}
    parameters = (
        Param("num_replicas", int, 16, "temperatures per chain", low=2, high=10**5),
        Param("num_chains", int, None, "independent chains (default: one per thread)",
              low=1, high=10**6),
        Param("max_sweeps", int, None, "sweeps per chain", low=1, high=MAX_WORK),
        _BETA,
        Param("adapt_sweeps", int, None, "sweeps during which the ladder adapts",
              low=0, high=MAX_WORK),
        *_COMMON,
    )  # fmt: skip


@register("pa")
class PopulationAnnealingBackend(_EngineBackend):
    """Population annealing (:func:`kakehashi.engines.populate`)."""

    name = "pa"
    info = info_for("pa")
    engine_name = "populate"
    reproducible_options: ClassVar[dict[str, Any]] = {"steps": 50}
    parameters = (
        Param("population", int, 50, "copies cooled together", low=1, high=10**7),
        Param("steps", int, None, "temperature steps (default: by the clock)",
              low=1, high=MAX_WORK),
        Param("sweeps_per_step", int, 2, "sweeps at each temperature", low=1, high=10**6),
        _BETA,
        *_COMMON,
    )  # fmt: skip


@register("tabu")
class TabuBackend(_EngineBackend):
    """Tabu search (:func:`kakehashi.engines.tabu`)."""

    name = "tabu"
    info = info_for("tabu")
    engine_name = "tabu"
    reproducible_options: ClassVar[dict[str, Any]] = {"max_moves": 2000, "num_reads": 2}
    parameters = (
        Param("num_reads", int, None, "walkers (default: one per thread)", low=1, high=10**6),
        Param("max_moves", int, None, "moves per walker (default: by the clock)",
              low=1, high=MAX_WORK),
        _STATES,
        Param("tenure", (tuple, list), None, "(low, high) tabu tenure range",
              check=_pair(int, positive=True)),
        Param("stall", int, None, "moves without improvement before a restart",
              low=1, high=MAX_WORK),
        Param("kick", (tuple, list), None, "(low, high) flips of a perturbation",
              check=_pair(int, positive=True)),
        Param("restart_from_best", float, 0.5, "share of restarts from the walker's best",
              low=0.0, high=1.0),
        *_COMMON,
    )  # fmt: skip


@register("sb")
class SimulatedBifurcationBackend(_EngineBackend):
    """Simulated bifurcation (:func:`kakehashi.engines.bifurcate`); ``device="auto"`` uses a
    CUDA GPU through PyTorch when one is present."""

    name = "sb"
    info = info_for("sb")
    engine_name = "bifurcate"
    reproducible_options: ClassVar[dict[str, Any]] = {"num_runs": 1, "steps": 200}
    reports_improvements = True  # it bifurcates in runs: calls back after each
    parameters = (
        Param("variant", str, "discrete", "dSB or bSB", choices=("discrete", "ballistic")),
        Param("num_replicas", int, None, "replicas per run", low=1, high=10**7),
        Param("steps", int, None, "time steps per run", low=1, high=MAX_WORK),
        Param("num_runs", int, None, "runs (default: by the clock)", low=1, high=10**9),
        Param("dt", float, None, "time step", low=1e-6, high=100.0),
        Param("a0", float, 1.0, "bifurcation parameter scale", low=1e-9, high=1e9),
        Param("c0", float, None, "coupling scale (default: from the problem)",
              low=1e-12, high=1e12),
        Param("device", str, "cpu", "'cpu', 'auto' (CUDA when present), 'cuda', 'torch-cpu'"),
        *_COMMON,
    )  # fmt: skip
