"""The use-case contract: domain data in, a checked domain answer out, beside a baseline.

Every use case (travelling salesman, rostering, knapsack …) is a subclass of :class:`UseCase`
registered with :func:`register`. It names

* ``data_type`` — its input schema, a dataclass whose ``__post_init__`` rejects bad data
  with an :class:`AppDataError`;
* :meth:`~UseCase.generate` — a seeded generator of realistic instances of a given size;
* :meth:`~UseCase.read` — a reader for the field's standard file format (TSPLIB, QAPLIB,
  Gset …) when there is one, and :meth:`~UseCase.load` which also finds the instances
  shipped in ``kakehashi/data/apps/``;
* :meth:`~UseCase.build` — the optimisation problem, written with :class:`kakehashi.Model`;
* :meth:`~UseCase.decode` — the domain answer (a route, a roster …) read off a
  :class:`~kakehashi.Result`; it reports what the sample says, never silently repairs it;
* :meth:`~UseCase.validate` — every domain rule checked on the answer *without the model*,
  and the domain objective recomputed from the data;
* :meth:`~UseCase.baseline` — the specialised classical tool a practitioner would use
  (OR-Tools routing, CP-SAT, an exact DP …), returning an answer of the same type.

:meth:`UseCase.run` strings them together; ``kakehashi apps run`` prints what it returns.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> tsp = get_use_case("tsp")
    >>> data = tsp.generate(5, seed=1)
    >>> run = tsp.run(data, backend="exact", baseline_time_limit=1)   # doctest: +SKIP
    >>> run.validation.valid, run.answer.objective == run.baseline.objective  # doctest: +SKIP
    (True, True)
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import importlib
import math
import numbers
import pkgutil
import time
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from kakehashi.errors import BackendUnavailableError, InputFormatError, KakehashiError
from kakehashi.model.problem import Problem
from kakehashi.result import Result

__all__ = [
    "Answer",
    "AppDataError",
    "AppRun",
    "BaselineResult",
    "UseCase",
    "Validation",
    "get_use_case",
    "register",
    "shipped_instance_dir",
    "use_case_names",
    "use_cases",
]

# modules of this package that are not use cases
_NOT_USE_CASES = frozenset({"base", "cli"})


class AppDataError(KakehashiError):
    """Domain data a use case cannot work with (negative capacity, ragged matrix …)."""


# ---------------------------------------------------------------------- answers
@dataclasses.dataclass
class Answer:
    """Base of every domain answer: the domain objective plus use-case fields.

    ``objective`` is computed from the domain data by the use case (tour length, cut
    weight, total value), not copied from the model, so a modelling slip shows up as a
    mismatch. Subclasses add their fields (``tour``, ``bins`` …) and override
    :meth:`describe`.
    """

    objective: float

    def describe(self, max_items: int = 40) -> str:
        """A short human-readable rendering for the command line."""
        fields = [
            f"{f.name}={_short(getattr(self, f.name), max_items)}"
            for f in dataclasses.fields(self)
            if f.name != "objective"
        ]
        return ", ".join(fields)

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))


@dataclasses.dataclass
class Validation:
    """Outcome of checking an answer against every domain rule.

    ``objective`` is the domain objective recomputed independently from the data (``None``
    when the answer is too broken to score); ``errors`` lists every broken rule in words.
    """

    valid: bool
    objective: float | None
    errors: list[str] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return self.valid

    @classmethod
    def from_errors(cls, errors: list[str], objective: float | None) -> Validation:
        """Valid exactly when ``errors`` is empty."""
        return cls(valid=not errors, objective=objective, errors=list(errors))

    def describe(self, max_errors: int = 5) -> str:
        if self.valid:
            return "valid"
        shown = "; ".join(self.errors[:max_errors])
        more = len(self.errors) - max_errors
        return f"INVALID: {shown}" + (f"; … and {more} more" if more > 0 else "")


@dataclasses.dataclass
class BaselineResult:
    """The specialised classical tool's answer on the same data.

    ``status`` is ``"optimal"`` when the tool proved optimality, ``"feasible"`` when it
    stopped with a solution it could not prove, ``"heuristic"`` for tools that never prove.
    ``bound`` is the tool's proven bound on the optimum when it reports one.
    """

    tool: str
    answer: Answer
    seconds: float
    status: str = "feasible"
    bound: float | None = None
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def objective(self) -> float:
        return self.answer.objective


@dataclasses.dataclass
class AppRun:
    """One use case solved on one backend, decoded, validated, beside its baseline."""

    use_case: str
    data: Any
    problem: Problem
    result: Result
    answer: Answer
    validation: Validation
    baseline: BaselineResult | None
    build_seconds: float
    sense: str
    #: why the baseline could not run (its tool not installed), when it could not
    baseline_error: str | None = None

    @property
    def gap(self) -> float | None:
        """Relative gap of the answer to the baseline (positive = baseline better)."""
        if self.baseline is None or not self.validation.valid:
            return None
        ours, ref = self.answer.objective, self.baseline.objective
        diff = ours - ref if self.sense == "min" else ref - ours
        return diff / abs(ref) if ref else (0.0 if diff == 0 else math.inf)

    def summary(self) -> str:
        """The lines ``kakehashi apps run`` prints."""
        r = self.result
        lines = [
            f"use case   {self.use_case}  ({self.problem.summary()})",
            f"backend    {r.backend}  {r.timing.total:.3f} s"
            f"  (model build {self.build_seconds:.3f} s)",
            f"answer     objective {self.answer.objective:.10g}  {self.answer.describe()}",
            f"check      {self.validation.describe()}",
        ]
        if self.baseline_error:
            lines.append(f"baseline   not run: {self.baseline_error}")
        if self.baseline is not None:
            b = self.baseline
            lines.append(
                f"baseline   {b.tool}: objective {b.objective:.10g} ({b.status}, {b.seconds:.3f} s)"
                f"  {b.answer.describe()}"
            )
            if self.gap is not None:
                lines.append(f"gap        {self.gap:+.2%} to the baseline ({self.sense}imise)")
        return "\n".join(lines)


# ---------------------------------------------------------------------- the contract
class UseCase(abc.ABC):
    """One use case. Subclass, set the class attributes, implement the abstract methods,
    and decorate with :func:`register`.

    Example (a toy use case: pick the cheapest of a few items):

        >>> import dataclasses, numpy as np
        >>> from kakehashi import Model
        >>> @dataclasses.dataclass
        ... class Items:
        ...     cost: np.ndarray
        >>> class Cheapest(UseCase):
        ...     name, title, data_type = "cheapest", "Cheapest item", Items
        ...     def generate(self, size, seed=None):
        ...         return Items(np.random.default_rng(seed).integers(1, 9, size).astype(float))
        ...     def build(self, data):
        ...         m = Model("cheapest"); x = m.binary("x", len(data.cost))
        ...         m.minimize(data.cost @ x); m.one_hot(x, axis=None, name="pick_one")
        ...         return m.to_problem()
        ...     def decode(self, result, data):
        ...         pick = int(result.solution["x"].argmax())
        ...         return Answer(objective=float(data.cost[pick]))
        ...     def validate(self, answer, data):
        ...         return Validation.from_errors([], answer.objective)
        ...     def baseline(self, data, time_limit=None):
        ...         return BaselineResult("min()", Answer(float(data.cost.min())), 0.0, "optimal")
        >>> run = Cheapest().run(Cheapest().generate(4, seed=0), backend="exact")
        >>> run.answer.objective == run.baseline.objective
        True
    """

    #: registry key, e.g. ``"tsp"``
    name: ClassVar[str]
    #: one-line title, e.g. ``"Travelling salesman"``
    title: ClassVar[str] = ""
    #: who uses it, e.g. ``"logistics"``
    domain: ClassVar[str] = ""
    #: the input schema (a dataclass)
    data_type: ClassVar[type]
    #: sense of the domain objective
    sense: ClassVar[str] = "min"
    #: the specialised classical tool :meth:`baseline` runs
    baseline_tool: ClassVar[str] = ""
    #: what ``size`` means in :meth:`generate` (``"cities"``, ``"items"`` …)
    size_meaning: ClassVar[str] = "size"
    #: file suffixes :meth:`read` understands (``(".tsp",)``); empty when there is no format
    file_suffixes: ClassVar[tuple[str, ...]] = ()
    #: the largest ``size`` :meth:`generate` accepts: its problem (variables, coefficients)
    #: stays within a few hundred MB; set lower where the model grows faster than ``size``
    max_size: ClassVar[int] = 10_000

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # every generator checks its size before allocating, whoever calls it
        if "generate" in cls.__dict__:
            cls.generate = _size_checked(cls.__dict__["generate"])
        if "read" in cls.__dict__:
            cls.read = _naming_the_file(cls.__dict__["read"])

    def check_size(self, size: object) -> int:
        """``size`` as an int in ``[1, max_size]``, or an :class:`AppDataError` saying so.

        Example:
            >>> from kakehashi.apps import get_use_case
            >>> get_use_case("knapsack").check_size(40)
            40
        """
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise AppDataError(
                f"{self.name}: size must be a whole number of {self.size_meaning}, got "
                f"{type(size).__name__} {size!r}"
            )
        if not 1 <= int(size) <= self.max_size:
            raise AppDataError(
                f"{self.name}: size {size} is outside [1, {self.max_size}] {self.size_meaning} "
                "(larger instances do not fit in memory as a model); give a --size in that range"
            )
        return int(size)

    # -------------------------------------------------------------- to implement
    @abc.abstractmethod
    def generate(self, size: int, seed: int | None = None) -> Any:
        """A realistic random instance of ``size`` (see :attr:`size_meaning`), reproducible
        from ``seed``."""

    @abc.abstractmethod
    def build(self, data: Any) -> Problem:
        """The optimisation problem for ``data``, written with :class:`kakehashi.Model`."""

    @abc.abstractmethod
    def decode(self, result: Result, data: Any) -> Answer:
        """The domain answer encoded by ``result``'s best sample (unrepaired)."""

    @abc.abstractmethod
    def validate(self, answer: Answer, data: Any) -> Validation:
        """Check every domain rule on ``answer`` without using the model."""

    @abc.abstractmethod
    def baseline(self, data: Any, time_limit: float | None = None) -> BaselineResult:
        """Solve ``data`` with the specialised classical tool."""

    def read(self, path: str | Path) -> Any:
        """Read the field's standard file format into ``data_type``."""
        raise InputFormatError(
            f"use case {self.name!r} has no file format; generate instances with "
            f"--size N --seed S instead"
        )

    # -------------------------------------------------------------- shipped instances
    def instances(self) -> list[str]:
        """Names of the instances shipped with kakehashi for this use case."""
        folder = shipped_instance_dir()
        if not self.file_suffixes or not folder.is_dir():
            return []
        names = {
            _stem(p.name)
            for p in folder.iterdir()
            if p.is_file() and any(_stem_suffix(p.name) == s for s in self.file_suffixes)
        }
        return sorted(names)

    def load(self, instance: str | Path) -> Any:
        """Read a shipped instance by name (``"burma14"``) or any file by path.

        Example:
            >>> from kakehashi.apps import get_use_case
            >>> get_use_case("tsp").load("burma14").name       # doctest: +SKIP
            'burma14'
        """
        path = Path(instance)
        if path.is_file():
            return self.read(path)
        folder = shipped_instance_dir()
        for suffix in self.file_suffixes:
            for candidate in (folder / f"{instance}{suffix}", folder / f"{instance}{suffix}.gz"):
                if candidate.is_file():
                    return self.read(candidate)
        shipped = ", ".join(self.instances()) or "none"
        raise InputFormatError(
            f"no instance {str(instance)!r} for use case {self.name!r}: not a file, and not "
            f"one of the shipped instances ({shipped}); give a path to a "
            f"{'/'.join(self.file_suffixes) or 'data'} file or one of those names"
        )

    # -------------------------------------------------------------- the whole pipeline
    def run(
        self,
        data: Any,
        backend: str = "auto",
        *,
        time_limit: float | None = None,
        seed: int | None = None,
        baseline: bool = True,
        baseline_time_limit: float | None = None,
        **options: Any,
    ) -> AppRun:
        """Build, solve on ``backend``, decode, validate, and run the baseline beside it."""
        import kakehashi

        t0 = time.perf_counter()
        problem = self.build(data)
        build_seconds = time.perf_counter() - t0
        result = kakehashi.solve(
            problem, backend=backend, time_limit=time_limit, seed=seed, **options
        )
        answer = self.decode(result, data)
        validation = self.validate(answer, data)
        ref, ref_error = None, None
        if baseline:
            try:
                ref = self.baseline(data, time_limit=baseline_time_limit or time_limit)
            except BackendUnavailableError as exc:
                # the answer stays useful without the comparison; say why it is missing
                ref_error = str(exc)
        return AppRun(
            use_case=self.name,
            data=data,
            problem=problem,
            result=result,
            answer=answer,
            validation=validation,
            baseline=ref,
            build_seconds=build_seconds,
            sense=self.sense,
            baseline_error=ref_error,
        )

    def __repr__(self) -> str:
        return f"<UseCase {self.name!r}: {self.title}>"


def _naming_the_file(read):
    # a reader's data checks (the data type's __post_init__) do not know the file: name it
    @functools.wraps(read)
    def reading(self, path, *args, **kwargs):
        try:
            return read(self, path, *args, **kwargs)
        except KakehashiError as exc:
            if str(path) in str(exc):
                raise
            raise type(exc)(f"{path}: {exc}") from None

    return reading


def _size_checked(generate):
    @functools.wraps(generate)
    def checked(self, size, *args, **kwargs):
        from kakehashi.backends.arguments import check_seed

        size = self.check_size(size)
        if args:  # seed given by position
            args = (check_seed(args[0]), *args[1:])
        elif "seed" in kwargs:
            kwargs["seed"] = check_seed(kwargs["seed"])
        return generate(self, size, *args, **kwargs)

    return checked


# ---------------------------------------------------------------------- registry
_REGISTRY: dict[str, UseCase] = {}
_DISCOVERED = False


def register(cls: type[UseCase]) -> type[UseCase]:
    """Class decorator: make the use case resolvable by :func:`get_use_case`.

    Example:
        >>> @register                                     # doctest: +SKIP
        ... class Tsp(UseCase): name = "tsp"; ...
    """
    if not getattr(cls, "name", None):
        raise TypeError(f"{cls.__name__} needs a class attribute `name` to be registered")
    _REGISTRY[cls.name] = cls()
    return cls


def _discover() -> None:
    # every module of kakehashi.apps (but base and cli) is a use-case module; importing it
    # registers its use cases, so adding a use case needs no edit of a shared list
    global _DISCOVERED
    if _DISCOVERED:
        return
    import kakehashi.apps as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name in _NOT_USE_CASES or mod.name.startswith("_"):
            continue
        importlib.import_module(f"kakehashi.apps.{mod.name}")
    _DISCOVERED = True


def use_case_names() -> list[str]:
    """Every registered use case's name, sorted."""
    _discover()
    return sorted(_REGISTRY)


def use_cases() -> list[UseCase]:
    """Every registered use case, sorted by name."""
    return [_REGISTRY[n] for n in use_case_names()]


def get_use_case(name: str) -> UseCase:
    """The registered use case called ``name``.

    Example:
        >>> from kakehashi.apps import get_use_case
        >>> get_use_case("knapsack").sense                  # doctest: +SKIP
        'max'
    """
    if name not in _REGISTRY:
        _discover()
    if name not in _REGISTRY:
        from difflib import get_close_matches

        close = get_close_matches(name, list(_REGISTRY), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KakehashiError(
            f"unknown use case {name!r}.{hint} Run `kakehashi apps list` to see them all."
        )
    return _REGISTRY[name]


def shipped_instance_dir() -> Path:
    """The folder of instance files shipped with kakehashi (``kakehashi/data/apps``)."""
    return Path(str(resources.files("kakehashi"))) / "data" / "apps"


# ---------------------------------------------------------------------- helpers
def _stem_suffix(filename: str) -> str:
    name = filename[:-3] if filename.endswith(".gz") else filename
    return Path(name).suffix


def _stem(filename: str) -> str:
    name = filename[:-3] if filename.endswith(".gz") else filename
    return Path(name).stem


def _short(value: Any, max_items: int) -> str:
    import numpy as np

    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)) and len(value) > max_items:
        head = ", ".join(str(v) for v in value[:max_items])
        return f"[{head}, … ({len(value)} in all)]"
    return str(value)


def _plain(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # JSON has no NaN: a broken answer's objective is reported as null
    return obj
