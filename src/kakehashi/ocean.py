"""kakehashi's engines as D-Wave Ocean samplers (``dimod.Sampler``), for existing Ocean code.

Swap the import and keep the rest::

    # from dwave.samplers import TabuSampler
    from kakehashi.ocean import TabuSampler

    sampleset = TabuSampler().sample(bqm, num_reads=4, seed=1)

Drop-ins for dwave-samplers 1.8.0 (same names, same arguments, same read counts, same
exceptions; D-Wave's own test files run against them, see ``docs/ocean.md``):
:class:`SimulatedAnnealingSampler` (alias ``Neal``), :class:`TabuSampler`,
:class:`SteepestDescentSampler` (alias ``SteepestDescentSolver``),
:class:`SteepestDescentComposite`; OpenJij's :class:`SASampler`. kakehashi's own:
:class:`ParallelTemperingSampler`, :class:`PopulationAnnealingSampler`,
:class:`SimulatedBifurcationSampler`.

The contract is dimod's: ``num_reads``, ``seed``, ``initial_states`` and
``initial_states_generator`` go through :meth:`dimod.Initialized.parse_initial_states`, so
vartype conversion of the initial states, their expansion (``"random"``, ``"tile"``,
``"none"``), the default read count (the number of initial states, else 1) and the errors are
dimod's; a sample set has exactly that many rows. Each sampler also takes ``presolve`` (the
exact elimination of variables with at most two neighbours, :mod:`kakehashi.engines.presolve`;
on by default unless ``initial_states`` are given, since it would replace what the states say
about the eliminated variables), ``time_limit`` (seconds), ``target`` (stop at this energy)
and ``threads``. ``info`` holds the engine's own record, ``trace`` (best energy over time) and
dwave's ``timing`` (nanoseconds).

Example:
    >>> import dimod
    >>> from kakehashi.ocean import TabuSampler
    >>> bqm = dimod.BQM({"a": -1, "b": -1}, {("a", "b"): 2}, 0.0, "BINARY")
    >>> float(TabuSampler().sample(bqm, seed=0).first.energy)
    -1.0
"""

from __future__ import annotations

import dataclasses
import time
from numbers import Integral, Real
from typing import Any, ClassVar

import dimod
import numpy as np
import scipy.sparse as sp

from kakehashi import engines
from kakehashi.errors import KakehashiError

__all__ = [
    "Neal",
    "ParallelTemperingSampler",
    "PopulationAnnealingSampler",
    "Response",
    "SASampler",
    "SamplerArgumentError",
    "SamplerArgumentTypeError",
    "SimulatedAnnealingSampler",
    "SimulatedBifurcationSampler",
    "SteepestDescentComposite",
    "SteepestDescentSampler",
    "SteepestDescentSolver",
    "TabuSampler",
]


class SamplerArgumentError(KakehashiError, ValueError):
    """A sampler argument has the right type but a value out of range (a ``ValueError``, as
    dimod and dwave-samplers raise)."""


class SamplerArgumentTypeError(KakehashiError, TypeError):
    """A sampler argument has the wrong type (a ``TypeError``, as dimod raises)."""


def check_seed(seed: Any) -> int | None:
    """``None`` or an integer in ``[0, 2**32)``, as dwave-samplers accept.

    Example:
        >>> check_seed(7), check_seed(None)
        (7, None)
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise SamplerArgumentTypeError(f"seed must be None or an integer, got {seed!r}")
    if not 0 <= seed < 2**32:
        raise SamplerArgumentError(f"seed must be in [0, 2**32 - 1], got {seed}")
    return int(seed)


def _to_arrays(bqm: dimod.BinaryQuadraticModel) -> tuple[list[Any], engines.QuboArrays]:
    """BQM → (variable order, binary QUBO arrays) with the model's exact offset."""
    binary = bqm.change_vartype(dimod.BINARY, inplace=False) if bqm.vartype is dimod.SPIN else bqm
    order = list(binary.variables)
    n = len(order)
    h, (row, col, val), offset = binary.to_numpy_vectors(variable_order=order)
    if not (np.isfinite(h).all() and np.isfinite(val).all() and np.isfinite(offset)):
        raise SamplerArgumentError("the model's biases must be finite numbers (no inf or nan)")
    J = sp.coo_matrix((np.r_[val, val], (np.r_[row, col], np.r_[col, row])), shape=(n, n))
    return order, engines.as_arrays((np.asarray(h, dtype=float), J.tocsr(), float(offset)))


@dataclasses.dataclass
class _Reads:
    """Parsed reads: how many, the starting states (0/1, columns in ``order``) and the seed."""

    num_reads: int
    states: np.ndarray | None  # None: the engine draws its own (timed annealing)
    seed: int | None


class _EngineSampler(dimod.Sampler, dimod.Initialized):
    """Common conversion: BQM in, engine run, SampleSet out, timed as dwave-samplers time."""

    _engine_name: ClassVar[str] = ""
    _parameters: ClassVar[dict[str, list[str]]] = {}

    @property
    def properties(self) -> dict[str, Any]:
        return {
            "engine": self._engine_name,
            "package": "kakehashi",
            "initial_states_generators": ("none", "tile", "random"),
        }

    @property
    def parameters(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self._parameters.items()}

    def _begin(self, bqm: Any, kwargs: dict[str, Any]) -> tuple[int, list[Any], Any]:
        start = time.perf_counter_ns()
        self.remove_unknown_kwargs(**kwargs)  # warns, as dimod's samplers do
        order, q = _to_arrays(bqm)
        return start, order, q

    def _reads(self, bqm, order, initial_states, generator, num_reads, seed) -> _Reads:
        """dimod's parsing of the initial states and the read count, as 0/1 columns."""
        seed = check_seed(seed)
        parsed = self.parse_initial_states(
            bqm,
            initial_states=initial_states,
            initial_states_generator=generator,
            num_reads=num_reads,
            seed=seed,
        )
        ss = parsed.initial_states
        columns = [ss.variables.index(v) for v in order]
        X = ss.record.sample[:, columns] if columns else np.zeros((parsed.num_reads, 0))
        if bqm.vartype is dimod.SPIN:
            X = X > 0
        return _Reads(parsed.num_reads, np.ascontiguousarray(X, dtype=np.int8), seed)

    def _count(self, bqm, num_reads, seed) -> _Reads:
        """dimod's checks of the read count (default 1) for samplers without initial states."""
        empty = dimod.BinaryQuadraticModel(bqm.vartype)  # nothing to generate
        parsed = self.parse_initial_states(empty, num_reads=num_reads, seed=check_seed(seed))
        return _Reads(parsed.num_reads, np.zeros((0, 0), dtype=np.int8), parsed.seed)

    def _sampleset(self, bqm, order, X01, info, start, sampled, vectors=None) -> dimod.SampleSet:
        X = 2 * X01.astype(np.int8) - 1 if bqm.vartype is dimod.SPIN else X01
        ss = dimod.SampleSet.from_samples_bqm((X, order), bqm, info=info, **(vectors or {}))
        done = time.perf_counter_ns()
        ss.info["timing"] = {  # dwave-samplers' keys; never 0, as their tests require
            "preprocessing_ns": max(1, sampled[0] - start),
            "sampling_ns": max(1, sampled[1] - sampled[0]),
            "postprocessing_ns": max(1, done - sampled[1]),
        }
        return ss


def _engine_info(res: Any) -> dict[str, Any]:
    info = dict(res.info)
    info["trace"] = res.trace.tolist()
    return info


def _presolve_default(presolve: bool | None, initial_states: Any) -> bool:
    return initial_states is None if presolve is None else bool(presolve)


class SimulatedAnnealingSampler(_EngineSampler):
    """Simulated annealing (:func:`kakehashi.engines.anneal`), a drop-in for
    ``dwave.samplers.SimulatedAnnealingSampler``: ``beta_range``, ``num_reads``,
    ``num_sweeps`` (default 1000), ``num_sweeps_per_beta``, ``beta_schedule_type``
    (``"geometric"``, ``"linear"``, ``"custom"`` with ``beta_schedule``), ``seed``,
    ``initial_states``, ``initial_states_generator``. Each read returns its final state, as
    dwave's do (``read_state="final"``: textbook Metropolis, every zero-energy flip taken, so
    the rows are samples at the cold end of the schedule); ``read_state="best"`` returns
    instead the best state each read visited, polished by steepest descent, with kakehashi's
    own kernel rule (zero-energy flips taken half the time), as its ``sa`` backend does
    (``num_sweeps=0`` returns the initial states either way). With ``time_limit`` and
    neither ``num_reads`` nor ``initial_states``, anneals repeat until the time is up and
    the best (at most 1000) are returned."""

    _engine_name = "sa"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "beta_range": [],
        "num_reads": [],
        "num_sweeps": [],
        "num_sweeps_per_beta": [],
        "beta_schedule_type": ["beta_schedule_options"],
        "seed": [],
        "beta_schedule": [],
        "initial_states": [],
        "initial_states_generator": ["initial_states_generators"],
        "read_state": ["read_state_options"],
        "presolve": [],
        "time_limit": [],
        "target": [],
        "threads": [],
    }

    @property
    def properties(self) -> dict[str, Any]:
        return dict(
            super().properties,
            beta_schedule_options=("linear", "geometric", "custom"),
            read_state_options=tuple(_READ_STATES),
        )

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        beta_range: Any = None,
        num_reads: int | None = None,
        num_sweeps: int | None = None,
        num_sweeps_per_beta: int = 1,
        beta_schedule_type: str = "geometric",
        seed: int | None = None,
        beta_schedule: Any = None,
        initial_states: Any = None,
        initial_states_generator: str = "random",
        read_state: str = "final",
        presolve: bool | None = None,
        time_limit: float | None = None,
        target: float | None = None,
        threads: int | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Anneal ``bqm``; see the class docstring for the arguments.

        Example:
            >>> import dimod
            >>> bqm = dimod.BQM.from_ising({}, {"ab": -1, "bc": -1})
            >>> len(SimulatedAnnealingSampler().sample(bqm, num_reads=5, seed=1))
            5
        """
        if read_state not in _READ_STATES:
            raise SamplerArgumentError(
                f"read_state must be 'final' (dwave's) or 'best' (kakehashi's), got {read_state!r}"
            )
        start, order, q = self._begin(bqm, kwargs)
        schedule, num_sweeps = _schedule(
            q, beta_range, num_sweeps, num_sweeps_per_beta, beta_schedule_type, beta_schedule
        )
        timed = time_limit is not None and num_reads is None and initial_states is None
        if timed:
            reads = _Reads(0, None, check_seed(seed))
        else:
            reads = self._reads(
                bqm, order, initial_states, initial_states_generator, num_reads, seed
            )
        sampled = [time.perf_counter_ns()]
        res = engines.anneal(
            q,
            num_reads=None if timed else reads.num_reads,
            num_sweeps=num_sweeps,
            beta_range=None if beta_range is None else tuple(beta_range),
            schedule=schedule,
            seed=reads.seed,
            initial_states=reads.states,
            time_limit=time_limit,
            target=target,
            threads=threads,
            presolve=_presolve_default(presolve, initial_states) and num_sweeps != 0,
            **_READ_STATES[read_state],
            polish=read_state == "best" and num_sweeps != 0,
        )
        sampled.append(time.perf_counter_ns())
        info = _engine_info(res)
        info["beta_schedule_type"] = beta_schedule_type
        return self._sampleset(bqm, order, res.samples, info, start, sampled)


# what each ``read_state`` asks of the engine: dwave's final state under textbook Metropolis,
# or kakehashi's best state visited under its own rule for zero-energy flips
_READ_STATES: dict[str, dict[str, Any]] = {
    "final": {"keep": "last", "free_moves": 1.0},
    "best": {"keep": "best", "free_moves": engines.annealing.FREE_MOVES},
}


def _schedule(q, beta_range, num_sweeps, per_beta, schedule_type, beta_schedule):
    """dwave-samplers' checks of the schedule arguments → (engine schedule, sweeps)."""
    if isinstance(per_beta, bool) or not isinstance(per_beta, Integral):
        raise SamplerArgumentTypeError(f"num_sweeps_per_beta must be an integer, got {per_beta!r}")
    if per_beta < 1:
        raise SamplerArgumentError(f"num_sweeps_per_beta must be at least 1, got {per_beta}")
    if num_sweeps is not None:
        if isinstance(num_sweeps, bool) or not isinstance(num_sweeps, Integral):
            raise SamplerArgumentTypeError(f"num_sweeps must be an integer, got {num_sweeps!r}")
        if num_sweeps < 0:
            raise SamplerArgumentError(f"num_sweeps must be >= 0, got {num_sweeps}")
    if schedule_type == "custom":
        if beta_schedule is None:
            raise SamplerArgumentError("beta_schedule_type='custom' needs a beta_schedule")
        try:
            betas = np.asarray(beta_schedule, dtype=float).ravel()
        except (TypeError, ValueError) as err:
            raise SamplerArgumentError(f"beta_schedule must be numbers: {err}") from None
        if betas.size and not betas.min() >= 0:
            raise SamplerArgumentError("beta_schedule cannot include negative values")
        if num_sweeps is not None and num_sweeps != betas.size * per_beta:
            raise SamplerArgumentError(
                "num_sweeps must be None or len(beta_schedule) * num_sweeps_per_beta"
            )
        if beta_range is not None and (
            len(betas) == 0 or beta_range[0] != betas[0] or beta_range[-1] != betas[-1]
        ):
            raise SamplerArgumentError("beta_range must be None or the ends of beta_schedule")
        betas = np.repeat(betas, per_beta)
        return betas, betas.size
    if schedule_type not in ("geometric", "linear"):
        raise SamplerArgumentError(
            f"unknown beta_schedule_type {schedule_type!r}; use 'geometric', 'linear' or 'custom'"
        )
    if beta_schedule is not None:
        raise SamplerArgumentError("beta_schedule is only for beta_schedule_type='custom'")
    sweeps = 1000 if num_sweeps is None else int(num_sweeps)
    if sweeps % per_beta:
        raise SamplerArgumentError("num_sweeps must be divisible by num_sweeps_per_beta")
    if beta_range is not None:
        if len(beta_range) != 2 or min(beta_range) < 0:
            raise SamplerArgumentError("beta_range must be two non-negative numbers (hot, cold)")
        if schedule_type == "geometric" and min(beta_range) <= 0:
            raise SamplerArgumentError("a geometric schedule needs beta_range > 0")
    if per_beta == 1:
        return schedule_type, sweeps
    ends = beta_range if beta_range is not None else engines.default_beta_range(q, 0, 0.125)
    betas = np.repeat(engines.beta_schedule(ends, sweeps // per_beta, schedule_type), per_beta)
    return betas, sweeps


class TabuSampler(_EngineSampler):
    """Tabu search (:func:`kakehashi.engines.tabu`), a drop-in for
    ``dwave.samplers.TabuSampler``: ``timeout`` is milliseconds per read as there (default
    20; ``None``: a move budget instead), ``tenure`` an integer in ``[0, n - 1]``,
    ``energy_threshold`` stops the search; ``time_limit`` (seconds, whole call) or
    ``max_moves`` (per read) replace ``timeout``. Reads run in parallel on ``threads``, so
    the call takes ``timeout × ⌈num_reads / threads⌉``. The clock starts after the one-off
    set-up, and each read makes at least max(1000, n) moves however short the budget."""

    _engine_name = "tabu"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "initial_states": [],
        "initial_states_generator": ["initial_states_generators"],
        "num_reads": [],
        "seed": [],
        "tenure": [],
        "timeout": [],
        "energy_threshold": [],
        "presolve": [],
        "max_moves": [],
        "time_limit": [],
        "target": [],
        "threads": [],
    }

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        initial_states: Any = None,
        initial_states_generator: str = "random",
        num_reads: int | None = None,
        seed: int | None = None,
        tenure: int | None = None,
        timeout: float | None = 20,
        energy_threshold: float | None = None,
        presolve: bool | None = None,
        max_moves: int | None = None,
        time_limit: float | None = None,
        target: float | None = None,
        threads: int | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Tabu search on ``bqm``; see the class docstring for the arguments.

        Example:
            >>> import dimod
            >>> bqm = dimod.BQM.from_ising({}, {"ab": 1, "bc": 1, "ca": 1})
            >>> len(TabuSampler().sample(bqm, num_reads=3, seed=2, timeout=5))
            3
        """
        start, order, q = self._begin(bqm, kwargs)
        if q.n == 0:  # dwave-samplers returns no rows for an empty model
            info: dict[str, Any] = {"engine": "tabu"}
            empty = np.zeros((0, 0), dtype=np.int8)
            return self._sampleset(bqm, order, empty, info, start, [start, start])
        if tenure is not None:
            if isinstance(tenure, bool) or not isinstance(tenure, Integral):
                raise SamplerArgumentTypeError(f"tenure must be an integer, got {tenure!r}")
            if not 0 <= tenure < q.n:
                raise SamplerArgumentError(f"tenure must be in [0, {q.n - 1}], got {tenure}")
        reads = self._reads(bqm, order, initial_states, initial_states_generator, num_reads, seed)
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, Real)):
            raise SamplerArgumentTypeError(f"timeout must be milliseconds or None, got {timeout!r}")
        if time_limit is None and max_moves is None and timeout is not None and timeout >= 0:
            workers = min(reads.num_reads, threads or engines.default_threads())
            time_limit = float(timeout) / 1000 * -(-reads.num_reads // workers)
        sampled = [time.perf_counter_ns()]
        res = engines.tabu(
            q,
            num_reads=reads.num_reads,
            seed=reads.seed,
            time_limit=time_limit,
            max_moves=max_moves,
            initial_states=reads.states,
            tenure=None if tenure is None else (int(tenure), int(tenure)),
            target=energy_threshold if target is None else target,
            threads=threads,
            presolve=_presolve_default(presolve, initial_states),
        )
        sampled.append(time.perf_counter_ns())
        return self._sampleset(bqm, order, res.samples, _engine_info(res), start, sampled)


class SteepestDescentSampler(_EngineSampler):
    """Steepest descent to a 1-flip local minimum from random or given states, a drop-in
    for ``dwave.samplers.SteepestDescentSampler`` (``SteepestDescentSolver``): the same
    moves (the largest decrease, the first variable on ties), one read per initial state,
    and the ``num_steps`` each read took. ``large_sparse_opt`` is accepted and changes
    nothing (the descent keeps local fields, whatever the density)."""

    _engine_name = "descent"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "num_reads": [],
        "initial_states": [],
        "initial_states_generator": ["initial_states_generators"],
        "seed": [],
        "large_sparse_opt": ["large_sparse_opt_values"],
        "threads": [],
    }

    @property
    def properties(self) -> dict[str, Any]:
        return dict(super().properties, large_sparse_opt_values=(True, False))

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        num_reads: int | None = None,
        initial_states: Any = None,
        initial_states_generator: str = "random",
        seed: int | None = None,
        large_sparse_opt: bool = False,
        threads: int | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Descend from each initial state; see the class docstring for the arguments.

        Example:
            >>> import dimod
            >>> bqm = dimod.BQM({"a": 1.0, "b": 1.0}, {("a", "b"): -3.0}, 0.0, "BINARY")
            >>> ss = SteepestDescentSampler().sample(bqm, initial_states={"a": 1, "b": 1})
            >>> float(ss.first.energy), ss.record.num_steps.tolist()
            (-1.0, [0])
        """
        start, order, q = self._begin(bqm, kwargs)
        reads = self._reads(bqm, order, initial_states, initial_states_generator, num_reads, seed)
        X = reads.states.copy()
        sampled = [time.perf_counter_ns()]
        steps = engines.descend_rows(q, X, threads)
        sampled.append(time.perf_counter_ns())
        info = {"engine": "descent", "flips": int(steps.sum())}
        return self._sampleset(bqm, order, X, info, start, sampled, {"num_steps": steps})


class ParallelTemperingSampler(_EngineSampler):
    """Parallel tempering with an adaptive ladder (:func:`kakehashi.engines.temper`): one
    chain of ``num_replicas`` replicas per read, each read its chain's best state."""

    _engine_name = "pt"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "num_reads": [],
        "num_replicas": [],
        "num_sweeps": [],
        "beta_range": [],
        "seed": [],
        "presolve": [],
        "time_limit": [],
        "target": [],
        "threads": [],
    }

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        num_reads: int | None = None,
        num_replicas: int = 16,
        num_sweeps: int | None = None,
        beta_range: Any = None,
        seed: int | None = None,
        presolve: bool = True,
        time_limit: float | None = None,
        target: float | None = None,
        threads: int | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Temper ``bqm``; see the class docstring for the arguments.

        Example:
            >>> import dimod
            >>> bqm = dimod.BQM.from_ising({}, {"ab": -1, "bc": -1, "ca": -1})
            >>> len(ParallelTemperingSampler().sample(bqm, num_reads=2, num_sweeps=50, seed=1))
            2
        """
        start, order, q = self._begin(bqm, kwargs)
        reads = self._count(bqm, num_reads, seed)
        sampled = [time.perf_counter_ns()]
        res = engines.temper(
            q,
            num_chains=reads.num_reads,
            num_replicas=num_replicas,
            max_sweeps=num_sweeps,
            beta_range=beta_range,
            seed=reads.seed,
            time_limit=time_limit,
            target=target,
            threads=threads,
            presolve=presolve,
        )
        sampled.append(time.perf_counter_ns())
        X = res.samples[: reads.num_reads]
        return self._sampleset(bqm, order, X, _engine_info(res), start, sampled)


class PopulationAnnealingSampler(_EngineSampler):
    """Population annealing (:func:`kakehashi.engines.populate`) of ``population`` copies
    over ``num_sweeps`` temperature steps; the reads are the best ``num_reads`` (default 1)
    of the best state seen and the final population."""

    _engine_name = "pa"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "num_reads": [],
        "population": [],
        "num_sweeps": [],
        "sweeps_per_step": [],
        "beta_range": [],
        "seed": [],
        "presolve": [],
        "time_limit": [],
        "target": [],
        "threads": [],
    }

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        num_reads: int | None = None,
        population: int = 50,
        num_sweeps: int | None = None,
        sweeps_per_step: int = 2,
        beta_range: Any = None,
        seed: int | None = None,
        presolve: bool = True,
        time_limit: float | None = None,
        target: float | None = None,
        threads: int | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Population-anneal ``bqm``; see the class docstring for the arguments.

        Example:
            >>> import dimod
            >>> bqm = dimod.BQM.from_ising({}, {"ab": -1, "bc": -1})
            >>> len(PopulationAnnealingSampler().sample(bqm, num_reads=3, num_sweeps=20, seed=1))
            3
        """
        start, order, q = self._begin(bqm, kwargs)
        reads = self._count(bqm, num_reads, seed)
        sampled = [time.perf_counter_ns()]
        res = engines.populate(
            q,
            population=max(int(population), reads.num_reads),
            steps=num_sweeps,
            sweeps_per_step=sweeps_per_step,
            beta_range=beta_range,
            seed=reads.seed,
            time_limit=time_limit,
            target=target,
            threads=threads,
            presolve=presolve,
        )
        sampled.append(time.perf_counter_ns())
        X = res.samples[: reads.num_reads]
        return self._sampleset(bqm, order, X, _engine_info(res), start, sampled)


class SimulatedBifurcationSampler(_EngineSampler):
    """Simulated bifurcation (:func:`kakehashi.engines.bifurcate`), discrete or ballistic,
    CPU or GPU (``device``): ``num_replicas`` oscillators (default 32 per thread, at least
    ``num_reads``) evolve together, and the reads are the best ``num_reads`` (default 1)
    states found."""

    _engine_name = "sb"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "num_reads": [],
        "num_replicas": [],
        "variant": [],
        "steps": [],
        "num_runs": [],
        "dt": [],
        "seed": [],
        "presolve": [],
        "time_limit": [],
        "target": [],
        "threads": [],
        "device": [],
    }

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        num_reads: int | None = None,
        num_replicas: int | None = None,
        variant: str = "discrete",
        steps: int | None = None,
        num_runs: int | None = None,
        dt: float | None = None,
        seed: int | None = None,
        presolve: bool = True,
        time_limit: float | None = None,
        target: float | None = None,
        threads: int | None = None,
        device: str = "cpu",
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Bifurcate ``bqm``; see the class docstring for the arguments.

        Example:
            >>> import dimod
            >>> bqm = dimod.BQM.from_ising({}, {"ab": -1, "bc": -1})
            >>> len(SimulatedBifurcationSampler().sample(bqm, num_reads=7, steps=50, seed=1))
            7
        """
        start, order, q = self._begin(bqm, kwargs)
        reads = self._count(bqm, num_reads, seed)
        if num_replicas is None and reads.num_reads > 32 * (threads or engines.default_threads()):
            num_replicas = reads.num_reads
        elif num_replicas is not None:
            num_replicas = max(int(num_replicas), reads.num_reads)
        sampled = [time.perf_counter_ns()]
        res = engines.bifurcate(
            q,
            variant=variant,
            num_replicas=num_replicas,
            steps=steps,
            num_runs=num_runs,
            dt=dt,
            seed=reads.seed,
            time_limit=time_limit,
            target=target,
            threads=threads,
            device=device,
            presolve=presolve,
        )
        sampled.append(time.perf_counter_ns())
        X = res.samples[: reads.num_reads]
        return self._sampleset(bqm, order, X, _engine_info(res), start, sampled)


# dwave-samplers' other names for the same samplers
Neal = SimulatedAnnealingSampler
SteepestDescentSolver = SteepestDescentSampler


class SteepestDescentComposite(dimod.ComposedSampler):
    """The child sampler's samples, each polished by steepest descent, a drop-in for
    ``dwave.samplers.SteepestDescentComposite``: parameters go to the child.

    Example:
        >>> import dimod
        >>> sampler = SteepestDescentComposite(dimod.RandomSampler())
        >>> bqm = dimod.BQM.from_ising({0: 2, 1: 2}, {(0, 1): -1})
        >>> sampler.sample(bqm, num_reads=5, seed=1).record.sample.tolist() == [[-1, -1]] * 5
        True
    """

    def __init__(self, child_sampler: dimod.Sampler):
        self._children = [child_sampler]

    def __repr__(self) -> str:
        # stable (no address): dimod's generated tests are named after it, and pytest-xdist
        # needs the same names in every worker
        return f"SteepestDescentComposite({type(self.child).__name__}())"

    @property
    def children(self) -> list[dimod.Sampler]:
        return self._children

    @property
    def parameters(self) -> dict[str, list[str]]:
        return dict(self.child.parameters)

    @property
    def properties(self) -> dict[str, Any]:
        return {"child_properties": dict(self.child.properties)}

    def sample(self, bqm: dimod.BinaryQuadraticModel, **parameters: Any) -> dimod.SampleSet:
        """The child's sample set, descended to 1-flip local minima (``num_steps`` each)."""
        sampleset = self.child.sample(bqm, **parameters)
        return SteepestDescentSampler().sample(bqm, initial_states=sampleset)


# ---------------------------------------------------------------------- OpenJij's names
class Response(dimod.SampleSet):
    """OpenJij's sample set: a ``dimod.SampleSet`` with OpenJij's accessors."""

    @property
    def states(self) -> np.ndarray:
        return self.record.sample

    @property
    def energies(self) -> np.ndarray:
        return self.record.energy

    @property
    def indices(self) -> list[Any]:
        return list(self.variables)

    @property
    def min_samples(self) -> Any:
        return self.first.sample


class SASampler(SimulatedAnnealingSampler):
    """Simulated annealing with OpenJij's ``SASampler`` arguments, a drop-in for
    ``openjij.SASampler``: ``beta_min``/``beta_max`` (the β range), ``num_sweeps`` (default
    1000), ``num_reads`` (default 1), ``schedule`` as ``[[beta, sweeps], ...]``,
    ``initial_state`` (one state, a list in the model's variable order or a dict; every read
    starts from it), ``seed``. ``updater``, ``sparse`` and ``reinitialize_state`` are accepted
    and change nothing (one Metropolis updater, always sparse, every read starts afresh).
    Returns a :class:`Response` (``states``, ``energies``, ``indices``, ``min_samples``)."""

    _engine_name = "sa"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "beta_min": [],
        "beta_max": [],
        "num_sweeps": [],
        "num_reads": [],
        "schedule": [],
        "initial_state": [],
        "updater": [],
        "sparse": [],
        "reinitialize_state": [],
        "seed": [],
        "read_state": ["read_state_options"],
        "presolve": [],
        "time_limit": [],
        "target": [],
        "threads": [],
    }

    def sample(  # type: ignore[override]
        self,
        bqm: dimod.BinaryQuadraticModel,
        beta_min: float | None = None,
        beta_max: float | None = None,
        num_sweeps: int | None = None,
        num_reads: int | None = None,
        schedule: Any = None,
        initial_state: Any = None,
        updater: str | None = None,
        sparse: bool | None = None,
        reinitialize_state: bool | None = None,
        seed: int | None = None,
        presolve: bool | None = None,
        time_limit: float | None = None,
        target: float | None = None,
        threads: int | None = None,
        **kwargs: Any,
    ) -> Response:
        """Anneal ``bqm`` as ``openjij.SASampler`` would; see the class docstring.

        Example:
            >>> import dimod
            >>> ss = SASampler().sample_ising({0: -1}, {(0, 1): 1}, num_reads=3, seed=1)
            >>> ss.states.tolist(), ss.energies.tolist()
            ([[1, -1], [1, -1], [1, -1]], [-2.0, -2.0, -2.0])
        """
        kw: dict[str, Any] = {}
        if schedule is not None:
            betas = _openjij_schedule(schedule)
            kw.update(beta_schedule_type="custom", beta_schedule=betas)
        else:
            kw.update(num_sweeps=num_sweeps)
            if beta_min is not None or beta_max is not None:
                default = engines.default_beta_range(_to_arrays(bqm)[1], 0, 0.125)
                kw["beta_range"] = (
                    default[0] if beta_min is None else float(beta_min),
                    default[1] if beta_max is None else float(beta_max),
                )
        if initial_state is not None:
            state = initial_state
            if not isinstance(state, dict):
                state = dict(zip(bqm.variables, state, strict=True))
            kw.update(initial_states=state, initial_states_generator="tile")
        ss = super().sample(
            bqm,
            num_reads=num_reads,
            seed=seed,
            presolve=presolve,
            time_limit=time_limit,
            target=target,
            threads=threads,
            **kw,
            **kwargs,
        )
        return Response(ss.record, ss.variables, ss.info, ss.vartype)


def _openjij_schedule(schedule: Any) -> np.ndarray:
    """OpenJij's ``[[beta, sweeps], ...]`` → one β per sweep."""
    try:
        pairs = [(float(beta), int(steps)) for beta, steps in schedule]
    except (TypeError, ValueError):
        raise SamplerArgumentError("schedule must be [[beta, sweeps], ...]") from None
    return np.concatenate([np.full(steps, beta) for beta, steps in pairs] or [np.zeros(0)])
