"""The Backend protocol, the registry, and the shared QUBO-sampler base class.

A backend is anything with ``name``, ``info``, ``available()`` and ``solve(problem, ...)``
returning a :class:`~kakehashi.result.Result`. Most heuristic and quantum backends only know
how to sample a :class:`~kakehashi.compile.qubo.Qubo`; they subclass
:class:`QuboSamplerBackend`, implement :meth:`QuboSamplerBackend.sample_qubo`, and inherit
compilation, the adaptive penalty loop, decoding, evaluation and timing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from kakehashi.errors import BackendUnavailableError, KakehashiError, UnsupportedError
from kakehashi.model.problem import Problem
from kakehashi.result import Result, Timing

MODALITIES = (
    "classical exact",
    "classical heuristic",
    "quantum-inspired",
    "quantum annealing",
    "quantum gate",
)


@dataclasses.dataclass
class BackendInfo:
    """What a backend is, what it accepts, and what it costs (see backends/catalog.toml)."""

    family: str
    modality: str
    vendor: str = "kakehashi"
    hardware: str = "CPU"
    technology: str = "CPU"
    accepts: tuple[str, ...] = ("qubo",)  # any of: qubo, constrained, mip, circuit
    max_variables: int | None = None
    connectivity: str = "all-to-all"
    max_shots: int | None = None
    price_model: dict[str, Any] = dataclasses.field(default_factory=dict)
    power_watts: float | None = None
    power_source: str = ""
    trl: int | None = None
    region: str = "local"
    extra: str | None = None  # pip extra that provides it
    description: str = ""


@dataclasses.dataclass
class Availability:
    ok: bool
    reason: str = ""
    fix: str = ""

    def __bool__(self) -> bool:
        return self.ok


@runtime_checkable
class Backend(Protocol):
    name: str
    info: BackendInfo

    def available(self) -> Availability: ...

    def solve(
        self,
        problem: Problem,
        *,
        time_limit: float | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> Result: ...


# ---------------------------------------------------------------------- registry
_FACTORIES: dict[str, Callable[[], Backend]] = {}
_INSTANCES: dict[str, Backend] = {}


def register(name: str) -> Callable[[Callable[[], Backend]], Callable[[], Backend]]:
    """Class/factory decorator: make ``name`` resolvable by :func:`get_backend`."""

    def deco(factory: Callable[[], Backend]) -> Callable[[], Backend]:
        _FACTORIES[name] = factory
        return factory

    return deco


def backend_names() -> list[str]:
    _load_builtin_backends()
    return list(_FACTORIES)


def get_backend(name: str | Backend) -> Backend:
    """Resolve a backend by name (or pass an instance through)."""
    if not isinstance(name, str):
        return name
    _load_builtin_backends()
    if name not in _FACTORIES:
        from difflib import get_close_matches

        close = get_close_matches(name, list(_FACTORIES), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KakehashiError(
            f"unknown backend {name!r}.{hint} Run `kakehashi backends` to list them."
        )
    if name not in _INSTANCES:
        _INSTANCES[name] = _FACTORIES[name]()
    return _INSTANCES[name]


def require_available(backend: Backend) -> None:
    avail = backend.available()
    if not avail:
        raise BackendUnavailableError(
            f"backend {backend.name!r} is not available: {avail.reason}. {avail.fix}".strip()
        )


def _load_builtin_backends() -> None:
    # Importing the package registers every built-in backend module (they are cheap to
    # import: vendor SDKs are imported lazily inside them).
    import kakehashi.backends  # noqa: F401


def module_available(module: str, extra: str) -> Availability:
    """Availability of a backend whose vendor SDK is the importable ``module``."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # a dotted name whose parent package is missing
        spec = None
    if spec is None:
        return Availability(
            False,
            f"Python package {module!r} is not installed",
            f"pip install 'kakehashi[{extra}]'",
        )
    return Availability(True)


# ---------------------------------------------------------------------- QUBO samplers
@dataclasses.dataclass
class SampleBatch:
    """What a QUBO sampler returns: 0/1 samples (k, n) over the Qubo's variables."""

    samples: np.ndarray
    energies: np.ndarray | None = None
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    vendor_timing: dict[str, float] = dataclasses.field(default_factory=dict)
    queue_seconds: float = 0.0


class QuboSamplerBackend:
    """Base for backends that sample QUBOs. Subclasses implement :meth:`sample_qubo`.

    ``solve`` compiles the problem to a Qubo (penalties for constraints, encodings for
    integers), samples it, decodes the samples to the problem's variables, evaluates them
    against the original problem and — for constrained problems — runs the adaptive penalty
    loop (raise the weights of constraints that stay violated, re-sample) while the time
    budget lasts.
    """

    name: str = "qubo-sampler"
    info: BackendInfo
    default_time_limit: float = 10.0

    def available(self) -> Availability:
        return Availability(True)

    def sample_qubo(
        self, qubo: Any, *, time_limit: float, seed: int | None, **options: Any
    ) -> SampleBatch:
        raise NotImplementedError

    def estimate(self, problem: Problem, **options: Any) -> Any:
        """Money and energy of a run, before it runs, from the catalog (catalog.estimate)."""
        from kakehashi.backends.catalog import estimate

        return estimate(self, problem, **options)

    def warm_up(self) -> None:
        """One-time preparation before the clock starts (e.g. compiling kernels); no-op."""

    def check_size(self, problem: Problem, qubo: Any) -> None:
        limit = self.info.max_variables
        if limit is not None and qubo.num_variables > limit:
            raise UnsupportedError(
                f"backend {self.name!r} takes at most {limit} binary variables; this problem "
                f"compiles to {qubo.num_variables}. Use a classical backend such as 'tabu' or "
                "'sa', or reduce the problem"
            )

    def solve(
        self,
        problem: Problem,
        *,
        time_limit: float | None = None,
        seed: int | None = None,
        penalty: str | dict[str, float] = "adaptive",
        integer_encoding: str = "log",
        max_rounds: int = 8,
        **options: Any,
    ) -> Result:
        from kakehashi.compile.penalty import adaptive_solve

        require_available(self)
        # one-time costs (JIT compilation of kernels on a fresh install) must not eat the
        # user's time budget: pay them before the clock starts, and report them
        t_warm = time.perf_counter()
        self.warm_up()
        warm_up_seconds = time.perf_counter() - t_warm
        t0 = time.perf_counter()
        budget = self.default_time_limit if time_limit is None else float(time_limit)
        run = adaptive_solve(
            problem,
            sampler=lambda q, tl, s: self.sample_qubo(q, time_limit=tl, seed=s, **options),
            check=lambda q: self.check_size(problem, q),
            time_limit=budget,
            seed=seed,
            penalty=penalty,
            integer_encoding=integer_encoding,
            max_rounds=max_rounds,
        )
        timing = Timing(
            compile=run.compile_seconds,
            queue=run.queue_seconds,
            solve=run.solve_seconds,
            decode=run.decode_seconds,
            vendor=run.vendor_timing,
        )
        result = Result.from_samples(
            problem,
            run.samples,
            backend=self.name,
            timing=timing,
            seed=seed,
            backend_info={
                "modality": self.info.modality,
                "vendor": self.info.vendor,
                "hardware": self.info.hardware,
            },
            info=run.info,
        )
        result.timing.total = time.perf_counter() - t0
        if warm_up_seconds > 0.05:
            result.info["warm_up_seconds"] = warm_up_seconds
        return result
