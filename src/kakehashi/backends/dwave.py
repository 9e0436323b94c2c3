"""D-Wave quantum annealing: `dwave-qpu`, `dwave-hybrid` and `dwave-mock`.

* ``dwave-qpu`` samples the compiled QUBO on a D-Wave Advantage QPU through dwave-system:
  kakehashi finds a minor embedding itself with ``minorminer`` (so it can report and cache
  it), sets the chain strength with dwave-system's ``uniform_torque_compensation`` unless
  ``chain_strength=`` is given, embeds with ``dwave.embedding.embed_bqm``, samples, and
  unembeds by majority vote, reporting the chain-break fraction. QPU timings (µs in
  D-Wave's answer) are kept in seconds in ``Result.timing.vendor``.
* ``dwave-mock`` runs exactly that path on dwave-system's ``MockDWaveSampler`` — a local
  stand-in with a real Pegasus (or Chimera/Zephyr) graph — so embedding, chains and
  unembedding run for real, offline. The mock's sampling routine is a classical
  substitute (dwave-samplers' simulated annealing over the embedded, physical-qubit
  problem, seeded), and its timing figures are the fixed demonstration values dwave-system
  ships: they exercise the plumbing and are flagged as such in ``info``.
* ``dwave-hybrid`` sends the QUBO to Leap's hybrid BQM solver, or — for constrained problems
  — the problem itself to the hybrid CQM solver (native constraints, no penalties).

Credentials: ``DWAVE_API_TOKEN`` (read by dwave-cloud-client). dwave-system is imported
inside functions so that ``import kakehashi`` stays light.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from typing import Any, ClassVar

import numpy as np

from kakehashi import progress
from kakehashi.backends.base import (
    QuboSamplerBackend,
    RunOutput,
    SampleBatch,
    register,
    require_available,
)
from kakehashi.backends.catalog import info_for
from kakehashi.backends.params import Param, merged
from kakehashi.compile.qubo import Qubo
from kakehashi.errors import BackendError, KakehashiError, UnsupportedError
from kakehashi.model.problem import Problem

TOKEN_ENV = "DWAVE_API_TOKEN"
US = 1e-6  # D-Wave reports timings in microseconds
DEFAULT_NUM_READS = 100
MOCK_TOPOLOGY = ("pegasus", (16,))  # the Advantage QPU's graph (P16)
# DWaveSampler's own parameters (as dwave-system 1.x declares them): passed through to the
# QPU, which checks their values; the child sampler's `parameters` are checked again per run
QPU_PARAMETERS = (
    "anneal_offsets",
    "anneal_schedule",
    "annealing_time",
    "answer_mode",
    "auto_scale",
    "fast_anneal",
    "flux_biases",
    "flux_drift_compensation",
    "h_gain_schedule",
    "initial_state",
    "label",
    "max_answers",
    "num_spin_reversal_transforms",
    "programming_thermalization",
    "readout_thermalization",
    "reduce_intersample_correlation",
    "reinitialize_state",
    "x_polling_sleep",
)


def _embedding_check(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(
        isinstance(c, (list, tuple)) and c for c in value.values()
    ):
        return "must be a dict {variable: [qubit, ...]} with a non-empty chain per variable"
    return None


ANNEALER_PARAMETERS = (
    Param("num_reads", int, DEFAULT_NUM_READS, "anneals per QPU problem", low=1, high=10_000),
    Param("chain_strength", float, None, "chain coupling (default: uniform torque "
          "compensation)", low=1e-9, high=1e9),
    Param("embedding", dict, None, "a fixed minor embedding", check=_embedding_check),
    Param("embedding_timeout", float, None, "seconds for minorminer", low=0.01, high=86400.0),
    Param("return_embedding", bool, False, "put the embedding in info"),
)  # fmt: skip


# ---------------------------------------------------------------------- embedding
def find_embedding(
    bqm: Any,
    target_edges: list[tuple[int, int]],
    *,
    seed: int | None,
    timeout: float,
    topology: str = "",
) -> dict[Any, list[int]]:
    """A minor embedding of ``bqm``'s interaction graph into ``target_edges`` (minorminer).

    Isolated variables are included as self-loops so that every variable gets a chain.

    Example:
        >>> import dimod
        >>> bqm = dimod.BQM({0: 1.0, 1: -1.0}, {(0, 1): 2.0}, 0.0, "BINARY")
        >>> emb = find_embedding(bqm, [(0, 1), (1, 2), (0, 2)], seed=1, timeout=5)
        >>> sorted(emb)
        [0, 1]
    """
    import minorminer

    source = [*bqm.quadratic, *((v, v) for v in bqm.variables)]
    embedding = minorminer.find_embedding(
        source,
        target_edges,
        random_seed=0 if seed is None else int(seed) % (2**31 - 1),
        timeout=max(1.0, float(timeout)),
    )
    if len(embedding) < bqm.num_variables:
        raise UnsupportedError(
            f"no minor embedding of {bqm.num_variables} variables with "
            f"{bqm.num_interactions} couplings was found on the {topology or 'QPU'} graph "
            f"within {timeout:.0f} s. Pass embedding_timeout= for a longer search, reduce the "
            "problem, or use 'dwave-hybrid' (no embedding needed)"
        )
    return {v: list(chain) for v, chain in embedding.items()}


def embedding_key(qubo: Qubo, target: str) -> str:
    """A key for the embedding cache: the coupling structure (not the weights) + target.

    The adaptive penalty loop re-samples the same structure with other weights, so one
    embedding serves every round.
    """
    h = hashlib.sha1(usedforsecurity=False)
    h.update(np.int64(qubo.num_variables).tobytes())
    h.update(np.asarray(qubo.J.indptr, dtype=np.int64).tobytes())
    h.update(np.asarray(qubo.J.indices, dtype=np.int64).tobytes())
    h.update(target.encode())
    return h.hexdigest()


def chain_stats(embedding: dict[Any, list[int]]) -> dict[str, Any]:
    lengths = np.array([len(c) for c in embedding.values()], dtype=np.int64)
    return {
        "physical_qubits": int(lengths.sum()),
        "max_chain_length": int(lengths.max(initial=0)),
        "mean_chain_length": float(lengths.mean()) if lengths.size else 0.0,
    }


def samples_in_order(sampleset: Any, n: int) -> np.ndarray:
    """The sampleset's records as a (k, n) 0/1 array with columns 0..n-1."""
    variables = list(sampleset.variables)
    cols = np.array([variables.index(i) for i in range(n)], dtype=np.int64)
    X = np.asarray(sampleset.record.sample)[:, cols]
    if str(sampleset.vartype).endswith("SPIN"):
        X = (X + 1) // 2
    return X.astype(np.uint8)


# ---------------------------------------------------------------------- QPU (real and mock)
class _AnnealerBackend(QuboSamplerBackend):
    """The QPU path shared by ``dwave-qpu`` and ``dwave-mock``; subclasses give the sampler."""

    default_time_limit = 60.0
    parameters = ANNEALER_PARAMETERS
    warm_up_modules = ("dwave.system", "dwave.samplers", "dwave.embedding", "minorminer")

    def __init__(self) -> None:
        self._embeddings: dict[str, dict[Any, list[int]]] = {}

    def vendor_parameters(self) -> tuple[str, ...]:
        return QPU_PARAMETERS

    def variable_limit(self) -> int | None:
        # The catalog's max_variables is the clique bound (a complete graph of that size
        # always embeds); sparser problems may embed far beyond it: the qubit count and
        # minorminer decide, at run time
        return None

    # subclasses: the structured child sampler, its name, whether its timing is real
    def child_sampler(self, *, seed: int | None, options: dict[str, Any]) -> Any:
        raise NotImplementedError

    timing_is_real = True

    def estimate(self, problem: Any, **options: Any) -> Any:
        """Money and energy before the run (catalog), with one QPU task per penalty round."""
        from kakehashi.backends.catalog import estimate

        if "tasks" not in options:
            constrained = problem is not None and not problem.is_unconstrained()
            fixed = options.get("penalty") == "fixed"
            rounds = int(options.get("max_rounds", 8)) if constrained and not fixed else 1
            options = {**options, "tasks": max(rounds, 1)}
        options.setdefault("num_reads", DEFAULT_NUM_READS)
        return estimate(self, problem, **options)

    def run_child(self, child: Any, bqm: Any, seed: int | None, **params: Any) -> Any:
        """Sample the embedded problem on the child sampler and wait for the answer."""
        response = child.sample(bqm, **params)
        with progress.on_stop(lambda: cancel_at_sapi(response)):
            response.resolve()
        return response

    def check_size(self, problem: Problem, qubo: Any) -> None:
        # The catalog's max_variables is the clique bound (a complete graph of that size
        # always embeds); sparser problems may embed far beyond it, so the hard limit
        # checked here is the number of qubits, and minorminer decides the rest.
        return None

    def sample_qubo(
        self,
        qubo: Qubo,
        *,
        time_limit: float,
        seed: int | None,
        num_reads: int = DEFAULT_NUM_READS,
        chain_strength: float | None = None,
        embedding: dict[Any, list[int]] | None = None,
        embedding_timeout: float | None = None,
        return_embedding: bool = False,
        **options: Any,
    ) -> SampleBatch:
        from dwave.embedding import embed_bqm, unembed_sampleset
        from dwave.embedding.chain_breaks import majority_vote
        from dwave.embedding.chain_strength import uniform_torque_compensation

        t_start = time.perf_counter()
        child = self.child_sampler(seed=seed, options=options)
        qpu_params = {k: v for k, v in options.items() if k in child.parameters}
        unknown = sorted(set(options) - set(qpu_params) - {"topology", "solver"})
        if unknown:
            raise KakehashiError(
                f"{self.name}: option(s) {unknown} are not D-Wave QPU parameters; known: "
                "num_reads, chain_strength, embedding, embedding_timeout, return_embedding, "
                f"{', '.join(sorted(child.parameters))}"
            )
        qubits = len(child.nodelist)
        topo = child.properties.get("topology", {})
        target_name = f"{topo.get('type', '?')}{list(topo.get('shape', []))} ({qubits} qubits)"
        if qubo.num_variables > qubits:
            raise UnsupportedError(
                f"{self.name}: the problem compiles to {qubo.num_variables} binary variables but "
                f"the {target_name} graph has only {qubits} qubits; reduce the problem or use "
                "'dwave-hybrid'"
            )
        bqm = qubo.to_bqm()

        # 1. embedding (cached per coupling structure: penalty rounds reuse it)
        t = time.perf_counter()
        key = embedding_key(qubo, target_name)
        cached = embedding is None and key in self._embeddings
        if embedding is None:
            if not cached:
                timeout = embedding_timeout or max(1.0, min(60.0, 0.25 * time_limit))
                self._embeddings[key] = find_embedding(
                    bqm, child.edgelist, seed=seed, timeout=timeout, topology=target_name
                )
            embedding = self._embeddings[key]
        embed_seconds = time.perf_counter() - t

        # 2. chain strength: D-Wave's uniform torque compensation unless given
        if chain_strength is None:
            strength = float(uniform_torque_compensation(bqm, embedding=embedding))
            strength_rule = "uniform_torque_compensation (prefactor 1.414)"
        else:
            strength = float(chain_strength)
            strength_rule = "given"
        target_bqm = embed_bqm(bqm, embedding, child.adjacency, chain_strength=strength)

        # 3. sample the physical problem, 4. unembed by majority vote
        t = time.perf_counter()
        response = self.run_child(child, target_bqm, seed, num_reads=int(num_reads), **qpu_params)
        sample_wall = time.perf_counter() - t
        unembedded = unembed_sampleset(
            response, embedding, bqm, chain_break_method=majority_vote, chain_break_fraction=True
        )
        X = samples_in_order(unembedded, qubo.num_variables)
        breaks = np.asarray(unembedded.record.chain_break_fraction, dtype=np.float64)
        occurrences = np.asarray(unembedded.record.num_occurrences, dtype=np.int64)

        raw_timing = dict(response.info.get("timing", {}))
        vendor = {k: float(v) * US for k, v in raw_timing.items() if isinstance(v, (int, float))}
        access = vendor.get("qpu_access_time", 0.0)
        # D-Wave reports no queue timestamps in the sampleset: the service wait (queue +
        # network) is the sampling wall time less the QPU access time
        queue = max(sample_wall - access, 0.0) if self.timing_is_real else 0.0
        energies = qubo.energies(X)
        best = int(np.argmin(energies)) if energies.size else 0
        info = {
            "sampler": self.name,
            "target_graph": target_name,
            "num_reads": int(num_reads),
            "distinct_samples": int(X.shape[0]),
            "embedding_seconds": embed_seconds,
            "embedding_cached": cached,
            **chain_stats(embedding),
            "chain_strength": strength,
            "chain_strength_rule": strength_rule,
            "chain_break_fraction_mean": float(np.average(breaks, weights=occurrences))
            if breaks.size
            else 0.0,
            "chain_break_fraction_best": float(breaks[best]) if breaks.size else 0.0,
            "problem_id": response.info.get("problem_id"),
            "vendor_timing_unit": "seconds (D-Wave reports µs)",
            "wall_seconds": time.perf_counter() - t_start,
        }
        if not self.timing_is_real:
            info["vendor_timing_note"] = (
                "MockDWaveSampler returns fixed demonstration timings, not measurements"
            )
        if return_embedding:
            info["embedding"] = {int(k): list(map(int, v)) for k, v in embedding.items()}
        return SampleBatch(
            samples=X, energies=energies, info=info, vendor_timing=vendor, queue_seconds=queue
        )


@register("dwave-qpu")
class DWaveQPUBackend(_AnnealerBackend):
    """A D-Wave Advantage QPU through dwave-system (needs ``DWAVE_API_TOKEN``).

    Options: ``num_reads`` (100), ``chain_strength`` (default: uniform torque
    compensation), ``embedding`` (a fixed ``{variable: [qubits]}``), ``embedding_timeout``,
    ``return_embedding`` (put the embedding in ``info``),
    ``solver`` (a QPU name such as ``"Advantage_system4.1"``), and any DWaveSampler
    parameter (``annealing_time``, ``answer_mode``, ...).

    Example:
        >>> import kakehashi  # doctest: +SKIP
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="dwave-qpu",
        ...                     num_reads=200)  # doctest: +SKIP
        >>> r.info["rounds"][0]["chain_break_fraction_mean"]  # doctest: +SKIP
        0.0
    """

    name = "dwave-qpu"
    info = info_for("dwave-qpu")
    seed_reproducible = False  # a QPU is a physical sampler
    parameters = merged(
        ANNEALER_PARAMETERS,
        (Param("solver", str, None, "a QPU name such as 'Advantage_system4.1'"),),
    )

    def __init__(self) -> None:
        super().__init__()
        self._samplers: dict[str | None, Any] = {}

    def child_sampler(self, *, seed: int | None, options: dict[str, Any]) -> Any:
        from dwave.system import DWaveSampler

        solver = options.get("solver")
        if solver not in self._samplers:
            try:
                self._samplers[solver] = DWaveSampler(
                    token=os.environ.get(TOKEN_ENV), **({"solver": solver} if solver else {})
                )
            except Exception as exc:  # the cloud client's errors: auth, no such solver, network
                raise BackendError(
                    f"dwave-qpu could not connect to a D-Wave QPU ({type(exc).__name__}: {exc}); "
                    f"check {TOKEN_ENV} and solver={solver!r}"
                ) from exc
        return self._samplers[solver]


@register("dwave-mock")
class DWaveMockBackend(_AnnealerBackend):
    """The whole QPU path on dwave-system's ``MockDWaveSampler`` (offline).

    ``topology=("pegasus", (16,))`` by default (the Advantage graph); ``("chimera",
    (4, 4, 4))`` or ``("zephyr", (4, 4))`` also work. Sampling is simulated annealing over
    the embedded physical problem, seeded by the run's seed.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="dwave-mock", seed=3)
        >>> r.objective, r.info["rounds"][0]["physical_qubits"] >= 5
        (-5.0, True)
    """

    name = "dwave-mock"
    info = info_for("dwave-mock")
    timing_is_real = False
    default_time_limit = 10.0
    reproducible_options: ClassVar[dict[str, Any]] = {"num_reads": 20}
    parameters = merged(
        ANNEALER_PARAMETERS,
        (Param("topology", (tuple, list), MOCK_TOPOLOGY, "(kind, shape) of the mock graph"),),
    )

    def __init__(self) -> None:
        super().__init__()
        self._mocks: dict[tuple[str, tuple[int, ...]], Any] = {}
        self._lock = threading.Lock()

    def child_sampler(self, *, seed: int | None, options: dict[str, Any]) -> Any:
        from dwave.samplers import SimulatedAnnealingSampler
        from dwave.system.testing import MockDWaveSampler

        kind, shape = options.get("topology", MOCK_TOPOLOGY)
        key = (str(kind), tuple(int(s) for s in shape))
        if key not in self._mocks:
            # building the P16 graph takes about a second: keep one mock per topology
            try:
                self._mocks[key] = MockDWaveSampler(
                    topology_type=key[0],
                    topology_shape=list(key[1]),
                    substitute_sampler=SimulatedAnnealingSampler(),
                    parameter_warnings=False,
                )
            except Exception as exc:
                raise KakehashiError(
                    f"dwave-mock: topology={options.get('topology')!r} is not a valid "
                    "MockDWaveSampler topology; use ('pegasus', (16,)), ('chimera', (4, 4, 4)) "
                    f"or ('zephyr', (4, 4)) ({exc})"
                ) from exc
        return self._mocks[key]

    def run_child(self, child: Any, bqm: Any, seed: int | None, **params: Any) -> Any:
        # the seed reaches the mock's substitute sampler through an attribute of the shared
        # mock, so concurrent runs take turns (dwave-samplers takes seeds below 2^31)
        with self._lock:
            child.substitute_kwargs = {} if seed is None else {"seed": int(seed) % (2**31 - 1)}
            return super().run_child(child, bqm, seed, **params)


def cancel_at_sapi(sampleset: Any) -> None:
    """Cancel the problem behind a not yet resolved SampleSet at D-Wave's SAPI. The cloud
    client's ``Future`` is what dimod's ``SampleSet.from_future`` keeps (as ``_future``);
    its ``cancel()`` asks SAPI to drop the problem if it has not run yet."""
    future = getattr(sampleset, "_future", None)
    cancel = getattr(future, "cancel", None)
    if callable(cancel):
        cancel()


# ---------------------------------------------------------------------- Leap hybrid
@register("dwave-hybrid")
class DWaveHybridBackend(QuboSamplerBackend):
    """Leap's hybrid solvers: BQM for QUBOs, CQM for constrained problems (native constraints).

    ``form="auto"`` (default) sends a constrained problem as a CQM and anything else as a
    BQM; ``form="bqm"`` forces the penalised QUBO. ``time_limit`` is passed to the solver
    (raised to the solver's minimum for the problem's size). ``sampler=`` takes any dimod
    sampler with ``sample``/``sample_cqm`` in place of Leap's (for offline use and tests,
    e.g. ``dimod.ExactCQMSolver()``).

    Example:
        >>> import kakehashi  # doctest: +SKIP
        >>> r = kakehashi.solve(kakehashi.examples.random_assignment(20),
        ...                     backend="dwave-hybrid", time_limit=5)  # doctest: +SKIP
        >>> r.info["form"]  # doctest: +SKIP
        'cqm'
    """

    name = "dwave-hybrid"
    info = info_for("dwave-hybrid")
    default_time_limit = 5.0
    seed_reproducible = False
    warm_up_modules = ("dwave.system", "kakehashi.model.dimod_io")
    parameters = (
        Param("form", str, "auto", "'cqm' (native constraints), 'bqm' (penalised) or 'auto'",
              choices=("auto", "bqm", "cqm")),
        Param("sampler", object, None, "a dimod sampler standing in for Leap (offline use)"),
    )  # fmt: skip

    def vendor_parameters(self) -> tuple[str, ...]:
        return ("label",)

    def ensure_available(self, options: dict[str, Any]) -> None:
        # a local dimod sampler standing in for Leap needs no credentials
        if options.get("sampler") is None:
            require_available(self)

    def run(
        self, problem: Problem, *, time_limit: float, seed: int | None, options: dict[str, Any]
    ) -> RunOutput:
        options = dict(options)
        form = options.pop("form", "auto")
        use_cqm = form == "cqm" or (form == "auto" and not problem.is_unconstrained())
        if use_cqm:
            return self._run_cqm(problem, time_limit=time_limit, sampler=options.get("sampler"))
        # the BQM path: compile, penalties, adaptive loop (base class)
        return super().run(problem, time_limit=time_limit, seed=seed, options=options)

    def sample_qubo(
        self,
        qubo: Qubo,
        *,
        time_limit: float,
        seed: int | None,
        sampler: Any = None,
        **options: Any,
    ) -> SampleBatch:
        bqm = qubo.to_bqm()
        if sampler is None:
            from dwave.system import LeapHybridSampler

            sampler = LeapHybridSampler(token=os.environ.get(TOKEN_ENV))
            limit = max(float(time_limit), float(sampler.min_time_limit(bqm)))
            options = {"time_limit": limit, **options}
        t = time.perf_counter()
        ss = sampler.sample(bqm, **options)
        with progress.on_stop(lambda: cancel_at_sapi(ss)):
            ss.resolve()
        wall = time.perf_counter() - t
        X = samples_in_order(ss, qubo.num_variables)
        vendor, queue = _hybrid_timing(ss.info, wall)
        return SampleBatch(
            samples=X,
            energies=qubo.energies(X),
            info={"form": "bqm", "problem_id": ss.info.get("problem_id")},
            vendor_timing=vendor,
            queue_seconds=queue,
        )

    def _run_cqm(self, problem: Problem, *, time_limit: float, sampler: Any) -> RunOutput:
        from kakehashi.model.dimod_io import to_cqm

        t0 = time.perf_counter()
        cqm = to_cqm(problem)
        compile_seconds = time.perf_counter() - t0
        kwargs: dict[str, Any] = {}
        if sampler is None:
            from dwave.system import LeapHybridCQMSampler

            sampler = LeapHybridCQMSampler(token=os.environ.get(TOKEN_ENV))
            kwargs["time_limit"] = max(time_limit, float(sampler.min_time_limit(cqm)))
        t = time.perf_counter()
        ss = sampler.sample_cqm(cqm, **kwargs)
        ss.resolve()
        wall = time.perf_counter() - t
        names = problem.variable_names()
        variables = list(ss.variables)
        cols = np.array([variables.index(v) for v in names], dtype=np.int64)
        X = np.asarray(ss.record.sample, dtype=np.float64)[:, cols]
        vendor, queue = _hybrid_timing(ss.info, wall)
        return RunOutput(
            samples=X,
            compile_seconds=compile_seconds,
            queue_seconds=queue,
            solve_seconds=wall - queue,
            vendor_timing=vendor,
            info={"form": "cqm", "problem_id": ss.info.get("problem_id")},
        )


def _hybrid_timing(info: dict[str, Any], wall: float) -> tuple[dict[str, float], float]:
    """Hybrid solvers report ``run_time``, ``charge_time``, ``qpu_access_time`` in µs."""
    vendor = {
        k: float(info[k]) * US
        for k in ("run_time", "charge_time", "qpu_access_time")
        if isinstance(info.get(k), (int, float))
    }
    queue = max(wall - vendor["run_time"], 0.0) if "run_time" in vendor else 0.0
    return vendor, queue
