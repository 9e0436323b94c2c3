"""The adaptive penalty loop shared by every heuristic (QUBO-sampling) backend.

It lives in the backend layer, not in ``compile/``: compilation only turns a Problem into a
Qubo; this loop drives a sampler, so it belongs with the samplers.

Round 1 samples the Qubo with the automatic weights. While no sample is feasible and time
remains, the weights of the constraint groups that stay violated are raised 4× and the Qubo is
re-sampled (only the penalty part is rebuilt). Once a feasible sample exists the rest of the
budget goes to one last round at those weights. Every sample of every round is kept and
evaluated against the original problem once (the evaluation is handed to the Result, which
does not evaluate again), so nothing the sampler found is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from kakehashi import progress
from kakehashi.backends.base import RunOutput
from kakehashi.compile.compiler import Compiled, compile_problem
from kakehashi.errors import OptionError
from kakehashi.model.problem import Problem

RAISE_FACTOR = 4.0  # rounds are expensive: reach a sufficient weight in few of them
MAX_RAISE = 2.0**12  # a weight never grows past 4096× its automatic value


def round_seed(seed: int | None, round_index: int) -> int | None:
    """A distinct, reproducible seed per round (``None`` stays unseeded)."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([int(seed), round_index]).generate_state(1)[0])


def adaptive_solve(
    problem: Problem,
    *,
    sampler: Callable[[Any, float, int | None], Any],
    check: Callable[[Any], None] | None = None,
    time_limit: float,
    seed: int | None,
    penalty: str | float | dict[str, float] = "adaptive",
    integer_encoding: str = "log",
    max_rounds: int = 8,
    report_improvements: bool = False,
) -> RunOutput:
    """Compile, sample and re-weight within ``time_limit`` seconds.

    ``sampler(qubo, time_limit, seed)`` returns a :class:`~kakehashi.backends.base.SampleBatch`;
    the answer is the :class:`~kakehashi.backends.base.RunOutput` the Result is built from.
    ``penalty`` is ``"adaptive"`` (default), ``"fixed"`` (automatic weights, one round), a
    float scaling the automatic weights, or a dict of weights per constraint group (both
    also adaptive unless ``max_rounds=1``).

    Progress (:func:`kakehashi.progress.report`, for an executor or the job service): each
    round reports its best objective; with ``report_improvements`` the sampler is also
    called with ``on_improve=`` and each feasible improvement it calls back with within a
    round is reported as it happens (the sampler's engine calls back between its batches).
    """
    if penalty not in ("adaptive", "fixed") and not isinstance(penalty, (int, float, dict)):
        raise OptionError(
            f"penalty={penalty!r} is not understood; use 'adaptive', 'fixed', a number that "
            "scales the automatic weights, or a dict of weights per constraint group"
        )
    start = time.perf_counter()
    t = time.perf_counter()
    weights = penalty if isinstance(penalty, (int, float, dict)) else None
    compiled = compile_problem(problem, weights=weights, integer_encoding=integer_encoding)
    run = RunOutput(samples=np.zeros((0, problem.num_variables)))
    run.compile_seconds = time.perf_counter() - t
    if check is not None:
        check(compiled.qubo)
    constrained = compiled.C.shape[0] > 0
    rounds = 1 if (not constrained or penalty == "fixed") else max(1, int(max_rounds))
    history: list[dict[str, Any]] = []
    auto_weights = compiled.weights.copy()
    all_samples: list[np.ndarray] = []
    all_evals: list[dict[str, np.ndarray]] = []
    found_feasible = False
    live = _LiveBest(problem, start, time_limit)
    for r in range(rounds):
        remaining = time_limit - (time.perf_counter() - start)
        if r > 0 and remaining <= 0.01 * time_limit:
            break
        last = r == rounds - 1 or found_feasible
        # the first constrained round takes a quarter of the budget so that re-weighting
        # still has time; a round after feasibility was found takes everything left
        share = 1.0 if (last or not constrained) else (0.25 if r == 0 else 0.5)
        budget = max(remaining * share, 0.0)
        t = time.perf_counter()
        # only when someone follows the run (an executor, the job service): otherwise the
        # engine is not asked to evaluate its batches at all
        follow = report_improvements and progress.listening()
        extra = {"on_improve": live.callback(compiled, r)} if follow else {}
        batch = sampler(compiled.qubo, budget, round_seed(seed, r), **extra)
        run.solve_seconds += time.perf_counter() - t - batch.queue_seconds
        run.queue_seconds += batch.queue_seconds
        for k, v in batch.vendor_timing.items():
            run.vendor_timing[k] = run.vendor_timing.get(k, 0.0) + float(v)
        t = time.perf_counter()
        X = compiled.decode(batch.samples)
        all_samples.append(X)
        ev = problem.evaluate(X)
        all_evals.append(ev)
        run.decode_seconds += time.perf_counter() - t
        feasible_now = bool(ev["feasible"].any())
        _report_round(problem, ev, r, live)
        history.append(
            {
                "round": r,
                "weights": compiled.weight_map,
                "samples": int(X.shape[0]),
                "feasible": int(ev["feasible"].sum()),
                "time_limit": budget,
                # when this round began (s after the call), and what it found: lets a
                # benchmark time the run's final answer from the round that produced it
                "started": t - start,
                **_round_best(problem.sense, ev, batch.energies),
                **batch.info,
            }
        )
        if last:
            break
        if feasible_now:
            found_feasible = True
            continue
        t = time.perf_counter()
        compiled = _raise_violated(compiled, problem, ev, auto_weights)
        run.compile_seconds += time.perf_counter() - t
    if all_samples:
        run.samples = np.concatenate(all_samples)
        run.evaluation = {k: np.concatenate([ev[k] for ev in all_evals]) for k in all_evals[0]}
    run.info = {
        "rounds": history,
        "final_weights": compiled.weight_map,
        "qubo_variables": compiled.num_binaries,
        "slack_variables": compiled.num_slack,
        "aux_variables": compiled.num_aux,
        "integer_encoding": integer_encoding,
    }
    return run


def _round_best(sense: str, ev: dict[str, np.ndarray], energies: np.ndarray) -> dict[str, Any]:
    """The round's best feasible objective, and whether its lowest-energy sample is that
    answer (then the engine's ``time_to_best`` is the time it was found)."""
    feasible = np.asarray(ev["feasible"], dtype=bool)
    objective = np.asarray(ev["objective"], dtype=float)
    if not feasible.any():
        return {"best_feasible_objective": None, "lowest_energy_is_best": False}
    best = float(objective[feasible].min() if sense == "min" else objective[feasible].max())
    energies = np.asarray(energies if energies is not None else [], dtype=float)
    k = int(np.argmin(energies)) if energies.size == objective.size and energies.size else -1
    lowest_is_best = k >= 0 and bool(feasible[k]) and float(objective[k]) == best
    return {"best_feasible_objective": best, "lowest_energy_is_best": lowest_is_best}


def _report_round(problem: Problem, ev: dict[str, np.ndarray], r: int, live: _LiveBest) -> None:
    """Tell an executor (if one runs us) the best objective so far: the round's best feasible
    sample, else its best sample marked infeasible."""
    if not ev["objective"].size:
        return
    feasible = bool(ev["feasible"].any())
    pick = ev["feasible"] if feasible else np.ones(ev["objective"].size, bool)
    objs = ev["objective"][pick]
    best = float(objs.min() if problem.sense == "min" else objs.max())
    if feasible:
        live.best = best if live.best is None else live.better_of(live.best, best)
    progress.report(objective=best, feasible=feasible, round=r, **live.clock())


class _LiveBest:
    """The best feasible objective reported so far in this run, and the callbacks that
    report a sampler's improvements within a round (decoded and evaluated against the
    problem, like every sample of the Result)."""

    def __init__(self, problem: Problem, start: float, budget: float) -> None:
        self.problem, self.start, self.budget = problem, start, budget
        self.best: float | None = None

    def better_of(self, a: float, b: float) -> float:
        return min(a, b) if self.problem.sense == "min" else max(a, b)

    def clock(self) -> dict[str, float]:
        """Where the run is on its clock: seconds since it started, and its budget."""
        return {"elapsed": time.perf_counter() - self.start, "budget": float(self.budget)}

    def callback(self, compiled: Compiled, r: int) -> Callable[[np.ndarray, float], None]:
        def on_improve(row: np.ndarray, energy: float) -> None:
            ev = self.problem.evaluate(compiled.decode(row[None, :]))
            if not bool(ev["feasible"][0]):
                return  # a lower energy that breaks a constraint is no best-so-far
            value = float(ev["objective"][0])
            if self.best is not None and self.better_of(self.best, value) == self.best:
                return
            self.best = value
            progress.report(objective=value, feasible=True, round=r, **self.clock())

        return on_improve


def _raise_violated(
    compiled: Compiled, problem: Problem, ev: dict[str, np.ndarray], auto: np.ndarray
) -> Compiled:
    """Raise the weights of the groups violated in the least-violated sample."""
    best = int(np.argmin(ev["total_violation"]))
    per_group = problem.group_violations(ev["violation"][best])
    new = compiled.weights.copy()
    for gi, name in enumerate(compiled.group_names):
        if per_group.get(name, 0.0) > 0:
            new[gi] = min(new[gi] * RAISE_FACTOR, auto[gi] * MAX_RAISE)
    if np.array_equal(new, compiled.weights):
        # nothing named is violated (a domain violation): raise everything a little
        new = np.minimum(new * RAISE_FACTOR, auto * MAX_RAISE)
    return compiled.with_weights(new)
