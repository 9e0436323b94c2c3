"""Seeded instance generators for suites: the same name, parameters and seed always give the
same problem, so a suite file pins an instance without shipping it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi import examples
from kakehashi.errors import KakehashiError
from kakehashi.model.problem import Problem


def maxcut_random(n: int = 16, p: float = 0.5, seed: int = 0, weights: str = "unit") -> Problem:
    """Max-cut of an Erdős–Rényi graph G(n, p); ``weights`` ``"unit"`` or ``"pm1"`` (±1).
    The objective is the cut value, maximised.

    Example:
        >>> maxcut_random(8, 0.5, seed=1).sense
        'max'
    """
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(n, 1)
    keep = rng.random(iu[0].size) < p
    i, j = iu[0][keep], iu[1][keep]
    w = np.ones(i.size) if weights == "unit" else rng.choice([-1.0, 1.0], size=i.size)
    lin = np.bincount(i, weights=w, minlength=n) + np.bincount(j, weights=w, minlength=n)
    quad = sp.coo_matrix((-2.0 * w, (i, j)), shape=(n, n))
    return Problem.from_arrays(
        linear=lin, quadratic=quad, sense="max", name=f"maxcut-g{n}-p{p:g}-s{seed}", var_name="side"
    )


def qubo_random(
    n: int = 20, density: float = 0.3, seed: int = 0, low: int = -100, high: int = 100
) -> Problem:
    """Beasley-style random QUBO: integer coefficients uniform in [low, high], minimised.

    Example:
        >>> qubo_random(10, seed=2).num_variables
        10
    """
    rng = np.random.default_rng(seed)
    q = sp.random(
        n, n, density=density, random_state=rng, data_rvs=lambda k: rng.integers(low, high + 1, k)
    )
    return Problem.from_arrays(
        linear=rng.integers(low, high + 1, n).astype(float),
        quadratic=sp.triu(q),
        name=f"qubo-{n}-s{seed}",
    )


def sherrington_kirkpatrick(n: int = 16, seed: int = 0) -> Problem:
    """SK spin glass over spins: minimise Σ_{i<j} J_ij s_i s_j with J_ij = ±1.

    Example:
        >>> sherrington_kirkpatrick(6, seed=0).vtype.tolist() == [1] * 6
        True
    """
    rng = np.random.default_rng(seed)
    J = np.triu(rng.choice([-1.0, 1.0], size=(n, n)), 1)
    return Problem.from_arrays(
        linear=np.zeros(n), quadratic=J, vtype="spin", name=f"sk-{n}-s{seed}", var_name="s"
    )


def knapsack(n: int = 16, seed: int = 0) -> Problem:
    """0/1 knapsack (constrained, maximised): :func:`kakehashi.examples.knapsack`."""
    return examples.knapsack(n, seed)


def assignment(n: int = 5, seed: int = 0) -> Problem:
    """Linear assignment with one-hot rows and columns (see ``examples.random_assignment``)."""
    return examples.random_assignment(n, seed)


GENERATORS: dict[str, Callable[..., Problem]] = {
    "maxcut-random": maxcut_random,
    "qubo-random": qubo_random,
    "sk": sherrington_kirkpatrick,
    "knapsack": knapsack,
    "assignment": assignment,
    "maxcut-5": lambda: examples.small_maxcut(),
}


def generate(name: str, params: dict[str, Any]) -> Problem:
    """Build the instance ``name`` with ``params`` (a clear error for unknown names/params)."""
    fn = GENERATORS.get(name)
    if fn is None:
        raise KakehashiError(f"unknown generator {name!r}; suites can use {', '.join(GENERATORS)}")
    try:
        return fn(**params)
    except TypeError as exc:
        raise KakehashiError(
            f"generator {name!r} does not take these parameters ({exc}); check the suite"
        ) from None
