"""The backend contract: one base class, the registry, and the shared QUBO-sampler base.

Every backend derives from :class:`BaseBackend`, which holds the one path a solve takes::

    available? → validate options (declared ``parameters``) → check(problem) → estimate
    (and the ``max_cost`` cap) → warm_up (before the clock) → run → assemble ONE Result

Subclasses implement :meth:`BaseBackend.run` (returning a :class:`RunOutput` in the
problem's own variables) — or, for backends that only sample QUBOs,
:meth:`QuboSamplerBackend.sample_qubo`, inheriting compilation, the adaptive penalty loop
(:mod:`kakehashi.backends.penalty_loop`), decoding and evaluation. Result assembly exists
once, in :meth:`BaseBackend.assemble`.

Backends are found by name through the registry: the built-in modules register theirs on
import, and third-party distributions add theirs through the ``kakehashi.backends`` entry
point group (see docs/backends.md, "Plug in your own solver").
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from kakehashi.backends.applicability import Applicability, check_applicability
from kakehashi.backends.arguments import check_seed, check_time_limit
from kakehashi.backends.params import Param, merged, validate_options
from kakehashi.errors import (
    BackendUnavailableError,
    ModelError,
    OptionError,
    UnsupportedError,
)
from kakehashi.model.problem import INTEGER, Problem
from kakehashi.result import Result, Timing, package_versions

ENTRY_POINT_GROUP = "kakehashi.backends"


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
    """What the rest of kakehashi relies on; :class:`BaseBackend` provides all of it."""

    name: str
    info: BackendInfo

    def available(self) -> Availability: ...

    def check(self, problem: Problem) -> Applicability: ...

    def estimate(self, problem: Problem, *, time_limit: float | None = None, **options: Any): ...

    def warm_up(self) -> None: ...

    def solve(
        self,
        problem: Problem,
        *,
        time_limit: float | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> Result: ...


@dataclasses.dataclass
class RunOutput:
    """What :meth:`BaseBackend.run` hands back: samples in the problem's own variables.

    ``evaluation`` is ``problem.evaluate(samples)`` when the backend already computed it
    (then nothing is evaluated twice); ``status`` becomes ``Result.status`` when there is
    no sample (``infeasible``, ``no_solution``, ...).
    """

    samples: np.ndarray
    evaluation: dict[str, np.ndarray] | None = None
    compile_seconds: float = 0.0
    queue_seconds: float = 0.0
    solve_seconds: float = 0.0
    decode_seconds: float = 0.0
    vendor_timing: dict[str, float] = dataclasses.field(default_factory=dict)
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    status: str | None = None


class BaseBackend:
    """The base every backend derives from; see the module docstring for the path.

    A subclass sets ``name``, ``info`` (usually ``catalog.info_for(name)``), declares its
    options in ``parameters`` and implements :meth:`run`. Class attributes that tune the
    shared path: ``default_time_limit`` (seconds when the caller gives none),
    ``needs_bounded_integers`` (integers must have finite bounds), ``versioned`` (packages
    whose versions go into ``Result.versions``), ``seed_reproducible`` (same seed, same
    samples, when the run ends by work rather than by the clock).

    Example:
        >>> import kakehashi
        >>> backend = kakehashi.get_backend("tabu")
        >>> isinstance(backend, BaseBackend), backend.check(kakehashi.examples.knapsack(6)).ok
        (True, True)
    """

    name: str = "backend"
    info: BackendInfo
    parameters: tuple[Param, ...] = ()
    default_time_limit: float = 10.0
    needs_bounded_integers: bool = True
    versioned: tuple[str, ...] = ()
    seed_reproducible: bool = True
    #: modules imported by :meth:`warm_up`, before the clock: a vendor SDK's first import
    #: (seconds on a cold start) is a one-off cost, not part of a run's time limit
    warm_up_modules: tuple[str, ...] = ()
    #: options that make a run end by its work rather than the clock (conformance kit)
    reproducible_options: ClassVar[dict[str, Any]] = {}

    # ------------------------------------------------------------------ declarations
    def shared_parameters(self) -> tuple[Param, ...]:
        """Options the family's base class takes for every member (e.g. ``penalty``)."""
        return ()

    def all_parameters(self) -> tuple[Param, ...]:
        """Every declared option: the shared ones, then the backend's own (which win)."""
        return merged(self.shared_parameters(), self.parameters)

    def vendor_parameters(self) -> Iterable[str]:
        """Names a vendor SDK takes and checks itself (passed on untyped); none by default."""
        return ()

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` checked against the declarations; :class:`OptionError` otherwise."""
        declared = {p.name for p in self.all_parameters()}
        vendor: Iterable[str] = ()
        if set(options) - declared:
            vendor = self.vendor_parameters()  # only looked up when needed (imports)
        return validate_options(self.name, self.all_parameters(), options, vendor=vendor)

    # ------------------------------------------------------------------ the protocol
    def available(self) -> Availability:
        """From the catalog (its Python packages importable, credentials set); a backend
        the catalog does not describe (a plug-in) is available unless it says otherwise."""
        from kakehashi.backends.catalog import CatalogError, catalog_availability

        try:
            return catalog_availability(self.name)
        except CatalogError:
            return Availability(True)

    def ensure_available(self, options: dict[str, Any]) -> None:
        """Raise :class:`BackendUnavailableError` when this run cannot happen here."""
        require_available(self)

    def variable_limit(self) -> int | None:
        """Variables beyond which :meth:`check` refuses (the catalog's ``max_variables``)."""
        return getattr(self.info, "max_variables", None)

    def check(self, problem: Problem) -> Applicability:
        """Whether this backend takes ``problem``, and why not (catalog ``accepts``/limits).

        Example:
            >>> import kakehashi
            >>> p = kakehashi.Problem.from_arrays(linear=[1.0, -1.0], vtype="continuous",
            ...                                   lower=[0, 0], upper=[1, 1])
            >>> report = kakehashi.get_backend("cpsat").check(p)
            >>> report.ok, "continuous" in report.reasons[0]
            (False, True)
        """
        return check_applicability(
            self.name,
            self.info,
            problem,
            variable_limit=self.variable_limit(),
            encodes_integers=self.needs_bounded_integers,
        )

    def estimate(
        self, problem: Problem | None = None, *, time_limit: float | None = None, **options: Any
    ) -> Any:
        """Money and energy of a run, before it runs (:func:`catalog.estimate`, priced by
        :mod:`kakehashi.backends.pricing`).

        Example:
            >>> import kakehashi
            >>> est = kakehashi.get_backend("tabu").estimate(time_limit=10)
            >>> est.currency, est.seconds, est.upper_bound
            ('USD', 10.0, True)
        """
        from kakehashi.backends.catalog import estimate

        if time_limit is not None:
            options["time_limit"] = time_limit
        return estimate(self, problem, **options)

    def warm_up(self) -> None:
        """One-off preparation before the clock starts: import ``warm_up_modules``.
        Subclasses add their own (compiling kernels) and call this."""
        import importlib

        for module in self.warm_up_modules:
            importlib.import_module(module)

    def run(
        self, problem: Problem, *, time_limit: float, seed: int | None, options: dict[str, Any]
    ) -> RunOutput:
        """Solve ``problem`` within ``time_limit`` seconds; subclasses implement it."""
        raise NotImplementedError(f"backend {self.name!r} does not implement run()")

    def finish(self, result: Result, output: RunOutput) -> None:
        """Adjust the assembled Result (e.g. a gap against the solver's bound); no-op."""

    # ------------------------------------------------------------------ the shared path
    def solve(
        self,
        problem: Problem,
        *,
        time_limit: float | None = None,
        seed: int | None = None,
        max_cost: float | None = None,
        **options: Any,
    ) -> Result:
        """Validate, check, cap, warm up, run, and assemble one :class:`Result`.

        Example:
            >>> import kakehashi
            >>> r = kakehashi.get_backend("exact").solve(kakehashi.examples.small_maxcut())
            >>> r.objective
            -5.0
        """
        time_limit = check_time_limit(time_limit)
        seed = check_seed(seed)
        if not isinstance(problem, Problem):
            raise ModelError(
                f"{self.name}.solve takes a kakehashi.Problem, got {type(problem).__name__}; "
                "use kakehashi.solve(...) for models, files and other forms"
            )
        self.ensure_available(options)
        options = self.validate_options(options)
        problem.validate()
        report = self.check(problem)
        if not report:
            raise UnsupportedError(report.message(self.name))
        if max_cost is not None:
            from kakehashi.backends.catalog import check_budget

            check_budget(self.estimate(problem, time_limit=time_limit, **options), max_cost)
        # one-time costs (JIT compilation of kernels on a fresh install) must not eat the
        # user's time budget: pay them before the clock starts, and report them as measured
        t_warm = time.perf_counter()
        self.warm_up()
        warm_up_seconds = time.perf_counter() - t_warm
        started = time.perf_counter()
        cpu_started = time.process_time()
        budget = self.default_time_limit if time_limit is None else time_limit
        output = self.run(problem, time_limit=budget, seed=seed, options=options)
        return self.assemble(
            problem,
            output,
            seed=seed,
            started=started,
            cpu_seconds=time.process_time() - cpu_started,
            warm_up_seconds=warm_up_seconds,
        )

    def assemble(
        self,
        problem: Problem,
        output: RunOutput,
        *,
        seed: int | None,
        started: float,
        cpu_seconds: float | None = None,
        warm_up_seconds: float = 0.0,
    ) -> Result:
        """The one place a :class:`Result` is built from a run (every backend comes here)."""
        samples = np.asarray(output.samples, dtype=np.float64).reshape(-1, problem.num_variables)
        result = Result.from_samples(
            problem,
            samples,
            backend=self.name,
            timing=Timing(
                compile=output.compile_seconds,
                queue=output.queue_seconds,
                solve=output.solve_seconds,
                decode=output.decode_seconds,
                vendor=dict(output.vendor_timing),
            ),
            seed=seed,
            evaluation=output.evaluation,
            backend_info={
                "modality": self.info.modality,
                "vendor": self.info.vendor,
                "hardware": self.info.hardware,
            },
            info=output.info,
            versions=package_versions(self.versioned),
        )
        if output.status is not None and result.num_samples == 0:
            result.status = output.status
        from kakehashi.backends.pricing import run_resources

        result.resources.cpu_seconds = cpu_seconds
        for key, value in run_resources(self, cpu_seconds).items():
            setattr(result.resources, key, value)
        self.finish(result, output)
        if warm_up_seconds > 0.05:
            result.info["warm_up_seconds"] = warm_up_seconds
        result.timing.total = time.perf_counter() - started
        return result


# ---------------------------------------------------------------------- registry
_FACTORIES: dict[str, Callable[[], Backend]] = {}
_INSTANCES: dict[str, Backend] = {}
_PLUGINS_LOADED = False


def register(name: str) -> Callable[[Callable[[], Backend]], Callable[[], Backend]]:
    """Class/factory decorator: make ``name`` resolvable by :func:`get_backend`."""

    def deco(factory: Callable[[], Backend]) -> Callable[[], Backend]:
        _FACTORIES[name] = factory
        _INSTANCES.pop(name, None)
        return factory

    return deco


def backend_names() -> list[str]:
    """Every registered backend: built-in ones first, then plug-ins (entry points)."""
    _load_builtin_backends()
    return list(_FACTORIES)


def get_backend(name: str | Backend) -> Backend:
    """Resolve a backend by name (or pass an instance through).

    Example:
        >>> get_backend("tabu").name
        'tabu'
        >>> get_backend("tabbu")
        Traceback (most recent call last):
        ...
        kakehashi.errors.OptionError: unknown backend 'tabbu'. Did you mean tabu? Run \
`kakehashi backends` to list them.
    """
    if not isinstance(name, str):
        # an instance passes through: a BaseBackend, or any object with a name and a
        # solve() (wrappers such as the bench's counting backends)
        if isinstance(name, BaseBackend) or (
            isinstance(getattr(name, "name", None), str) and callable(getattr(name, "solve", None))
        ):
            return name
        raise OptionError(
            f"backend={name!r} is not a backend: pass a name such as 'tabu' (see "
            "`kakehashi backends`), 'auto', or an object derived from "
            "kakehashi.backends.BaseBackend"
        )
    _load_builtin_backends()
    if name not in _FACTORIES:
        from difflib import get_close_matches

        close = get_close_matches(name, list(_FACTORIES), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise OptionError(f"unknown backend {name!r}.{hint} Run `kakehashi backends` to list them.")
    if name not in _INSTANCES:
        _INSTANCES[name] = _FACTORIES[name]()
    return _INSTANCES[name]


def run_on(
    backend: Backend,
    problem: Problem,
    *,
    time_limit: float | None,
    seed: int | None,
    max_cost: float | None = None,
    **options: Any,
) -> Result:
    """Run ``problem`` on ``backend`` through the shared path (what ``kakehashi.solve`` does
    once it has chosen a backend); a protocol-only backend gets the same early checks.

    Example:
        >>> import kakehashi
        >>> run_on(get_backend("exact"), kakehashi.examples.small_maxcut(), time_limit=None,
        ...        seed=1).objective
        -5.0
    """
    if isinstance(backend, BaseBackend):
        return backend.solve(
            problem, time_limit=time_limit, seed=seed, max_cost=max_cost, **options
        )
    require_available(backend)
    check = getattr(backend, "check", None)
    if callable(check):
        report = check(problem)
        if not report:
            raise UnsupportedError(report.message(backend.name))
    if max_cost is not None:
        from kakehashi.backends.catalog import check_budget, estimate_run

        check_budget(estimate_run(backend, problem, time_limit=time_limit, **options), max_cost)
    return backend.solve(problem, time_limit=time_limit, seed=seed, **options)


def require_available(backend: Backend) -> None:
    avail = backend.available()
    if not avail:
        raise BackendUnavailableError(
            f"backend {backend.name!r} is not available: {avail.reason}. {avail.fix}".strip()
        )


def _load_builtin_backends() -> None:
    # Importing the package registers every built-in backend module (they are cheap to
    # import: vendor SDKs are imported lazily inside them); then the plug-ins.
    import kakehashi.backends  # noqa: F401

    load_plugins()


def load_plugins(*, reload: bool = False) -> list[str]:
    """Register the backends third-party distributions declare in the ``kakehashi.backends``
    entry point group; returns their names. A plug-in never shadows a built-in name.

    Each entry point names a backend class (or a factory returning an instance), e.g. in the
    plug-in's ``pyproject.toml``::

        [project.entry-points."kakehashi.backends"]
        greedy = "my_package.greedy:GreedyBackend"

    It is imported only when the backend is first used; an import error then becomes a
    :class:`BackendUnavailableError` naming the distribution.
    """
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED and not reload:
        return []
    _PLUGINS_LOADED = True
    from importlib.metadata import entry_points

    added = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _FACTORIES and not getattr(_FACTORIES[ep.name], "_kakehashi_plugin", 0):
            continue  # built-ins win: a plug-in cannot replace 'tabu'
        factory = _plugin_factory(ep)
        _FACTORIES[ep.name] = factory
        _INSTANCES.pop(ep.name, None)
        added.append(ep.name)
    return added


def _plugin_factory(ep: Any) -> Callable[[], Backend]:
    def factory() -> Backend:
        dist = getattr(getattr(ep, "dist", None), "name", None) or ep.value
        try:
            target = ep.load()
            backend = target() if callable(target) else target
        except Exception as exc:  # a plug-in's own import error: say whose it is
            raise BackendUnavailableError(
                f"backend {ep.name!r} (plug-in {dist}, entry point {ep.value}) failed to "
                f"load: {type(exc).__name__}: {exc}. Reinstall or fix that package"
            ) from exc
        if not isinstance(backend, BaseBackend):
            raise BackendUnavailableError(
                f"backend {ep.name!r} (plug-in {dist}) is a {type(backend).__name__}, not a "
                "kakehashi.backends.BaseBackend; plug-ins must derive from it"
            )
        if getattr(backend, "name", None) != ep.name:
            backend.name = ep.name
        return backend

    factory._kakehashi_plugin = 1  # type: ignore[attr-defined]
    return factory


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


def _check_penalty(value: Any) -> str | None:
    if value in ("adaptive", "fixed") or isinstance(value, dict):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return None
    return "use 'adaptive', 'fixed', a positive number scaling the automatic weights, or a dict"


QUBO_PARAMETERS = (
    Param(
        "penalty",
        (str, int, float, dict),
        "adaptive",
        "constraint weights: 'adaptive', 'fixed', a scale, or {group: weight}",
        check=_check_penalty,
    ),
    Param(
        "integer_encoding",
        str,
        "log",
        "how integers become binaries",
        choices=("log", "unary"),
    ),
    Param("max_rounds", int, 8, "penalty rounds at most", low=1, high=1000),
)


class QuboSamplerBackend(BaseBackend):
    """Base for backends that sample QUBOs. Subclasses implement :meth:`sample_qubo`.

    :meth:`run` compiles the problem to a Qubo (penalties for constraints, encodings for
    integers), samples it, decodes the samples to the problem's variables, evaluates them
    against the original problem once and — for constrained problems — runs the adaptive
    penalty loop (raise the weights of constraints that stay violated, re-sample) while the
    time budget lasts. Shared options: ``penalty``, ``integer_encoding``, ``max_rounds``.
    """

    name: str = "qubo-sampler"
    default_time_limit: float = 10.0
    #: exceptions a vendor sampler raises for values it refuses (options passed through
    #: unchecked): shown as an OptionError naming the backend, never a bare traceback
    vendor_option_errors: tuple[type[BaseException], ...] = ()
    #: whether :meth:`sample_qubo` takes ``on_improve(row, energy)`` and calls it as its
    #: best improves during a round (the engine's batches), for live best-so-far reports
    reports_improvements: bool = False

    def shared_parameters(self) -> tuple[Param, ...]:
        return QUBO_PARAMETERS

    def check(self, problem: Problem) -> Applicability:
        """The catalog's check plus what the QUBO compiler cannot take: products of three
        or more factors over integer variables."""
        report = super().check(problem)
        ints = problem.vtype == INTEGER
        for degree, (idx, _coef) in problem.higher_order.items():
            if ints[idx].any():
                report.ok = False
                report.reasons.append(
                    f"a product of {degree} factors includes integer variables, which a QUBO "
                    "cannot encode (use binaries in products of three or more, or a MIP "
                    "backend such as 'scip')"
                )
                break
        return report

    def sample_qubo(
        self, qubo: Any, *, time_limit: float, seed: int | None, **options: Any
    ) -> SampleBatch:
        raise NotImplementedError

    def check_size(self, problem: Problem, qubo: Any) -> None:
        limit = self.info.max_variables
        if limit is not None and qubo.num_variables > limit:
            raise UnsupportedError(
                f"backend {self.name!r} takes at most {limit} binary variables; this problem "
                f"compiles to {qubo.num_variables}. Use a classical backend such as 'tabu' or "
                "'sa', or reduce the problem"
            )

    def run(
        self, problem: Problem, *, time_limit: float, seed: int | None, options: dict[str, Any]
    ) -> RunOutput:
        from kakehashi.backends.penalty_loop import adaptive_solve

        options = dict(options)
        loop = {p.name: options.pop(p.name, p.default) for p in QUBO_PARAMETERS}
        return adaptive_solve(
            problem,
            sampler=lambda q, tl, s, **live: self._sample(q, tl, s, {**options, **live}),
            check=lambda q: self.check_size(problem, q),
            time_limit=time_limit,
            seed=seed,
            report_improvements=self.reports_improvements,
            **loop,
        )

    def _sample(
        self, qubo: Any, time_limit: float, seed: int | None, options: dict[str, Any]
    ) -> SampleBatch:
        try:
            return self.sample_qubo(qubo, time_limit=time_limit, seed=seed, **options)
        except self.vendor_option_errors as exc:
            raise OptionError(
                f"backend {self.name!r}: its sampler refused the options "
                f"{sorted(set(options) - {'on_improve'}) or '(none)'}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
