"""Open heuristics from others: dwave-samplers (SA, tabu, steepest descent) and OpenJij (SA, SQA).

They let users compare kakehashi's own engines with the field's open-source samplers on the
same Qubo, the same penalty loop and the same evaluation. Each is a
:class:`~kakehashi.backends.base.QuboSamplerBackend`; what differs is how the time limit
is honoured, since none of these samplers can be stopped mid-read:

* ``dwave-sa``, ``dwave-sd``, ``openjij-sa``, ``openjij-sqa`` run *batches* of reads until
  the time limit (the next batch is sized from the measured cost of a read so that it ends
  before the deadline), or until ``num_reads`` reads (default: at most ``max_reads``) are
  done. The best ``keep`` distinct samples are returned.
* ``dwave-tabu`` has its own clock: ``timeout`` (ms per read) is the time limit split over
  its ``num_reads`` reads.

Seeds: each call gets its own seed drawn reproducibly from the run's seed. OpenJij applies
one seed to every read of a call (all reads come out identical), so OpenJij is called one
read at a time, each with its own seed.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from kakehashi.backends.base import Availability, QuboSamplerBackend, SampleBatch, register
from kakehashi.backends.catalog import catalog_availability, info_for
from kakehashi.backends.params import Param
from kakehashi.compile.qubo import Qubo
from kakehashi.errors import KakehashiError

DEFAULT_KEEP = 64
_DEADLINE_SHARE = 0.9  # size batches to end by 90 % of what is left: reads vary in cost
_DENSE_LIMIT = 4000  # OpenJij models are built from a dense matrix up to this many variables


def run_batches(
    call: Callable[[int, int], np.ndarray],
    qubo: Qubo,
    *,
    time_limit: float,
    seed: int | None,
    num_reads: int | None,
    max_reads: int,
    keep: int = DEFAULT_KEEP,
    reads_per_call: int | None = None,
    started: float | None = None,
    on_improve: Callable[[np.ndarray, float], None] | None = None,
) -> SampleBatch:
    """Call ``call(reads, seed) -> (k, n) 0/1 samples`` until the time limit or the reads.

    The first call makes one read, to measure its cost; later calls are sized to end before
    the deadline. Without ``num_reads`` it stops at ``max_reads`` reads; with it, at exactly
    that many (unless time runs out first). At least one read is always made. Keeps the
    ``keep`` lowest-energy distinct samples. ``started`` (a ``time.perf_counter()`` value)
    starts the clock earlier, so that preparing the sampler counts against the limit.
    ``on_improve(row, energy)`` is called after each call that improved the best sample.

    Example:
        >>> q = Qubo(np.array([1.0, -1.0]), np.zeros((2, 2)))
        >>> batch = run_batches(lambda k, s: np.tile([0, 1], (k, 1)), q, time_limit=0.1,
        ...                     seed=1, num_reads=5, max_reads=100)
        >>> batch.samples.tolist(), batch.info["reads"]
        ([[0, 1]], 5)
    """
    if num_reads is not None and (not isinstance(num_reads, (int, np.integer)) or num_reads < 1):
        raise KakehashiError(f"num_reads must be a positive integer, got {num_reads!r}")
    target = int(num_reads) if num_reads is not None else int(max_reads)
    seeds = np.random.SeedSequence(seed)
    # the clock starts when the round started (``started``): building the vendor's model
    # is part of the time limit
    start = time.perf_counter() if started is None else started
    deadline = start + float(time_limit)
    pool = np.zeros((0, qubo.num_variables), dtype=np.uint8)
    pool_e = np.zeros(0)
    done = calls = 0
    per_read: float | None = None
    sampler_seconds = 0.0
    while done < target:
        remaining = deadline - time.perf_counter()
        if per_read is None:
            reads = 1
        else:
            if remaining < per_read:
                break  # one more read would overrun the time limit
            reads = int(_DEADLINE_SHARE * remaining / max(per_read, 1e-9))
            reads = max(1, min(reads, target - done, 4 * max(done, 1)))
        if reads_per_call is not None:
            reads = min(reads, reads_per_call)
        call_seed = int(seeds.spawn(1)[0].generate_state(1, dtype=np.uint32)[0] % 2**31)
        t = time.perf_counter()
        X = np.asarray(call(reads, call_seed), dtype=np.uint8)
        elapsed = time.perf_counter() - t
        sampler_seconds += elapsed
        per_read = elapsed / max(reads, 1)
        done += reads
        calls += 1
        best_before = pool_e[0] if pool_e.size else np.inf
        pool, pool_e = _keep_best(np.vstack([pool, X]), qubo, keep)
        if on_improve is not None and pool_e.size and pool_e[0] < best_before:
            on_improve(pool[0].astype(np.int8), float(pool_e[0]))
    return SampleBatch(
        samples=pool,
        energies=pool_e,
        info={"reads": done, "calls": calls, "seconds_per_read": per_read},
        vendor_timing={"sampler_seconds": sampler_seconds},
    )


def _keep_best(X: np.ndarray, qubo: Qubo, keep: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.unique(X, axis=0)
    e = qubo.energies(X)
    order = np.argsort(e, kind="stable")[: max(1, keep)]
    return X[order], e[order]


def sampleset_to_array(sampleset: Any, n: int) -> np.ndarray:
    """A dimod/OpenJij sample set's samples as a (k, n) uint8 array in variable order 0..n-1."""
    cols = np.asarray(list(sampleset.variables), dtype=np.int64)
    X = np.zeros((len(sampleset.record), n), dtype=np.uint8)
    X[:, cols] = np.asarray(sampleset.record.sample, dtype=np.int8)
    return X


_READS = Param("num_reads", int, None, "reads in all (default: by the clock)", low=1, high=10**9)
_KEEP = Param("keep", int, DEFAULT_KEEP, "best distinct samples kept", low=1, high=10**6)


class _OpenSampler(QuboSamplerBackend):
    """Availability from the catalog (the vendor package must be importable); options the
    vendor's sampler declares (dimod ``parameters``) pass through to it."""

    default_time_limit = 10.0
    warm_up_modules = ("dwave.samplers",)
    vendor_option_errors = (ValueError, TypeError)

    def vendor_sampler(self) -> Any:
        """An instance of the vendor's sampler (to read the parameters it declares)."""
        raise NotImplementedError

    def vendor_parameters(self) -> set[str]:
        sampler = self.vendor_sampler()
        params = getattr(sampler, "parameters", None)
        if isinstance(params, dict):
            names = set(params)
        else:
            names = set(inspect.signature(sampler.sample).parameters)
        return names - {"self", "bqm", "seed", "num_reads", "kwargs"}

    def available(self) -> Availability:
        return catalog_availability(self.name)

    def _dimod_batches(
        self,
        sampler: Any,
        qubo: Qubo,
        *,
        started: float,
        options: dict[str, Any],
        sample_kwargs: dict[str, Any] | None = None,
        **batching: Any,
    ) -> SampleBatch:
        """Run a dimod sampler (``sampler.sample(bqm, num_reads=, seed=, ...)``) in batches
        of reads through :func:`run_batches` (options were checked against the declared
        and the sampler's own parameters before the run)."""
        bqm = qubo.to_bqm()
        n = qubo.num_variables
        kwargs = {**(sample_kwargs or {}), **options}

        def call(reads: int, s: int) -> np.ndarray:
            return sampleset_to_array(sampler.sample(bqm, num_reads=reads, seed=s, **kwargs), n)

        return run_batches(call, qubo, started=started, **batching)


# ---------------------------------------------------------------------- dwave-samplers
@register("dwave-sa")
class DWaveSABackend(_OpenSampler):
    """dwave-samplers' ``SimulatedAnnealingSampler`` in batches of reads until the time limit.

    Options: ``num_reads``, ``max_reads`` (256), ``num_sweeps`` (1000), ``beta_range``,
    ``beta_schedule_type``, ``keep`` (64).

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="dwave-sa",
        ...                     time_limit=0.5, seed=1)
        >>> r.objective
        -5.0
    """

    reports_improvements = True  # it samples in batches: calls back after each

    name = "dwave-sa"
    info = info_for("dwave-sa")
    reproducible_options: ClassVar[dict[str, Any]] = {"num_reads": 8}
    parameters = (
        _READS,
        Param("max_reads", int, 256, "reads at most without num_reads", low=1, high=10**9),
        Param("num_sweeps", int, 1000, "sweeps per read", low=1, high=10**9),
        _KEEP,
    )

    def vendor_sampler(self) -> Any:
        from dwave.samplers import SimulatedAnnealingSampler

        return SimulatedAnnealingSampler()

    def sample_qubo(
        self,
        qubo: Qubo,
        *,
        time_limit: float,
        seed: int | None,
        num_reads: int | None = None,
        max_reads: int = 256,
        num_sweeps: int = 1000,
        keep: int = DEFAULT_KEEP,
        on_improve: Callable[[np.ndarray, float], None] | None = None,
        **options: Any,
    ) -> SampleBatch:
        from dwave.samplers import SimulatedAnnealingSampler

        started = time.perf_counter()  # after the import: see _OpenJijBackend.sample_qubo

        batch = self._dimod_batches(
            SimulatedAnnealingSampler(),
            qubo,
            started=started,
            options=options,
            on_improve=on_improve,
            sample_kwargs={"num_sweeps": num_sweeps},
            time_limit=time_limit,
            seed=seed,
            num_reads=num_reads,
            max_reads=max_reads,
            keep=keep,
        )
        batch.info["num_sweeps"] = num_sweeps
        return batch


@register("dwave-tabu")
class DWaveTabuBackend(_OpenSampler):
    """dwave-samplers' ``TabuSampler`` (multistart tabu search): ``num_reads`` reads (4),
    each given ``timeout`` = its share of the time limit in milliseconds.

    Options: ``num_reads``, ``timeout`` (ms per read; overrides the share), ``tenure``,
    ``num_restarts``, ``energy_threshold``.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="dwave-tabu",
        ...                     time_limit=0.2, seed=1)
        >>> r.objective
        -5.0
    """

    name = "dwave-tabu"
    info = info_for("dwave-tabu")
    seed_reproducible = False  # its reads end by a clock (timeout), not by work
    parameters = (
        Param("num_reads", int, 4, "tabu reads (one after another)", low=1, high=10**6),
        Param("timeout", int, None, "ms per read (default: the time limit's share)",
              low=1, high=10**9),
    )  # fmt: skip

    def vendor_sampler(self) -> Any:
        from dwave.samplers import TabuSampler

        return TabuSampler()

    def sample_qubo(
        self,
        qubo: Qubo,
        *,
        time_limit: float,
        seed: int | None,
        num_reads: int = 4,
        timeout: int | None = None,
        **options: Any,
    ) -> SampleBatch:
        from dwave.samplers import TabuSampler

        sampler = TabuSampler()
        if timeout is None:
            # the sampler's clock is per read and the reads run one after another
            timeout = max(1, int(1000.0 * _DEADLINE_SHARE * time_limit / num_reads))
        s = None if seed is None else int(np.random.SeedSequence(seed).generate_state(1)[0])
        t = time.perf_counter()
        ss = sampler.sample(
            qubo.to_bqm(), num_reads=int(num_reads), timeout=int(timeout), seed=s, **options
        )
        elapsed = time.perf_counter() - t
        X = sampleset_to_array(ss, qubo.num_variables)
        return SampleBatch(
            samples=X,
            energies=qubo.energies(X),
            info={"reads": int(num_reads), "timeout_ms": int(timeout)},
            vendor_timing={"sampler_seconds": elapsed},
        )


@register("dwave-sd")
class DWaveSteepestDescentBackend(_OpenSampler):
    """dwave-samplers' ``SteepestDescentSolver`` from random starts, in batches until the
    time limit or ``max_reads`` (1024) descents: a greedy local-search baseline.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="dwave-sd",
        ...                     time_limit=0.5, seed=1)
        >>> r.feasible
        True
    """

    reports_improvements = True  # it samples in batches: calls back after each

    name = "dwave-sd"
    info = info_for("dwave-sd")
    reproducible_options: ClassVar[dict[str, Any]] = {"num_reads": 8}
    parameters = (
        _READS,
        Param("max_reads", int, 1024, "descents at most without num_reads", low=1, high=10**9),
        _KEEP,
    )

    def vendor_sampler(self) -> Any:
        from dwave.samplers import SteepestDescentSolver

        return SteepestDescentSolver()

    def sample_qubo(
        self,
        qubo: Qubo,
        *,
        time_limit: float,
        seed: int | None,
        num_reads: int | None = None,
        max_reads: int = 1024,
        keep: int = DEFAULT_KEEP,
        on_improve: Callable[[np.ndarray, float], None] | None = None,
        **options: Any,
    ) -> SampleBatch:
        from dwave.samplers import SteepestDescentSolver

        started = time.perf_counter()  # after the import: see _OpenJijBackend.sample_qubo

        return self._dimod_batches(
            SteepestDescentSolver(),
            qubo,
            started=started,
            options=options,
            on_improve=on_improve,
            time_limit=time_limit,
            seed=seed,
            num_reads=num_reads,
            max_reads=max_reads,
            keep=keep,
        )


# ---------------------------------------------------------------------- OpenJij
def openjij_model(qubo: Qubo) -> Any:
    """The Qubo as an OpenJij (cimod) sparse BQM, built once per round.

    From a dense matrix up to 4000 variables (hundreds of times faster than OpenJij's
    conversion of a dimod BQM's dictionaries), from dictionaries beyond.
    """
    import scipy.sparse as sp
    from openjij.model.model import BinaryQuadraticModel, bqm_from_numpy_matrix

    n = qubo.num_variables
    upper = sp.triu(qubo.J, k=1)
    if n <= _DENSE_LIMIT:
        M = upper.toarray()
        M[np.diag_indices(n)] = qubo.h
        return bqm_from_numpy_matrix(M, offset=qubo.offset, vartype="BINARY", sparse=True)
    c = upper.tocoo()
    linear = dict(enumerate(qubo.h.tolist()))
    quadratic = {
        (int(i), int(j)): float(v)
        for i, j, v in zip(c.row.tolist(), c.col.tolist(), c.data.tolist(), strict=True)
    }
    return BinaryQuadraticModel(linear, quadratic, qubo.offset, "BINARY", sparse=True)


class _OpenJijBackend(_OpenSampler):
    reports_improvements = True  # it samples in batches: calls back after each
    sampler_class = "SASampler"
    warm_up_modules = ("openjij",)
    reproducible_options: ClassVar[dict[str, Any]] = {"num_reads": 3}
    default_sweeps = 1000
    parameters = (
        _READS,
        Param("max_reads", int, 256, "reads at most without num_reads", low=1, high=10**9),
        Param("num_sweeps", int, None, "sweeps per read (default 1000)", low=1, high=10**9),
        _KEEP,
    )

    def vendor_sampler(self) -> Any:
        import openjij

        return getattr(openjij, self.sampler_class)()

    def vendor_parameters(self) -> set[str]:
        sampler = self.vendor_sampler()
        return set(inspect.signature(sampler.sample).parameters) - {
            "self", "bqm", "seed", "num_reads", "kwargs", "num_sweeps"
        }  # fmt: skip

    def sample_qubo(
        self,
        qubo: Qubo,
        *,
        time_limit: float,
        seed: int | None,
        num_reads: int | None = None,
        max_reads: int = 256,
        num_sweeps: int | None = None,
        keep: int = DEFAULT_KEEP,
        on_improve: Callable[[np.ndarray, float], None] | None = None,
        **options: Any,
    ) -> SampleBatch:
        # importing the SDK (seconds on a cold start) is not part of the run's clock: it
        # would inflate the first read's cost estimate and cut the batch short
        import openjij

        started = time.perf_counter()

        sampler = getattr(openjij, self.sampler_class)()
        model = openjij_model(qubo)
        n = qubo.num_variables
        sweeps = self.default_sweeps if num_sweeps is None else int(num_sweeps)

        extra = dict(options)

        def call(reads: int, s: int) -> np.ndarray:
            response = sampler.sample(model, num_reads=reads, num_sweeps=sweeps, seed=s, **extra)
            # SASampler estimates its β range on every call (half the cost of a small call);
            # it does not depend on the seed, so later calls reuse the first call's range
            info = getattr(sampler, "schedule_info", {})
            if self.sampler_class == "SASampler" and "beta_min" in info:
                extra.setdefault("beta_min", float(info["beta_min"]))
                extra.setdefault("beta_max", float(info["beta_max"]))
            return sampleset_to_array(response, n)

        batch = run_batches(
            call,
            qubo,
            time_limit=time_limit,
            seed=seed,
            num_reads=num_reads,
            max_reads=max_reads,
            keep=keep,
            reads_per_call=1,  # OpenJij gives every read of a call the same seed
            started=started,
            on_improve=on_improve,
        )
        batch.info["num_sweeps"] = sweeps
        return batch


@register("openjij-sa")
class OpenJijSABackend(_OpenJijBackend):
    """OpenJij's ``SASampler``, one seeded read per call until the time limit or
    ``max_reads`` (256). Options: ``num_sweeps`` (1000), ``beta_min``, ``beta_max``.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="openjij-sa",
        ...                     time_limit=0.5, seed=1)
        >>> r.objective
        -5.0
    """

    name = "openjij-sa"
    info = info_for("openjij-sa")
    sampler_class = "SASampler"


@register("openjij-sqa")
class OpenJijSQABackend(_OpenJijBackend):
    """OpenJij's ``SQASampler`` (path-integral Monte Carlo of quantum annealing), one seeded
    read per call. Options: ``num_sweeps`` (1000), ``trotter`` (4), ``gamma``, ``beta``.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="openjij-sqa",
        ...                     time_limit=0.5, seed=1)
        >>> r.objective
        -5.0
    """

    name = "openjij-sqa"
    info = info_for("openjij-sqa")
    sampler_class = "SQASampler"
