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

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from kakehashi.compile.compiler import Compiled, compile_problem
from kakehashi.errors import OptionError
from kakehashi.model.problem import Problem

RAISE_FACTOR = 4.0  # rounds are expensive: reach a sufficient weight in few of them
MAX_RAISE = 2.0**12  # a weight never grows past 4096× its automatic value


@dataclasses.dataclass
class AdaptiveRun:
    samples: np.ndarray
    evaluation: dict[str, np.ndarray] | None = None  # problem.evaluate(samples), done once
    compile_seconds: float = 0.0
    solve_seconds: float = 0.0
    decode_seconds: float = 0.0
    queue_seconds: float = 0.0
    vendor_timing: dict[str, float] = dataclasses.field(default_factory=dict)
    info: dict[str, Any] = dataclasses.field(default_factory=dict)


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
) -> AdaptiveRun:
    """Compile, sample and re-weight within ``time_limit`` seconds.

    ``sampler(qubo, time_limit, seed)`` returns a :class:`~kakehashi.backends.base.SampleBatch`.
    ``penalty`` is ``"adaptive"`` (default), ``"fixed"`` (automatic weights, one round), a
    float scaling the automatic weights, or a dict of weights per constraint group (both
    also adaptive unless ``max_rounds=1``).
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
    run = AdaptiveRun(samples=np.zeros((0, problem.num_variables)))
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
        batch = sampler(compiled.qubo, budget, round_seed(seed, r))
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
