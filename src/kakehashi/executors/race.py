"""The portfolio race: several backends on one problem at once, under one wall-clock budget.

Each contestant runs ``kakehashi.solve`` with one backend in a place of its own (a pinned
worker process by default, or a Ray worker). The race stops as soon as

* a contestant returns a **proven optimum** (an exact solver that finished: HiGHS/SCIP/CP-SAT
  with status ``optimal``, or exhaustive enumeration), or
* a contestant's best-so-far (its progress stream, or its answer) reaches ``target``, or
* every contestant has returned, or
* every contestant still running is out of time: its own ``time_limit`` (counted, as for a
  single solve, from the end of its one-time warm-up) plus a small allowance is spent,

then stops every contestant still running (SIGTERM, then SIGKILL after 0.5 s; a Ray task is
force-cancelled) and returns the best answer — feasible first, then by objective — after
evaluating it again against the problem in the driver. ``result.info["race"]`` says who won
and why, when each contestant improved (driver clock), and what every contestant cost (CPU
seconds, money, where it ran, how long stopping it took).

Example:
    >>> import kakehashi
    >>> r = race(kakehashi.examples.small_maxcut(), ["exact", "tabu"], time_limit=5, seed=1)
    >>> r.info["race"]["winner"], r.info["race"]["decided_by"]
    ('exact', 'optimal')
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from typing import Any

from kakehashi import progress
from kakehashi.errors import BackendError, KakehashiError, UnsupportedError
from kakehashi.executors.base import CANCELLED, DONE, Executor, Run
from kakehashi.executors.placement import DriverSide, needs_driver
from kakehashi.model.problem import Problem
from kakehashi.result import Result, Timing

DEFAULT_TIME_LIMIT = 10.0
STOP_GRACE = 0.5  # seconds between SIGTERM and SIGKILL


STARTUP_LIMIT = 60.0  # seconds a contestant may take to start its clock (first numba compile)


def overshoot_allowance(time_limit: float) -> float:
    """How long past its own ``time_limit`` a contestant may run before it is stopped.

    A contestant's clock starts, as for a single solve, after its one-time warm-up (process
    start, loading compiled kernels: ~0.5-1.5 s here); it then has ``time_limit`` seconds
    plus this allowance to hand its answer back.

    Example:
        >>> overshoot_allowance(10.0)
        2.0
    """
    return 1.0 + 0.1 * time_limit


# ---------------------------------------------------------------------- in the contestant
def run_contestant(
    problem: Problem,
    backend: str,
    time_limit: float,
    seed: int | None,
    options: dict[str, Any],
    target: float | None = None,
) -> dict[str, Any]:
    """Solve ``problem`` on ``backend`` (this runs where the executor put it) and return the
    Result's parts without the problem (the driver re-evaluates the samples on its copy)."""
    from kakehashi.backends.base import get_backend
    from kakehashi.solve import solve

    chosen = get_backend(backend)
    warm_up = getattr(chosen, "warm_up", None)
    if callable(warm_up):
        warm_up()  # before the clock, as in a single solve; the driver is told when it ends
    progress.report(clock="started")
    stop_at = engine_target(chosen, problem, target)
    if stop_at is not None and "target" not in options:
        options = {**options, "target": stop_at}
    result = solve(problem, backend=backend, time_limit=time_limit, seed=seed, **options)
    if result.num_samples:
        progress.report(objective=result.objective, feasible=result.feasible, final=True)
    return {
        "samples": result.samples,
        "backend": result.backend,
        "timing": dataclasses.asdict(result.timing),
        "seed": result.seed,
        "resources": dataclasses.asdict(result.resources),
        "backend_info": result.backend_info,
        "info": result.info,
        "versions": result.versions,
        "status": result.status,
    }


def engine_target(backend: Any, problem: Problem, target: float | None) -> float | None:
    """The energy at which one of kakehashi's own engines should stop by itself, when the
    race has a ``target``: without constraints a QUBO's energy is the objective (negated
    for maximisation), so the engine can stop the moment it gets there. With constraints
    the penalised energy is not the objective, and no engine target is set.

    Example:
        >>> import kakehashi
        >>> from kakehashi.backends import get_backend
        >>> engine_target(get_backend("tabu"), kakehashi.examples.small_maxcut(), -5.0)
        -5.0
    """
    if target is None or problem.num_constraints or not hasattr(backend, "engine_name"):
        return None
    return float(target) if problem.sense == "min" else -float(target)


def rebuild_result(problem: Problem, parts: dict[str, Any]) -> Result:
    """A contestant's answer evaluated (again) against the driver's own problem."""
    from kakehashi.result import Resources

    timing = Timing(**parts["timing"])
    return Result.from_samples(
        problem,
        parts["samples"],
        backend=parts["backend"],
        timing=timing,
        seed=parts["seed"],
        resources=Resources(**parts["resources"]),
        backend_info=parts["backend_info"],
        info=parts["info"],
        versions=parts["versions"],
        status=parts["status"],
    )


def proven_optimal(result: Result) -> bool:
    """True when ``result`` is a feasible answer its backend proved optimal."""
    if not result.num_samples or not result.feasible:
        return False
    if result.info.get("status") == "optimal" or result.info.get("proven_optimal") is True:
        return True
    # exhaustive enumeration (backend "exact") is optimal by construction
    return result.backend_info.get("modality") == "classical exact" and (
        "assignments_enumerated" in result.info
    )


def reaches(value: float, feasible: bool, target: float | None, sense: str) -> bool:
    """Whether a feasible ``value`` meets ``target`` in the problem's sense.

    Example:
        >>> reaches(-5.0, True, -5.0, "min"), reaches(9.0, True, 10.0, "max")
        (True, False)
    """
    if target is None or not feasible:
        return False
    return value <= target if sense == "min" else value >= target


def better(a: tuple[bool, float], b: tuple[bool, float] | None, sense: str) -> bool:
    """Is (feasible, objective) ``a`` strictly better than ``b`` (feasible first)?"""
    if b is None:
        return True
    if a[0] != b[0]:
        return a[0]
    return a[1] < b[1] if sense == "min" else a[1] > b[1]


# ---------------------------------------------------------------------- in the driver
@dataclasses.dataclass
class _Contestant:
    backend: str
    run: Run
    result: Result | None = None
    best: tuple[bool, float] | None = None
    improvements: list[list[Any]] = dataclasses.field(default_factory=list)
    seen_events: int = 0
    clock_started: float | None = None  # driver clock (perf_counter)


def race(
    problem: Any,
    backends: Sequence[str],
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    target: float | None = None,
    executor: str | Executor = "process",
    address: str | None = None,
    backend_options: dict[str, dict[str, Any]] | None = None,
    **options: Any,
) -> Result:
    """Race ``backends`` on ``problem`` for ``time_limit`` seconds; return the best answer.

    ``options`` go to every contestant, ``backend_options[name]`` to one. ``executor`` is
    ``"process"`` (one pinned worker process per contestant, the machine's cores shared
    out among them), ``"ray"`` (a Ray task each, on the cluster ``ray.init`` connects to),
    ``"in-process"`` (one after the other: no race, but the same record), or an
    :class:`~kakehashi.executors.base.Executor`; ``address`` names the Ray cluster for
    ``executor="ray"`` (``"auto"``: the one started with ``ray start``). Every contestant
    gets the same seed.

    Example:
        >>> import kakehashi
        >>> p = kakehashi.examples.knapsack(8)
        >>> r = race(p, ["highs", "tabu"], time_limit=5, seed=0)
        >>> r.feasible, r.info["race"]["winner"]
        (True, 'highs')
    """
    from kakehashi.backends.base import get_backend, require_available
    from kakehashi.executors import get_executor
    from kakehashi.solve import as_problem

    prob = as_problem(problem).validate()
    names = _contestant_names(backends)
    for name in names:
        require_available(get_backend(name))
    names, not_run = check_applicable(names, prob)
    budget = DEFAULT_TIME_LIMIT if time_limit is None else float(time_limit)
    if not budget > 0:
        raise KakehashiError(f"time_limit must be a positive number of seconds, got {time_limit}")
    per_backend = backend_options or {}
    unknown = set(per_backend) - set(names)
    if unknown:
        raise KakehashiError(
            f"backend_options names {sorted(unknown)}, which are not in the race {names}"
        )
    for name in names:  # misspelt options are refused here, before any process starts
        validate = getattr(get_backend(name), "validate_options", None)
        if callable(validate):
            validate({**options, **per_backend.get(name, {})})
    owned = not isinstance(executor, Executor)
    if address is not None and executor != "ray":
        raise KakehashiError("address= names a Ray cluster; pass executor='ray' with it")
    shape = {"address": address} if executor == "ray" else _pool_shape(executor, len(names))
    ex = get_executor(executor, **shape) if owned else executor
    here = [n for n in names if needs_driver(n)] if ex.name == "ray" else []
    if here:  # credentials stay on the driver: those contestants run in local workers
        ex, owned = DriverSide(ex, max_local_workers=len(here), owns_remote=owned), True
    t0 = time.perf_counter()
    field: list[_Contestant] = []
    try:
        for name in names:
            opts = {**options, **per_backend.get(name, {})}
            submit = ex.submit_here if name in here else ex.submit
            run = submit(run_contestant, prob, name, budget, seed, opts, target)
            field.append(_Contestant(name, run))
        decided_by, leader = _run_race(ex, field, prob, budget, target, t0)
        decided_at = time.perf_counter() - t0
        if leader is not None and not leader.run.done():
            # it reported the target and is handing its answer back: let it finish
            left = _deadline(leader, budget, t0) - time.perf_counter()
            ex.wait([leader.run], timeout=max(0.0, left))
        losers = [c.run for c in field if not c.run.done()]
        ex.cancel(losers, grace=STOP_GRACE)
        for c in field:
            _take_in(c, prob, t0)
    finally:
        left = [c.run for c in field if not c.run.done()]
        if left:  # an exception or Ctrl-C in the driver: leave nothing running
            ex.cancel(left, grace=STOP_GRACE)
        if owned:
            ex.close()
    result = _verdict(field, prob, decided_by, decided_at, budget, target, ex, t0)
    result.info["race"]["not_run"] = not_run
    return result


def _contestant_names(backends: Sequence[str]) -> list[str]:
    names = [b if isinstance(b, str) else getattr(b, "name", str(b)) for b in backends]
    if len(names) < 1:
        raise KakehashiError("a race needs at least one backend; name two or more")
    if len(set(names)) != len(names):
        raise KakehashiError(f"a backend is listed twice in the race {names}; list each once")
    return names


def _pool_shape(executor: str, contestants: int) -> dict[str, Any]:
    """One fresh, pinned worker per contestant, the usable cores shared out among them."""
    if executor != "process":
        return {}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return {
        "max_workers": contestants,
        "cores_per_run": max(1, cores // contestants),
        "reuse": False,
    }


def _run_race(
    ex: Executor,
    field: list[_Contestant],
    prob: Problem,
    budget: float,
    target: float | None,
    t0: float,
) -> tuple[str, _Contestant | None]:
    """Wait, taking in progress and answers, until the race is decided; say what decided it
    (and, for a target, who reached it)."""
    runs = [c.run for c in field]
    relayed: tuple[bool, float] | None = None
    while True:
        ex.wait([r for r in runs if not r.done()], timeout=0.05)
        for c in field:
            _take_in(c, prob, t0)
        relayed = _relay_best(field, relayed, prob.sense, budget, t0)
        for c in field:
            if c.result is not None and proven_optimal(c.result):
                return "optimal", c
            if c.best is not None and reaches(c.best[1], c.best[0], target, prob.sense):
                return "target", c
        if all(r.done() for r in runs):
            return "all finished", None
        now = time.perf_counter()
        if all(c.run.done() or now >= _deadline(c, budget, t0) for c in field):
            return "time", None


def _relay_best(
    field: list[_Contestant],
    relayed: tuple[bool, float] | None,
    sense: str,
    budget: float,
    t0: float,
) -> tuple[bool, float] | None:
    """Report the field's best so far to whoever follows this race (the job service
    follows a race job through :mod:`kakehashi.progress`), with the race's clock; what was
    reported last."""
    for c in field:
        if c.best is not None and better(c.best, relayed, sense):
            relayed = c.best
            elapsed = time.perf_counter() - t0
            progress.report(
                objective=c.best[1],
                feasible=c.best[0],
                backend=c.backend,
                elapsed=elapsed,
                budget=budget,
            )
    return relayed


def _deadline(c: _Contestant, budget: float, t0: float) -> float:
    """When a contestant is out of time: its clock start + budget + allowance (or the
    start-up limit while its clock has not started)."""
    if c.clock_started is None:
        return t0 + STARTUP_LIMIT + budget
    return c.clock_started + budget + overshoot_allowance(budget)


def _take_in(c: _Contestant, prob: Problem, t0: float) -> None:
    """Record a contestant's new progress events and, once it returned, its answer."""
    for ev in c.run.events[c.seen_events :]:
        if ev.get("clock") == "started":
            c.clock_started = c.run.submitted_at + ev["t"]
        if "objective" in ev:
            value = (bool(ev.get("feasible", True)), float(ev["objective"]))
            if better(value, c.best, prob.sense):
                c.best = value
                t = c.run.submitted_at + ev["t"] - t0
                c.improvements.append([round(t, 4), value[1], value[0]])
    c.seen_events = len(c.run.events)
    if c.result is None and c.run.status == DONE:
        c.result = rebuild_result(prob, c.run.value)
        if c.result.num_samples:
            value = (c.result.feasible, c.result.objective)
            if better(value, c.best, prob.sense):
                c.best = value
                t = (c.run.ended_at or time.perf_counter()) - t0
                c.improvements.append([round(t, 4), value[1], value[0]])


def _verdict(
    field: list[_Contestant],
    prob: Problem,
    decided_by: str,
    decided_at: float,
    budget: float,
    target: float | None,
    ex: Executor,
    t0: float,
) -> Result:
    finished = [c for c in field if c.result is not None and c.result.num_samples]
    if not finished:
        errors = "; ".join(f"{c.backend}: {_run_error(c.run)}" for c in field)
        raise BackendError(f"no contestant of the race returned an answer ({errors})")
    winner = finished[0]
    for c in finished[1:]:
        if better((c.result.feasible, c.result.objective), (winner.result.feasible,
                  winner.result.objective), prob.sense):  # fmt: skip
            winner = c
    rows = [_contestant_row(c, c is winner, prob) for c in field]
    known_cpu = [r["cpu_seconds"] for r in rows if r["cpu_seconds"] is not None]
    known_money = [r["money"] for r in rows if r["money"] is not None]
    losers = [r for r in rows if r["backend"] != winner.backend]
    result = winner.result
    result.info["race"] = {
        "winner": winner.backend,
        "decided_by": decided_by,
        "decided_at": round(decided_at, 4),
        "time_limit": budget,
        "target": target,
        "executor": ex.name,
        "contestants": rows,
        "cpu_seconds_total": sum(known_cpu),
        "money_total": sum(known_money) if known_money else None,
        "losers_cpu_seconds": sum(r["cpu_seconds"] or 0.0 for r in losers),
        "losers_money": sum(r["money"] or 0.0 for r in losers) if losers else 0.0,
        "unaccounted": [r["backend"] for r in rows if r["cpu_seconds"] is None],
    }
    # what the user paid for is the whole race: every contestant's CPU time and money
    result.resources.cpu_seconds = sum(known_cpu) if known_cpu else None
    result.resources.money = sum(known_money) if known_money else result.resources.money
    result.resources.notes = (
        result.resources.notes + " " if result.resources.notes else ""
    ) + "race: CPU seconds and money summed over every contestant (see info['race'])"
    result.timing.total = time.perf_counter() - t0
    return result


def _contestant_row(c: _Contestant, won: bool, prob: Problem) -> dict[str, Any]:
    run = c.run
    status = (
        "won" if won else
        "finished" if c.result is not None else
        "stopped" if run.status == CANCELLED else
        "failed"
    )  # fmt: skip
    r = c.result
    return {
        "backend": c.backend,
        "status": status,
        "objective": r.objective if r is not None and r.num_samples else None,
        "feasible": r.feasible if r is not None and r.num_samples else None,
        "proven_optimal": bool(r is not None and proven_optimal(r)),
        "improvements": c.improvements,
        "time_to_best": (r.info.get("time_to_best") if r is not None else None),
        "wall_seconds": (run.ended_at - run.submitted_at) if run.ended_at else None,
        "cpu_seconds": run.cpu_seconds,
        "money": _money(c.backend, run.cpu_seconds, r, prob),
        "stop_seconds": run.stop_seconds,
        "where": run.where,
        "error": _run_error(run) if status == "failed" else None,
    }


def _run_error(run: Run) -> str:
    if run.status == CANCELLED:
        return "stopped before it answered"
    if run.error is None:
        return "no answer"
    return f"{type(run.error).__name__}: {run.error}"


def _money(name: str, cpu_seconds: float | None, result: Result | None, prob: Problem):
    """What a contestant cost: the backend's own figure, else CPU time at the catalog's vCPU
    rate for local backends, else the catalog's estimate of the run it made (cloud), else
    unknown (``None``) — e.g. a cloud run stopped before its task was submitted."""
    if result is not None and result.resources.money is not None:
        return float(result.resources.money)
    try:
        from kakehashi.backends.catalog import cpu_rates, entry, estimate

        model = entry(name)["price"]["model"]
        if model == "cpu-time":
            return None if cpu_seconds is None else cpu_seconds * cpu_rates()[0] / 3600.0
        if result is not None:
            return estimate(name, prob).money
    except (KakehashiError, KeyError, TypeError):
        return None
    return None


def check_applicable(names: Sequence[str], problem: Problem) -> tuple[list[str], list[str]]:
    """Split ``names`` into backends that accept ``problem`` (``backend.check``, where the
    backend declares one) and reasons for those that do not; raises
    :class:`UnsupportedError` naming why when none does."""
    from kakehashi.backends.base import get_backend

    ok, why = [], []
    for name in names:
        check = getattr(get_backend(name), "check", None)
        verdict = check(problem) if callable(check) else True
        if verdict:
            ok.append(name)
        else:
            why.append(f"{name}: {'; '.join(getattr(verdict, 'reasons', []) or ['refused'])}")
    if not ok:
        raise UnsupportedError("no backend in the race accepts this problem: " + " | ".join(why))
    return ok, why
