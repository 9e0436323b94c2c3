"""The benchmark runner: instances × backends × time budgets × repeats, one run at a time.

* **Same budget for everyone**: every backend gets the same ``time_limit`` on the same
  instance; runs that overshoot it are flagged in the report, not hidden.
* **One run at a time**, so runs never compete for cores and timings stay comparable.
* **Warm-up**: each backend solves two tiny problems first, unrecorded, so that just-in-time
  compilation (numba) and lazy imports are not billed to the first instance.
* **Seeds**: run ``r`` of instance ``i`` gets a seed derived from (suite seed, i, r) — the
  same seed for every backend — and the seed is stored with the run.
* **Resumable**: each run is committed when it ends; a re-run skips the runs already stored.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import traceback
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from kakehashi.backends.base import Backend
from kakehashi.bench.accounting import AccountingConfig, Meter, account_run
from kakehashi.bench.baseline import backend_record
from kakehashi.bench.machine import describe_machine
from kakehashi.bench.store import RunStore, now, to_json
from kakehashi.bench.suite import InstanceSpec, InstanceUnavailable
from kakehashi.errors import BackendUnavailableError, KakehashiError, UnsupportedError

VENDOR_PACKAGES = (
    "highspy", "pyscipopt", "ortools", "ommx-highs-adapter", "ommx-pyscipopt-adapter",
    "dwave-samplers", "dwave-system", "dwave-neal", "openjij", "qiskit", "qiskit-aer",
    "qiskit-ibm-runtime", "amazon-braket-sdk", "cupy", "torch",
)  # fmt: skip


def run_seed(base_seed: int, instance: str, repeat: int) -> int:
    """The seed of one run: the same for every backend, different per instance and repeat.

    Example:
        >>> run_seed(0, "bqp50-1", 0) == run_seed(0, "bqp50-1", 0) != run_seed(0, "bqp50-1", 1)
        True
    """
    ss = np.random.SeedSequence([base_seed, zlib.crc32(instance.encode()), repeat])
    return int(ss.generate_state(1, dtype=np.uint32)[0] & 0x7FFFFFFF)


_VERSIONS: dict[str, str] | None = None


def versions() -> dict[str, str]:
    """Versions of kakehashi, its core packages and every installed vendor SDK (cached)."""
    global _VERSIONS
    if _VERSIONS is None:
        from kakehashi.result import package_versions

        _VERSIONS = package_versions(VENDOR_PACKAGES)
    return dict(_VERSIONS)


@dataclasses.dataclass
class BenchPlan:
    """What to run. ``time_limits`` may hold several budgets (quality-versus-time curves)."""

    instances: list[InstanceSpec]
    backends: list[Backend]
    repeats: int = 3
    time_limits: tuple[float, ...] = (1.0,)
    seed: int = 0
    suite: str = "adhoc"
    max_variables: dict[str, int] = dataclasses.field(default_factory=dict)
    backend_options: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    accounting: AccountingConfig = dataclasses.field(default_factory=AccountingConfig)
    warmup: bool = True

    def __post_init__(self) -> None:
        if self.repeats < 1:
            raise KakehashiError(f"repeats must be ≥ 1, got {self.repeats}")
        if not self.time_limits or any(not (t > 0 and math.isfinite(t)) for t in self.time_limits):
            raise KakehashiError(f"time limits must be positive seconds, got {self.time_limits}")
        if not self.backends:
            raise KakehashiError("no backends to run; name at least one")

    @property
    def total_runs(self) -> int:
        return len(self.instances) * len(self.backends) * self.repeats * len(self.time_limits)


@dataclasses.dataclass
class BenchOutcome:
    """What a call to :func:`run_plan` did."""

    new_runs: int = 0
    skipped_done: int = 0
    errors: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)
    interrupted: bool = False


def _warm_up(backend: Backend, time_limit: float, options: dict[str, Any]) -> str | None:
    import kakehashi

    for problem in (kakehashi.examples.small_maxcut(), kakehashi.examples.knapsack(8)):
        try:
            kakehashi.solve(
                problem, backend=backend, time_limit=min(0.2, time_limit), seed=0, **options
            )
        except Exception as exc:  # a warm-up failure is reported, never fatal
            return f"warm-up of {backend.name} failed: {type(exc).__name__}: {exc}"
    return None


def _run_one(
    problem: Any,
    backend: Backend,
    time_limit: float,
    seed: int,
    options: dict[str, Any],
    cfg: AccountingConfig,
) -> dict[str, Any]:
    import kakehashi

    row: dict[str, Any] = {"started_at": now(), "load_avg": _load_avg()}
    meter = Meter(use_rapl=cfg.use_rapl)
    try:
        with meter:
            result = kakehashi.solve(
                problem, backend=backend, time_limit=time_limit, seed=seed, **options
            )
    except (UnsupportedError, BackendUnavailableError) as exc:
        row.update(status="unsupported", error=str(exc), wall_seconds=meter.wall_seconds)
        return row
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # recorded, the benchmark goes on (and retries it on a re-run)
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        row.update(status="error", error=tb, wall_seconds=meter.wall_seconds)
        return row
    # a run that found nothing within its budget is a measured failure, not an error: it
    # counts against the backend's success probability and feasibility rate
    row.update(
        status="ok",
        error=None if result.num_samples else f"no solution within the budget ({result.status})",
        objective=result.objective if result.num_samples else None,
        feasible=int(result.feasible) if result.num_samples else 0,
        feasible_fraction=float(result.feasible_mask.mean()) if result.num_samples else 0.0,
        num_samples=result.num_samples,
        wall_seconds=meter.wall_seconds,
        compile_seconds=result.timing.compile,
        queue_seconds=result.timing.queue,
        solve_seconds=result.timing.solve,
        total_seconds=result.timing.total,
        time_to_best=_time_to_best(result),
        cpu_seconds=meter.cpu_seconds,
        rss_gb=meter.rss_gb,
        result_info_json=to_json(_info_with_solution(result)),
    )
    row.update(account_run(meter, result, backend, cfg, options))
    return row


# the best answer is kept with the run (for QOBLIB solution files) up to this many variables
KEEP_SOLUTION_UP_TO = 20_000


def _info_with_solution(result: Any) -> dict[str, Any]:
    """``Result.info`` plus the best answer's values in the Problem's variable order."""
    info = dict(result.info or {})
    if result.num_samples and len(result.best_sample) <= KEEP_SOLUTION_UP_TO:
        info["best_solution"] = [float(v) for v in result.best_sample]
    return info


def _load_avg() -> float | None:
    """The machine's 1-minute load average when the run starts (other work skews timings)."""
    try:
        return float(os.getloadavg()[0])
    except (OSError, AttributeError):
        return None


def _time_to_best(result: Any) -> float | None:
    """Seconds from the call until the run first held its final best answer, when known.

    Engines report when they found their best (``time_to_best`` per penalty round); with a
    single round that time plus compilation is the run's. MIP solvers report the solver's
    clock at each improving solution (``incumbent_seconds``, from their callbacks): the last
    one plus compilation and model building. Otherwise unknown (``None``), and TTS99 and
    time-to-target curves fall back to the run's whole time (the report says so).
    """
    info = result.info or {}
    value = info.get("time_to_best")
    if isinstance(value, (int, float)):
        return float(value)
    incumbents = info.get("incumbent_seconds")
    if isinstance(incumbents, list) and incumbents and result.num_samples:
        return float(result.timing.compile) + float(incumbents[-1])
    rounds = info.get("rounds")
    if isinstance(rounds, list) and len(rounds) == 1 and isinstance(rounds[0], dict):
        value = rounds[0].get("time_to_best")
        if isinstance(value, (int, float)):
            return float(result.timing.compile) + float(value)
    if isinstance(rounds, list) and len(rounds) > 1 and result.num_samples and result.feasible:
        return _time_to_best_of_rounds(rounds, float(result.objective))
    return None


def _time_to_best_of_rounds(rounds: list[Any], objective: float) -> float | None:
    """Penalty rounds: the first round that found the final answer, from its start, plus the
    engine's time to its best sample when that sample is the answer (else unknown)."""
    for rnd in rounds:
        if not isinstance(rnd, dict):
            return None
        best = rnd.get("best_feasible_objective")
        if best is None or not math.isclose(best, objective, rel_tol=1e-12, abs_tol=1e-12):
            continue
        started, ttb = rnd.get("started"), rnd.get("time_to_best")
        if (
            rnd.get("lowest_energy_is_best")
            and isinstance(started, (int, float))
            and (isinstance(ttb, (int, float)))
        ):
            return float(started) + float(ttb)
        return None
    return None


def run_plan(
    plan: BenchPlan,
    store: RunStore,
    *,
    progress: bool = True,
    on_run: Callable[[dict[str, Any]], None] | None = None,
) -> BenchOutcome:
    """Run every pending run of ``plan`` into ``store`` (committing each) and say what happened.

    Ctrl-C stops after the current run is abandoned; every finished run is already stored
    and a re-run resumes from there.

    Example:
        >>> from kakehashi.bench.suite import InstanceSpec
        >>> from kakehashi.backends import get_backend
        >>> import kakehashi
        >>> inst = InstanceSpec("maxcut-5", "generator", {"generator": "maxcut-5"}, best_known=-5)
        >>> plan = BenchPlan([inst], [get_backend("exact")], repeats=1, time_limits=(0.2,),
        ...                  warmup=False)
        >>> store = RunStore(":memory:")
        >>> run_plan(plan, store, progress=False).new_runs
        1
    """
    # one writer per store: a second benchmark on the same --out is refused, not raced
    with store.writing():
        return _run_locked(plan, store, progress=progress, on_run=on_run)


def _run_locked(
    plan: BenchPlan,
    store: RunStore,
    *,
    progress: bool,
    on_run: Callable[[dict[str, Any]], None] | None,
) -> BenchOutcome:
    outcome = BenchOutcome()
    machine = describe_machine()
    machine_id = store.machine_id(machine)
    done = store.done_keys()
    cfg = plan.accounting
    cfg_json = to_json(cfg.describe())
    vers = to_json(versions())
    warmed: set[str] = set()
    records = {b.name: to_json(backend_record(b)) for b in plan.backends}

    work = []
    for inst in plan.instances:
        keys = [
            (b, r, tl, run_seed(plan.seed, inst.name, r))
            for tl in plan.time_limits
            for b in plan.backends
            for r in range(plan.repeats)
        ]
        pending = [k for k in keys if (inst.name, k[0].name, k[1], float(k[2]), k[3]) not in done]
        outcome.skipped_done += len(keys) - len(pending)
        if pending:
            work.append((inst, pending))
    # the bar counts only what is left, so its ETA is not flattered by resumed runs
    bar = _Progress(sum(len(p) for _, p in work), enabled=progress)
    try:
        with bar:
            for inst, pending in work:
                try:
                    problem = inst.build()
                    target, target_source = inst.target(problem)
                except InstanceUnavailable as exc:
                    outcome.notes.append(f"instance {inst.name} not run: {exc}")
                    bar.advance(len(pending))
                    continue
                except Exception as exc:  # a broken instance must not stop the benchmark
                    outcome.notes.append(
                        f"instance {inst.name} not run: it could not be built "
                        f"({type(exc).__name__}: {exc})"
                    )
                    bar.advance(len(pending))
                    continue
                store.record_instance(
                    {
                        "name": inst.name, "suite": plan.suite, "kind": inst.kind,
                        "num_variables": problem.num_variables,
                        "num_constraints": problem.num_constraints, "sense": problem.sense,
                        "best_known": target, "best_known_source": target_source,
                        "tags": ",".join(inst.tags), "spec_json": to_json(inst.spec),
                    }
                )  # fmt: skip
                for backend, rep, tl, seed in pending:
                    bar.describe(f"{inst.name} · {backend.name} · {tl:g}s · run {rep + 1}")
                    options = dict(plan.backend_options.get(backend.name, {}))
                    limit = plan.max_variables.get(backend.name)
                    if limit is not None and problem.num_variables > limit:
                        row = {
                            "status": "skipped",
                            "error": f"the suite runs {backend.name} only up to {limit} variables "
                            f"(this instance has {problem.num_variables})",
                            "started_at": now(),
                        }
                    else:
                        if plan.warmup and backend.name not in warmed:
                            note = _warm_up(backend, tl, options)
                            if note:
                                outcome.notes.append(note)
                            warmed.add(backend.name)
                        row = _run_one(problem, backend, tl, seed, options, cfg)
                    row.update(
                        suite=plan.suite, instance=inst.name, backend=backend.name, repeat=rep,
                        time_limit=float(tl), seed=seed, modality=backend.info.modality,
                        vendor=backend.info.vendor, hardware=backend.info.hardware,
                        params_json=to_json({"time_limit": tl, "seed": seed, "options": options}),
                        versions_json=vers, backend_info_json=records[backend.name],
                        accounting_json=cfg_json, machine_id=machine_id, finished_at=now(),
                    )  # fmt: skip
                    if not store.record_run(row):  # finished meanwhile: keep the first
                        outcome.skipped_done += 1
                        bar.advance(1)
                        continue
                    outcome.new_runs += 1
                    outcome.errors += row["status"] == "error"
                    if on_run is not None:
                        on_run(row)
                    bar.advance(1)
    except KeyboardInterrupt:
        outcome.interrupted = True
        outcome.notes.append(
            f"interrupted: {outcome.new_runs} new runs were saved; run the same command "
            "again to resume"
        )
    return outcome


class _Progress:
    """A rich progress bar with ETA, or nothing (tests, library use)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.enabled = enabled
        self.total = total
        self._start = time.perf_counter()
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                transient=False,
            )
            self.task = self.progress.add_task("starting", total=total)

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.__exit__(*exc)

    def advance(self, n: int) -> None:
        if self.enabled and n:
            self.progress.advance(self.task, n)

    def describe(self, text: str) -> None:
        if self.enabled:
            self.progress.update(self.task, description=text)


def plan_from_suite(
    suite: Any,
    backends: Sequence[Backend],
    *,
    repeats: int | None = None,
    time_limits: Sequence[float] | None = None,
    seed: int | None = None,
    accounting: AccountingConfig | None = None,
    warmup: bool = True,
) -> BenchPlan:
    """A plan for ``suite`` with overrides from the command line."""
    return BenchPlan(
        instances=list(suite.instances),
        backends=list(backends),
        repeats=repeats or suite.repeats,
        time_limits=tuple(time_limits or suite.time_limits),
        seed=suite.seed if seed is None else seed,
        suite=suite.name,
        max_variables=dict(suite.max_variables),
        backend_options=dict(suite.backend_options),
        accounting=accounting or AccountingConfig(),
        warmup=warmup,
    )
