"""kakehashi's engines as D-Wave Ocean samplers (``dimod.Sampler``), for existing Ocean code.

Swap the import and keep the rest::

    # from dwave.samplers import TabuSampler
    from kakehashi.ocean import TabuSampler

    sampleset = TabuSampler().sample(bqm, num_reads=4, seed=1)

Samplers: :class:`SimulatedAnnealingSampler`, :class:`ParallelTemperingSampler`,
:class:`TabuSampler`, :class:`SimulatedBifurcationSampler`, :class:`SteepestDescentSampler`.
They take BINARY and SPIN models with any labels, return a ``dimod.SampleSet`` in the model's
vartype with energies computed by dimod, and put the engine's ``info`` (seed, time, when the
best was found) in ``sampleset.info``. Parameters follow dwave-samplers where they overlap
(``num_reads``, ``seed``, ``num_sweeps``, ``beta_range``, ``beta_schedule_type``,
``timeout`` in milliseconds for tabu, ``initial_states``); kakehashi's own are
``time_limit`` (seconds), ``target`` (stop at this energy of the model) and ``threads``.

Example:
    >>> import dimod
    >>> from kakehashi.ocean import TabuSampler
    >>> bqm = dimod.BQM({"a": -1, "b": -1}, {("a", "b"): 2}, 0.0, "BINARY")
    >>> float(TabuSampler().sample(bqm, seed=0).first.energy)
    -1.0
"""

from __future__ import annotations

from typing import Any, ClassVar

import dimod
import numpy as np
import scipy.sparse as sp

from kakehashi import engines

__all__ = [
    "ParallelTemperingSampler",
    "PopulationAnnealingSampler",
    "SimulatedAnnealingSampler",
    "SimulatedBifurcationSampler",
    "SteepestDescentSampler",
    "TabuSampler",
]


def _to_arrays(bqm: dimod.BinaryQuadraticModel) -> tuple[list[Any], engines.QuboArrays]:
    """BQM → (variable order, binary QUBO arrays) with the model's exact offset."""
    binary = bqm.change_vartype(dimod.BINARY, inplace=False) if bqm.vartype is dimod.SPIN else bqm
    order = list(binary.variables)
    n = len(order)
    h, (row, col, val), offset = binary.to_numpy_vectors(variable_order=order)
    J = sp.coo_matrix((np.r_[val, val], (np.r_[row, col], np.r_[col, row])), shape=(n, n))
    return order, engines.as_arrays((np.asarray(h, dtype=float), J.tocsr(), float(offset)))


def _initial(initial_states: Any, order: list[Any], vartype: dimod.Vartype) -> np.ndarray | None:
    if initial_states is None:
        return None
    arr, labels = dimod.as_samples(initial_states)
    if len(arr) == 0:
        return None
    index = {v: i for i, v in enumerate(labels)}
    missing = [v for v in order if v not in index]
    if missing:
        raise ValueError(f"initial_states lack variables {missing[:5]}")
    X = np.asarray(arr)[:, [index[v] for v in order]]
    if vartype is dimod.SPIN:
        X = (X > 0).astype(np.int8)
    return X.astype(np.int8)


def _target_in_binary(target: float | None) -> float | None:
    # energies of a BQM and of its binary form are equal for the same assignment
    return None if target is None else float(target)


class _EngineSampler(dimod.Sampler):
    """Common conversion: BQM in, engine run, SampleSet out."""

    _parameters: ClassVar[dict[str, list[str]]] = {}

    @property
    def properties(self) -> dict[str, Any]:
        return {"engine": self._engine_name, "package": "kakehashi"}

    @property
    def parameters(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self._parameters.items()}

    def sample(self, bqm: dimod.BinaryQuadraticModel, **parameters: Any) -> dimod.SampleSet:
        parameters = self.remove_unknown_kwargs(**parameters)
        order, q = _to_arrays(bqm)
        if q.n == 0:
            reads = int(parameters.get("num_reads") or 1)
            return dimod.SampleSet.from_samples_bqm(
                (np.zeros((reads, 0), dtype=np.int8), []), bqm, info={}
            )
        res = self._run(q, order, bqm, **parameters)
        X = res.samples
        if bqm.vartype is dimod.SPIN:
            X = 2 * X.astype(np.int8) - 1
        info = {k: v for k, v in res.info.items()}
        info["trace"] = res.trace.tolist()
        return dimod.SampleSet.from_samples_bqm((X, order), bqm, info=info)

    def _run(self, q, order, bqm, **parameters):  # pragma: no cover - abstract
        raise NotImplementedError


class SimulatedAnnealingSampler(_EngineSampler):
    """Simulated annealing (:func:`kakehashi.engines.anneal`), a drop-in for
    ``dwave.samplers.SimulatedAnnealingSampler``."""

    _engine_name = "sa"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "num_reads": [],
        "num_sweeps": [],
        "beta_range": [],
        "beta_schedule_type": [],
        "seed": [],
        "initial_states": [],
        "time_limit": [],
        "target": [],
        "threads": [],
    }

    def _run(
        self,
        q,
        order,
        bqm,
        *,
        num_reads=None,
        num_sweeps=None,
        beta_range=None,
        beta_schedule_type="geometric",
        seed=None,
        initial_states=None,
        time_limit=None,
        target=None,
        threads=None,
    ):
        X0 = _initial(initial_states, order, bqm.vartype)
        if X0 is not None and num_reads is not None and X0.shape[0] != num_reads:
            X0 = X0[np.arange(num_reads) % X0.shape[0]]
        if num_reads is None and time_limit is None and X0 is None:
            num_reads = 1  # dwave-samplers' default
        return engines.anneal(
            q,
            num_reads=num_reads,
            num_sweeps=num_sweeps,
            beta_range=beta_range,
            schedule=beta_schedule_type,
            seed=seed,
            initial_states=X0,
            time_limit=time_limit,
            target=_target_in_binary(target),
            threads=threads,
        )


class ParallelTemperingSampler(_EngineSampler):
    """Parallel tempering with an adaptive ladder (:func:`kakehashi.engines.temper`); one
    sample per chain (``num_reads`` chains)."""

    _engine_name = "pt"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "num_reads": [],
        "num_replicas": [],
        "num_sweeps": [],
        "beta_range": [],
        "seed": [],
        "time_limit": [],
        "target": [],
        "threads": [],
    }

    def _run(
        self,
        q,
        order,
        bqm,
        *,
        num_reads=None,
        num_replicas=16,
        num_sweeps=None,
        beta_range=None,
        seed=None,
        time_limit=None,
        target=None,
        threads=None,
    ):
        return engines.temper(
            q,
            num_chains=num_reads or 1,
            num_replicas=num_replicas,
            max_sweeps=num_sweeps,
            beta_range=beta_range,
            seed=seed,
            time_limit=time_limit,
            target=_target_in_binary(target),
            threads=threads,
        )


class PopulationAnnealingSampler(_EngineSampler):
    """Population annealing (:func:`kakehashi.engines.populate`): the best state seen and the
    final population (``population`` copies, ``num_sweeps`` temperature steps)."""

    _engine_name = "pa"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "population": [],
        "num_sweeps": [],
        "sweeps_per_step": [],
        "beta_range": [],
        "seed": [],
        "time_limit": [],
        "target": [],
        "threads": [],
    }

    def _run(
        self,
        q,
        order,
        bqm,
        *,
        population=50,
        num_sweeps=None,
        sweeps_per_step=2,
        beta_range=None,
        seed=None,
        time_limit=None,
        target=None,
        threads=None,
    ):
        return engines.populate(
            q,
            population=population,
            steps=num_sweeps,
            sweeps_per_step=sweeps_per_step,
            beta_range=beta_range,
            seed=seed,
            time_limit=time_limit,
            target=_target_in_binary(target),
            threads=threads,
        )


class TabuSampler(_EngineSampler):
    """Tabu search (:func:`kakehashi.engines.tabu`), a drop-in for
    ``dwave.samplers.TabuSampler``: ``timeout`` is milliseconds per read as there (default
    20), unless ``time_limit`` (seconds, whole call) or ``max_moves`` is given."""

    _engine_name = "tabu"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "num_reads": [],
        "seed": [],
        "timeout": [],
        "tenure": [],
        "initial_states": [],
        "energy_threshold": [],
        "max_moves": [],
        "time_limit": [],
        "target": [],
        "threads": [],
    }

    def _run(
        self,
        q,
        order,
        bqm,
        *,
        num_reads=None,
        seed=None,
        timeout=None,
        tenure=None,
        initial_states=None,
        energy_threshold=None,
        max_moves=None,
        time_limit=None,
        target=None,
        threads=None,
    ):
        X0 = _initial(initial_states, order, bqm.vartype)
        reads = num_reads or (X0.shape[0] if X0 is not None else 1)
        if X0 is not None and X0.shape[0] != reads:
            X0 = X0[np.arange(reads) % X0.shape[0]]
        if time_limit is None and max_moves is None:
            workers = min(reads, threads or engines.default_threads())
            time_limit = (20 if timeout is None else float(timeout)) / 1000 * -(-reads // workers)
        if tenure is not None:
            tenure = (int(tenure), int(tenure))
        if target is None:
            target = energy_threshold
        return engines.tabu(
            q,
            num_reads=reads,
            seed=seed,
            time_limit=time_limit,
            max_moves=max_moves,
            initial_states=X0,
            tenure=tenure,
            target=_target_in_binary(target),
            threads=threads,
        )


class SimulatedBifurcationSampler(_EngineSampler):
    """Simulated bifurcation (:func:`kakehashi.engines.bifurcate`), discrete or ballistic,
    CPU or GPU (``device``)."""

    _engine_name = "sb"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "num_reads": [],
        "variant": [],
        "steps": [],
        "num_runs": [],
        "dt": [],
        "seed": [],
        "time_limit": [],
        "target": [],
        "threads": [],
        "device": [],
    }

    def _run(
        self,
        q,
        order,
        bqm,
        *,
        num_reads=None,
        variant="discrete",
        steps=None,
        num_runs=None,
        dt=None,
        seed=None,
        time_limit=None,
        target=None,
        threads=None,
        device="cpu",
    ):
        return engines.bifurcate(
            q,
            variant=variant,
            num_replicas=num_reads,
            steps=steps,
            num_runs=num_runs,
            dt=dt,
            seed=seed,
            time_limit=time_limit,
            target=_target_in_binary(target),
            threads=threads,
            device=device,
        )


class SteepestDescentSampler(_EngineSampler):
    """Steepest descent from random or given states (:func:`kakehashi.engines.polish`)."""

    _engine_name = "descent"
    _parameters: ClassVar[dict[str, list[str]]] = {
        "num_reads": [],
        "seed": [],
        "initial_states": [],
    }

    def _run(self, q, order, bqm, *, num_reads=None, seed=None, initial_states=None):
        X0 = _initial(initial_states, order, bqm.vartype)
        if X0 is None:
            X0 = np.random.default_rng(seed).integers(0, 2, size=(num_reads or 1, q.n))
        return engines.polish(q, X0)
