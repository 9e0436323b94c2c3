"""`check_backend`: the conformance kit every backend passes (like ``dimod.testing``).

It runs a backend through the contract of :class:`~kakehashi.backends.BaseBackend` on tiny
problems, so a new backend — built-in or a plug-in — is checked the same way as the rest:

* **declarations**: ``parameters`` are :class:`~kakehashi.backends.Param` objects whose
  defaults pass their own checks; ``check``, ``estimate``, ``warm_up``, ``available`` exist;
* **accepted forms** (catalog ``accepts``): a tiny problem of each — an unconstrained
  binary QUBO, a constrained binary problem, a small mixed-integer program — is solved to
  its exact optimum (found by enumeration, or known in closed form), and the best answer is
  feasible;
* **refused forms** are refused by ``check`` and by ``solve`` with
  :class:`~kakehashi.errors.UnsupportedError`, before any work;
* **options**: an unknown name and a misspelt declared name raise
  :class:`~kakehashi.errors.OptionError` naming the closest valid one; a value of the wrong
  type is refused;
* **time limit** honoured: ``Result.timing.total ≤ factor × limit + slack`` (default
  ``1.5 ×`` and ``1 s``; warm-up happens before the clock and is not counted);
* **seeds**: where the backend claims ``seed_reproducible``, two runs with the same seed
  and a work-bounded budget (``conformance_options``) return the same samples;
* **timing and resources** filled: finite non-negative phases, ``total > 0``,
  ``resources.cpu_seconds`` measured, ``Result.seed`` and ``Result.backend`` set.

Example:
    >>> from kakehashi.testing import check_backend
    >>> report = check_backend("exact")
    >>> report.ok, "qubo optimum" in report.passed
    (True, True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.backends.base import Availability, BaseBackend, get_backend
from kakehashi.errors import OptionError, UnsupportedError
from kakehashi.model.problem import BINARY, CONTINUOUS, Problem, VarArray

FORMS = ("qubo", "constrained", "mip")
DEFAULT_TIME_FACTOR = 1.5
DEFAULT_TIME_SLACK = 1.0  # seconds: process start-up of a solver, Python overhead
MIP_OPTIMUM = 2.5  # of tiny_mip(): y = 1, x = 0.5


class ConformanceError(AssertionError):
    """A backend broke the contract; the message lists every failed check."""


@dataclasses.dataclass
class ConformanceReport:
    """What :func:`check_backend` checked: ``passed``/``skipped`` names, ``failures``."""

    backend: str
    passed: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)
    failures: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


# ---------------------------------------------------------------------- tiny problems
def tiny_qubo() -> Problem:
    """A 5-node max-cut as a binary QUBO (optimum −5)."""
    from kakehashi import examples

    return examples.small_maxcut()


def tiny_constrained() -> Problem:
    """A 3×3 assignment: 9 binaries, 6 equality rows."""
    from kakehashi import examples

    return examples.random_assignment(3, seed=1)


def tiny_mip() -> Problem:
    """``max x + 2y`` s.t. ``x + y ≤ 1.5``, ``x ∈ [0, 1]`` continuous, ``y`` binary: 2.5."""
    base = Problem.from_arrays(
        linear=[1.0, 2.0],
        vtype="continuous",
        lower=[0.0, 0.0],
        upper=[1.0, 1.0],
        A=sp.csr_matrix([[1.0, 1.0]]),
        hi=[1.5],
        sense="max",
        name="tiny-mip",
    )
    return dataclasses.replace(
        base,
        var_arrays=[VarArray("x", (1,), 0, CONTINUOUS), VarArray("y", (1,), 1, BINARY)],
        vtype=np.array([CONTINUOUS, BINARY], dtype=np.int8),
    ).validate()


TINY: dict[str, Callable[[], Problem]] = {
    "qubo": tiny_qubo,
    "constrained": tiny_constrained,
    "mip": tiny_mip,
}


def exact_optimum(form: str, problem: Problem) -> float:
    """The true optimum of a tiny problem: enumeration, or the closed form for the MIP."""
    if form == "mip":
        return MIP_OPTIMUM
    return float(get_backend("exact").solve(problem).objective)


# ---------------------------------------------------------------------- the kit
def check_backend(
    backend: str | BaseBackend,
    *,
    time_limit: float = 1.0,
    time_factor: float = DEFAULT_TIME_FACTOR,
    time_slack: float = DEFAULT_TIME_SLACK,
    options: dict[str, Any] | None = None,
    seed: int = 1,
    raise_on_failure: bool = True,
) -> ConformanceReport:
    """Run the conformance checks on ``backend`` (a name or an instance).

    ``options`` are passed to every solve (e.g. ``{"device": "FakeManilaV2"}``); the
    backend's ``conformance_options`` are added where it declares them. Raises
    :class:`ConformanceError` listing the failures unless ``raise_on_failure=False``.
    """
    b = get_backend(backend)
    report = ConformanceReport(getattr(b, "name", repr(b)))
    if not isinstance(b, BaseBackend):
        report.failures.append("is not a kakehashi.backends.BaseBackend")
        return _finish(report, raise_on_failure)
    avail = b.available()
    if not isinstance(avail, Availability):
        report.failures.append("available() does not return an Availability")
    if not avail:
        report.skipped.append(f"everything that runs: not available ({avail.reason})")
        _check_declarations(b, report)
        return _finish(report, raise_on_failure)
    opts = {**dict(getattr(b, "conformance_options", {}) or {}), **(options or {})}
    _check_declarations(b, report)
    accepts = set(b.info.accepts)
    for form in FORMS:
        problem = TINY[form]()
        if form in accepts or (form == "constrained" and "mip" in accepts):
            _run_check(
                report, f"{form} optimum", _optimum, b, form, problem, time_limit, seed, opts
            )
        else:
            _run_check(report, f"{form} refused", _refused, b, problem, opts)
    _run_check(report, "unknown options refused", _unknown_options, b, opts)
    _run_check(
        report,
        "time limit honoured",
        _time_limit,
        b,
        time_limit,
        time_factor,
        time_slack,
        seed,
        opts,
    )
    if getattr(b, "seed_reproducible", False):
        _run_check(report, "seed reproducible", _reproducible, b, seed, opts)
    else:
        report.skipped.append("seed reproducible (the backend does not claim it)")
    return _finish(report, raise_on_failure)


def _finish(report: ConformanceReport, raise_on_failure: bool) -> ConformanceReport:
    if report.failures and raise_on_failure:
        raise ConformanceError(
            f"backend {report.backend!r} fails {len(report.failures)} conformance check(s):\n- "
            + "\n- ".join(report.failures)
        )
    return report


def _run_check(report: ConformanceReport, name: str, fn: Callable[..., None], *args: Any) -> None:
    try:
        fn(*args)
    except ConformanceError as exc:
        report.failures.append(f"{name}: {exc}")
    except Exception as exc:  # any other exception is a failure of the contract too
        report.failures.append(f"{name}: raised {type(exc).__name__}: {exc}")
    else:
        report.passed.append(name)


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


# ---------------------------------------------------------------------- the checks
def _check_declarations(b: BaseBackend, report: ConformanceReport) -> None:
    from kakehashi.backends.params import Param

    problems = []
    for p in b.all_parameters():
        if not isinstance(p, Param):
            problems.append(f"{p!r} is not a Param")
            continue
        if not p.doc:
            problems.append(f"parameter {p.name} has no doc line")
        try:
            p.check_value(p.default, backend=b.name)
        except OptionError as exc:
            problems.append(f"the default of {p.name} fails its own check ({exc})")
    for method in ("check", "estimate", "warm_up", "available", "run"):
        if not callable(getattr(b, method, None)):
            problems.append(f"has no {method}()")
    if problems:
        report.failures.append("declarations: " + "; ".join(problems))
    else:
        report.passed.append("declarations")


def _optimum(
    b: BaseBackend, form: str, problem: Problem, time_limit: float, seed: int, opts: dict
) -> None:
    report = b.check(problem)
    _expect(bool(report), f"check() refuses an accepted form: {report.reasons}")
    result = b.solve(problem, time_limit=time_limit, seed=seed, **opts)
    _check_result(b, result, seed)
    want = exact_optimum(form, problem)
    _expect(result.feasible, f"the best answer is infeasible: {result.constraint_violations}")
    _expect(
        math.isclose(result.objective, want, rel_tol=1e-6, abs_tol=1e-6),
        f"objective {result.objective:g}, the exact optimum is {want:g}",
    )


def _refused(b: BaseBackend, problem: Problem, opts: dict) -> None:
    report = b.check(problem)
    _expect(not report, "check() accepts a form the catalog says it does not")
    _expect(bool(report.reasons), "check() refuses without a reason")
    try:
        b.solve(problem, time_limit=1.0, seed=0, **opts)
    except UnsupportedError as exc:
        _expect(report.reasons[0] in str(exc), f"solve's error does not give the reason: {exc}")
    else:
        raise ConformanceError("solve() ran a form the backend refuses")


def _unknown_options(b: BaseBackend, opts: dict) -> None:
    problem = tiny_qubo() if "qubo" in b.info.accepts else TINY[b.info.accepts[0]]()
    for bad in ({"definitely_not_an_option": 1}, {"time_limt": 1.0}):
        try:
            b.solve(problem, time_limit=1.0, seed=0, **opts, **bad)
        except OptionError as exc:
            if "time_limt" in bad:
                _expect("time_limit" in str(exc), f"no closest name in: {exc}")
        else:
            raise ConformanceError(f"solve() accepted the option {next(iter(bad))}")
    declared = [p for p in b.all_parameters() if p.type in (int, float) and p.name not in opts]
    if declared:
        p = declared[0]
        try:
            b.solve(problem, time_limit=1.0, seed=0, **opts, **{p.name: "not a number"})
        except OptionError:
            pass
        else:
            raise ConformanceError(f"solve() accepted {p.name}='not a number'")
    for bad_args in ({"time_limit": float("inf")}, {"seed": -1}):
        try:
            b.solve(problem, **{"time_limit": 1.0, "seed": 0, **bad_args}, **opts)
        except OptionError:
            pass
        else:
            raise ConformanceError(f"solve() accepted {bad_args}")


def _time_limit(
    b: BaseBackend, time_limit: float, factor: float, slack: float, seed: int, opts: dict
) -> None:
    problem = tiny_qubo() if "qubo" in b.info.accepts else TINY[b.info.accepts[0]]()
    result = b.solve(problem, time_limit=time_limit, seed=seed, **opts)
    bound = factor * time_limit + slack
    _expect(
        result.timing.total <= bound,
        f"took {result.timing.total:.3g} s under time_limit={time_limit:g} (allowed "
        f"{factor:g} × limit + {slack:g} s = {bound:.3g} s)",
    )


def _reproducible(b: BaseBackend, seed: int, opts: dict) -> None:
    problem = tiny_qubo() if "qubo" in b.info.accepts else TINY[b.info.accepts[0]]()
    work = {**dict(getattr(b, "reproducible_options", {}) or {}), **opts}
    # a long limit: the run must end by its work, never by the clock
    first = b.solve(problem, time_limit=60.0, seed=seed, **work)
    second = b.solve(problem, time_limit=60.0, seed=seed, **work)
    _expect(
        _same_samples(first.samples, second.samples),
        "two runs with the same seed returned different samples (set reproducible_options "
        "to a work-bounded budget, or seed_reproducible = False)",
    )


def _same_samples(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    return bool(np.array_equal(np.unique(a, axis=0), np.unique(b, axis=0)))


def _check_result(b: BaseBackend, result: Any, seed: int) -> None:
    t = result.timing
    phases = {"compile": t.compile, "queue": t.queue, "solve": t.solve, "decode": t.decode}
    bad = {k: v for k, v in phases.items() if not (math.isfinite(v) and v >= 0)}
    _expect(not bad, f"timing phases not finite and ≥ 0: {bad}")
    _expect(t.total > 0 and math.isfinite(t.total), f"timing.total = {t.total!r}")
    _expect(result.resources.cpu_seconds is not None, "resources.cpu_seconds not measured")
    _expect(result.backend == b.name, f"Result.backend = {result.backend!r}, not {b.name!r}")
    _expect(result.seed == seed, f"Result.seed = {result.seed!r}, not {seed}")
    _expect(result.num_samples > 0, f"no samples (status {result.status!r})")


__all__ = [
    "ConformanceError",
    "ConformanceReport",
    "check_backend",
    "exact_optimum",
    "tiny_constrained",
    "tiny_mip",
    "tiny_qubo",
]
