"""`Result`: what every backend returns, evaluated against the original Problem."""

from __future__ import annotations

import dataclasses
import functools
import json
import platform
from importlib import metadata
from typing import Any

import numpy as np

from kakehashi.errors import InputFormatError
from kakehashi.model.problem import Problem

_VERSIONED = ("kakehashi", "numpy", "scipy", "numba", "ommx", "dimod")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of kakehashi's core packages (and ``extra``), for provenance."""
    return dict(_versions(tuple(extra)))


@functools.lru_cache(maxsize=64)
def _versions(extra: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # read once per process: each lookup parses a package's METADATA file (~2 ms for the
    # six), which was most of a small solve's time
    out = [("python", platform.python_version())]
    for name in (*_VERSIONED, *extra):
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return tuple(out)


@dataclasses.dataclass
class Timing:
    """Seconds spent per phase; ``total`` is wall-clock from call to return."""

    compile: float = 0.0
    queue: float = 0.0
    solve: float = 0.0
    decode: float = 0.0
    total: float = 0.0
    vendor: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Resources:
    """What the run consumed. ``None`` means unknown, never zero-by-default."""

    cpu_seconds: float | None = None
    energy_joules: float | None = None
    co2_grams: float | None = None
    money: float | None = None
    currency: str = "USD"
    notes: str = ""


@dataclasses.dataclass
class Result:
    """Best answer, all samples and their evaluation, timing, resources and provenance.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="exact")
        >>> r.feasible, r.objective
        (True, -5.0)
    """

    problem: Problem
    samples: np.ndarray  # (k, n) values in the problem's variable space
    objectives: np.ndarray  # (k,)
    feasible_mask: np.ndarray  # (k,) bool
    violations: np.ndarray  # (k, m)
    backend: str
    timing: Timing
    seed: int | None
    resources: Resources = dataclasses.field(default_factory=Resources)
    backend_info: dict[str, Any] = dataclasses.field(default_factory=dict)
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    versions: dict[str, str] = dataclasses.field(default_factory=package_versions)
    status: str = "ok"

    @classmethod
    def from_samples(
        cls,
        problem: Problem,
        samples: np.ndarray,
        *,
        backend: str,
        timing: Timing,
        seed: int | None,
        evaluation: dict[str, np.ndarray] | None = None,
        **kwargs: Any,
    ) -> Result:
        """Evaluate ``samples`` against ``problem`` (vectorised) and wrap them.

        ``evaluation`` is ``problem.evaluate(samples)`` when the caller already has it (the
        penalty loop evaluates every round as it goes): samples are evaluated once.
        """
        samples = np.atleast_2d(np.asarray(samples, dtype=np.float64))
        ev = problem.evaluate(samples) if evaluation is None else evaluation
        return cls(
            problem=problem,
            samples=samples,
            objectives=ev["objective"],
            feasible_mask=ev["feasible"],
            violations=ev["violation"],
            backend=backend,
            timing=timing,
            seed=seed,
            **kwargs,
        )

    # ------------------------------------------------------------------ best answer
    @property
    def best_index(self) -> int:
        """Index of the best sample: feasible first, then by objective in the problem's sense."""
        if self.samples.shape[0] == 0:
            raise ValueError("the result holds no samples")
        sign = 1.0 if self.problem.sense == "min" else -1.0
        total = (
            self.violations.sum(axis=1) if self.violations.size else np.zeros(len(self.objectives))
        )
        order = np.lexsort((sign * self.objectives, total, ~self.feasible_mask))
        return int(order[0])

    @property
    def best_sample(self) -> np.ndarray:
        return self.samples[self.best_index]

    @property
    def objective(self) -> float:
        return float(self.objectives[self.best_index])

    @property
    def feasible(self) -> bool:
        return bool(self.feasible_mask[self.best_index])

    @property
    def solution(self) -> dict[str, np.ndarray]:
        """Best values by variable array name, with the arrays' shapes."""
        return self.problem.unflatten(self.best_sample)

    @property
    def constraint_violations(self) -> dict[str, float]:
        """Violation of the best sample per named constraint group (0 when satisfied)."""
        if not self.violations.size:
            return {}
        return self.problem.group_violations(self.violations[self.best_index])

    @property
    def num_samples(self) -> int:
        return int(self.samples.shape[0])

    # ------------------------------------------------------------------ export
    def to_dict(self, *, include_samples: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "problem": self.problem.name,
            "backend": self.backend,
            "status": self.status,
            "objective": self.objective if self.num_samples else None,
            "feasible": self.feasible if self.num_samples else False,
            "sense": self.problem.sense,
            "solution": {k: v.tolist() for k, v in self.solution.items()}
            if self.num_samples
            else {},
            "constraint_violations": self.constraint_violations if self.num_samples else {},
            "num_samples": self.num_samples,
            "feasible_fraction": float(self.feasible_mask.mean()) if self.num_samples else 0.0,
            "timing": dataclasses.asdict(self.timing),
            "resources": dataclasses.asdict(self.resources),
            "seed": self.seed,
            "backend_info": self.backend_info,
            "info": jsonable(self.info),
            "versions": self.versions,
        }
        if include_samples:
            d["samples"] = self.samples.tolist()
            d["objectives"] = self.objectives.tolist()
            d["feasible_mask"] = self.feasible_mask.tolist()
        return d

    def to_json(self, *, include_samples: bool = False, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(include_samples=include_samples), indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any], problem: Problem) -> Result:
        """The Result that :meth:`to_dict` (with ``include_samples=True``) described, for
        ``problem``: samples are re-evaluated, everything else is restored as it was.

        Example:
            >>> import kakehashi
            >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="exact", seed=1)
            >>> back = Result.from_json(r.to_json(include_samples=True), r.problem)
            >>> back.to_dict() == r.to_dict()
            True
        """
        if "samples" not in d:
            raise InputFormatError(
                "this result JSON has no samples; write it with to_json(include_samples=True)"
            )
        samples = np.asarray(d["samples"], dtype=np.float64).reshape(-1, problem.num_variables)
        out = cls.from_samples(
            problem,
            samples,
            backend=d["backend"],
            timing=Timing(**d.get("timing", {})),
            seed=d.get("seed"),
            resources=Resources(**d.get("resources", {})),
            backend_info=d.get("backend_info", {}),
            info=d.get("info", {}),
            versions=d.get("versions", {}),
            status=d.get("status", "ok"),
        )
        return out

    @classmethod
    def from_json(cls, text: str | bytes, problem: Problem) -> Result:
        """:meth:`from_dict` of a JSON text (as :meth:`to_json` wrote it)."""
        try:
            d = json.loads(text)
        except ValueError as exc:
            raise InputFormatError(f"not a result JSON: {exc}") from exc
        return cls.from_dict(d, problem)

    def to_ommx(self):
        """The samples as an ``ommx.v1.SampleSet`` evaluated by OMMX on the same instance."""
        from kakehashi.model.ommx_io import result_to_sampleset

        return result_to_sampleset(self)

    def summary(self) -> str:
        """A few readable lines: objective, feasibility, backend, time."""
        if not self.num_samples:
            return f"{self.backend}: no samples ({self.status})"
        lines = [
            f"problem    {self.problem.summary()}",
            f"backend    {self.backend}",
            f"objective  {self.objective:.10g} ({self.problem.sense}imise)",
            f"feasible   {'yes' if self.feasible else 'NO'}",
        ]
        bad = {k: v for k, v in self.constraint_violations.items() if v > 0}
        if bad:
            lines.append("violated   " + ", ".join(f"{k} by {v:g}" for k, v in bad.items()))
        t = self.timing
        lines.append(
            f"time       {t.total:.3f} s total (compile {t.compile:.3f}, queue {t.queue:.3f}, "
            f"solve {t.solve:.3f}, decode {t.decode:.3f})"
        )
        if self.info.get("warm_up_seconds"):
            lines.append(
                f"           (total includes {self.info['warm_up_seconds']:.1f} s of one-time "
                "set-up before the time limit's clock: compiling kernels or importing the "
                "vendor SDK)"
            )
        lines.append(f"samples    {self.num_samples} (feasible {self.feasible_mask.mean():.0%})")
        lines.append(f"seed       {self.seed}")
        if isinstance(self.info.get("router"), dict):
            lines.append(f"router     {self.info['router'].get('reason', '')}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        if not self.num_samples:
            return f"Result(backend={self.backend!r}, status={self.status!r}, no samples)"
        return (
            f"Result(backend={self.backend!r}, objective={self.objective:g}, "
            f"feasible={self.feasible}, samples={self.num_samples}, total={self.timing.total:.3f}s)"
        )


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy arrays and scalars made plain Python, dict keys made strings and
    anything else JSON cannot hold made its ``str``, ready for :func:`json.dumps`.

    Example:
        >>> jsonable({1: np.arange(2), "t": (np.float64(0.5), None)})
        {'1': [0, 1], 't': [0.5, None]}
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)
