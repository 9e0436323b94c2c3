"""The benchmark runner: instances × backends × time budgets × repeats, one run at a time.

* **Same budget for everyone**: every backend gets the same ``time_limit`` on the same
  instance; runs that overshoot it are flagged in the report, not hidden.
* **One run at a time** by default, so runs never compete for cores; with an executor
  (``--jobs N``, ``--executor ray``) runs go to workers that each hold their own cores
  (pinned, threads set to match), and each row records where it ran (``placement_json``).
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
    executor: Any = None,
) -> BenchOutcome:
    """Run every pending run of ``plan`` into ``store`` (committing each) and say what happened.

    ``executor`` (a :class:`kakehashi.executors.Executor`, e.g. ``ProcessExecutor(2)`` or a
    ``RayExecutor``) spreads the runs over its workers; without one they run here, one after
    another. Either way this process is the store's only writer: workers send rows back.

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
        return _run_locked(plan, store, progress=progress, on_run=on_run, executor=executor)


def _run_locked(
    plan: BenchPlan,
    store: RunStore,
    *,
    progress: bool,
    on_run: Callable[[dict[str, Any]], None] | None,
    executor: Any,
) -> BenchOutcome:
    outcome = BenchOutcome()
    machine = describe_machine()
    rec = _Recorder(plan, store, outcome, on_run, store.machine_id(machine))
    done = store.done_keys()

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
    rec.bar = bar
    try:
        with bar:
            if executor is None:
                _run_serially(plan, rec, _runnable(plan, work, rec))
            else:
                _run_on(executor, plan, rec, _runnable(plan, work, rec))
    except KeyboardInterrupt:
        outcome.interrupted = True
        outcome.notes.append(
            f"interrupted: {outcome.new_runs} new runs were saved; run the same command "
            "again to resume"
        )
    return outcome


class _Recorder:
    """The driver's side of a benchmark: completes each row with provenance and stores it."""

    def __init__(self, plan, store, outcome, on_run, machine_id) -> None:
        self.plan, self.store, self.outcome, self.on_run = plan, store, outcome, on_run
        self.machine_id = machine_id
        self.cfg_json = to_json(plan.accounting.describe())
        self.versions = to_json(versions())
        self.records = {b.name: to_json(backend_record(b)) for b in plan.backends}
        self.bar: Any = None

    def record(self, inst, backend, rep, tl, seed, options, row, where=None) -> None:
        row.update(
            suite=self.plan.suite, instance=inst.name, backend=backend.name, repeat=rep,
            time_limit=float(tl), seed=seed, modality=backend.info.modality,
            vendor=backend.info.vendor, hardware=backend.info.hardware,
            params_json=to_json({"time_limit": tl, "seed": seed, "options": options}),
            versions_json=self.versions, backend_info_json=self.records[backend.name],
            accounting_json=self.cfg_json, machine_id=self.machine_id, finished_at=now(),
            placement_json=to_json(where or _here()), placement=where_line(where or _here()),
        )  # fmt: skip
        if not self.store.record_run(row):  # finished meanwhile: keep the first
            self.outcome.skipped_done += 1
            self.bar.advance(1)
            return
        self.outcome.new_runs += 1
        self.outcome.errors += row["status"] == "error"
        if self.on_run is not None:
            self.on_run(row)
        self.bar.advance(1)


def _here() -> dict[str, Any]:
    import socket

    return {"executor": "serial", "host": socket.gethostname(), "pid": os.getpid()}


def where_line(where: dict[str, Any]) -> str:
    from kakehashi.executors.base import where_line as line

    return line(where)


def _runnable(plan: BenchPlan, work, rec: _Recorder):
    """Yield ``(inst, problem, backend, repeat, time_limit, seed, options)`` for each run to
    make; instances that cannot be built and runs the suite skips are recorded on the way."""
    outcome = rec.outcome
    for inst, pending in work:
        try:
            problem = inst.build()
            target, target_source = inst.target(problem)
        except InstanceUnavailable as exc:
            outcome.notes.append(f"instance {inst.name} not run: {exc}")
            rec.bar.advance(len(pending))
            continue
        except Exception as exc:  # a broken instance must not stop the benchmark
            outcome.notes.append(
                f"instance {inst.name} not run: it could not be built ({type(exc).__name__}: {exc})"
            )
            rec.bar.advance(len(pending))
            continue
        rec.store.record_instance(
            {
                "name": inst.name, "suite": plan.suite, "kind": inst.kind,
                "num_variables": problem.num_variables,
                "num_constraints": problem.num_constraints, "sense": problem.sense,
                "best_known": target, "best_known_source": target_source,
                "tags": ",".join(inst.tags), "spec_json": to_json(inst.spec),
            }
        )  # fmt: skip
        for backend, rep, tl, seed in pending:
            options = dict(plan.backend_options.get(backend.name, {}))
            limit = plan.max_variables.get(backend.name)
            if limit is not None and problem.num_variables > limit:
                row = {
                    "status": "skipped",
                    "error": f"the suite runs {backend.name} only up to {limit} variables "
                    f"(this instance has {problem.num_variables})",
                    "started_at": now(),
                }
                rec.record(inst, backend, rep, tl, seed, options, row, {"executor": "not run"})
                continue
            yield inst, problem, backend, rep, tl, seed, options


def _run_serially(plan: BenchPlan, rec: _Recorder, runs) -> None:
    warmed: set[str] = set()
    for inst, problem, backend, rep, tl, seed, options in runs:
        rec.bar.describe(f"{inst.name} · {backend.name} · {tl:g}s · run {rep + 1}")
        if plan.warmup and backend.name not in warmed:
            note = _warm_up(backend, tl, options)
            if note:
                rec.outcome.notes.append(note)
            warmed.add(backend.name)
        row = _run_one(problem, backend, tl, seed, options, plan.accounting)
        rec.record(inst, backend, rep, tl, seed, options, row)


def _run_on(executor: Any, plan: BenchPlan, rec: _Recorder, runs) -> None:
    """Submit every run to ``executor``; store each row as it comes back (the driver is the
    store's only writer). Ctrl-C or an error here cancels what is still out."""
    from kakehashi.executors.placement import DriverSide, needs_driver

    out: dict[int, tuple] = {}
    if executor.name == "ray":  # runs needing vendor credentials stay on the driver's machine
        executor = DriverSide(executor)
    try:
        for inst, problem, backend, rep, tl, seed, options in runs:
            here = isinstance(executor, DriverSide) and needs_driver(backend)
            run = (executor.submit_here if here else executor.submit)(
                bench_task, problem, _backend_ref(backend), tl, seed, options,
                plan.accounting, plan.warmup,
            )  # fmt: skip
            out[id(run)] = (run, inst, backend, rep, tl, seed, options)
        while out:
            done, _ = executor.wait([v[0] for v in out.values()], timeout=1.0)
            for run in done:
                _, inst, backend, rep, tl, seed, options = out.pop(id(run))
                try:
                    row, notes = run.result()
                except Exception as exc:  # the worker died or could not start the run
                    row, notes = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                                  "started_at": now()}, []  # fmt: skip
                rec.outcome.notes.extend(n for n in notes if n not in rec.outcome.notes)
                rec.bar.describe(f"{inst.name} · {backend.name} · {tl:g}s · run {rep + 1}")
                rec.record(inst, backend, rep, tl, seed, options, row, run.where)
    finally:
        left = [v[0] for v in out.values()]
        if left:
            executor.cancel(left)
        if isinstance(executor, DriverSide):
            executor.close()  # its local pool; the cluster belongs to the caller


def _backend_ref(backend: Backend) -> Any:
    """A registered backend travels by name (workers resolve it), any other as the object."""
    from kakehashi.backends.base import get_backend

    try:
        return backend.name if get_backend(backend.name) is backend else backend
    except KakehashiError:
        return backend


_WORKER_WARMED: set[str] = set()


def bench_task(
    problem: Any,
    backend: Any,
    time_limit: float,
    seed: int,
    options: dict[str, Any],
    cfg: AccountingConfig,
    warmup: bool,
) -> tuple[dict[str, Any], list[str]]:
    """One benchmark run in a worker: warm the backend up once per worker process, then
    run and measure exactly as the serial runner does. Returns ``(row, notes)``."""
    from kakehashi.backends.base import get_backend

    backend = get_backend(backend)
    notes = []
    if warmup and backend.name not in _WORKER_WARMED:
        note = _warm_up(backend, time_limit, options)
        if note:
            notes.append(note)
        _WORKER_WARMED.add(backend.name)
    return _run_one(problem, backend, time_limit, seed, options, cfg), notes


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
