"""`kakehashi.solve`: any problem form in, a checked :class:`Result` out."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from kakehashi.backends.arguments import check_seed, check_time_limit
from kakehashi.backends.base import Backend, get_backend, run_on
from kakehashi.errors import KakehashiError, ModelError
from kakehashi.model.problem import CONTINUOUS, Problem
from kakehashi.result import Result

# Preference order for backend="auto" among heuristics, best first; the first available
# wins. The router issue replaces this rule with a learned choice and a portfolio race.
AUTO_HEURISTICS = ("tabu", "sa", "reference-sa")
AUTO_EXACT_ASSIGNMENTS = 2**16


def as_problem(obj: Any) -> Problem:
    """Turn any supported problem form into a :class:`Problem`.

    Accepts a Problem, a :class:`kakehashi.Model` (anything with ``to_problem()``), an
    ``ommx.v1.Instance``, a dimod BQM/CQM, a qiskit-optimization ``QuadraticProgram``, or a
    path to a file that :func:`kakehashi.load` reads.
    """
    if isinstance(obj, Problem):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        from kakehashi.model.io import load

        return load(obj)
    if hasattr(obj, "to_problem"):
        return obj.to_problem()
    module = type(obj).__module__
    if module.startswith("ommx"):
        from kakehashi.model.ommx_io import from_ommx

        return from_ommx(obj)
    if module.startswith("dimod"):
        from kakehashi.model.dimod_io import from_dimod

        return from_dimod(obj)
    if module.startswith("qiskit_optimization"):
        from kakehashi.model.qiskit_io import from_quadratic_program

        return from_quadratic_program(obj)
    raise ModelError(
        f"cannot solve an object of type {type(obj).__name__}; pass a kakehashi.Problem or "
        "Model, an ommx.v1.Instance, a dimod BQM/CQM, a qiskit QuadraticProgram, or a file path"
    )


def choose_backend(problem: Problem) -> Backend:
    """The rule behind ``backend="auto"``: exact when tiny, MIP when continuous, else the
    best available heuristic."""
    if np.any(problem.vtype == CONTINUOUS):
        for name in ("highs", "scip"):
            try:
                backend = get_backend(name)
            except KakehashiError:
                continue
            if backend.available():
                return backend
        raise ModelError(
            "this problem has continuous variables and no MIP backend is installed; "
            "pip install 'kakehashi[mip]' and solve with backend='highs'"
        )
    spans = np.where(problem.vtype == 1, 2, problem.upper - problem.lower + 1)
    if float(np.prod(np.minimum(spans, 2**20))) <= AUTO_EXACT_ASSIGNMENTS:
        return get_backend("exact")
    for name in AUTO_HEURISTICS:
        try:
            backend = get_backend(name)
        except KakehashiError:
            continue
        if backend.available():
            return backend
    raise KakehashiError("no heuristic backend is available; reinstall kakehashi")


def solve(
    problem: Any,
    backend: str | Backend = "auto",
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    max_cost: float | None = None,
    prefer: str | None = None,
    portfolio: int | None = None,
    router: str | None = None,
    **options: Any,
) -> Result:
    """Solve ``problem`` on ``backend`` within ``time_limit`` seconds.

    ``time_limit`` is a finite number of seconds, ``0 < time_limit ≤ 604800`` (one week);
    ``seed`` an integer in ``[0, 2**63 - 1]`` (negative seeds are refused, not mapped);
    ``backend`` a registered name, ``"auto"``, or a backend object. Options the backend does
    not declare (``backend.parameters``) are refused with the closest valid names, and a
    problem the backend cannot take is refused before any work with ``backend.check``'s
    reasons (:class:`~kakehashi.errors.UnsupportedError`).

    ``max_cost`` (in the backend's currency, USD in the catalog) refuses the run with
    :class:`~kakehashi.errors.BudgetError` before anything is sent when the catalog's
    estimate exceeds it (see ``backend.estimate``).

    ``backend="auto"`` lets :mod:`kakehashi.router` choose (``prefer="quality" | "time" |
    "cost" | "co2" | "quantum"``, ``router=`` a model file or ``"rule"``); the choice and
    its reason are in ``result.info["router"]``.

    Every answer is decoded to the problem's own variables and evaluated against the
    original problem, whatever machine produced it.

    Example:
        >>> import kakehashi
        >>> result = kakehashi.solve(kakehashi.examples.small_maxcut(), seed=1)
        >>> result.feasible
        True
    """
    t0 = time.perf_counter()
    time_limit, seed = check_time_limit(time_limit), check_seed(seed)
    prob = as_problem(problem).validate()
    if seed is None:
        # a run is always reproducible: draw a seed and record it
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    decision = None
    if _is_auto(backend):
        from kakehashi.router.selector import route

        decision = route(prob, time_limit=time_limit, prefer=prefer or "quality",
                         max_cost=max_cost, router=router, options=options)  # fmt: skip
        if portfolio is not None:
            from kakehashi.router.portfolio import race_top

            return race_top(prob, decision, portfolio, time_limit=time_limit, seed=seed,
                            t0=t0, max_cost=max_cost, **options)  # fmt: skip
        chosen = get_backend(decision.choice)
    elif prefer is not None or portfolio is not None or router is not None:
        raise KakehashiError(
            "prefer=, portfolio= and router= choose among backends: use them with backend='auto'"
        )
    else:
        chosen = get_backend(backend)
    result = run_on(chosen, prob, time_limit=time_limit, seed=seed, max_cost=max_cost, **options)
    result.timing.total = time.perf_counter() - t0
    if decision is not None:
        result.info["auto_choice"] = chosen.name
        result.info["router"] = decision.to_dict()
    return result


def _is_auto(backend: Any) -> bool:
    return isinstance(backend, str) and backend == "auto"
