"""Small random Problems covering every feature, for round-trip tests of the converters.

Each problem has variable arrays of every requested type and rank (scalars, vectors,
matrices), an objective with constant, linear, quadratic and (optionally) higher-order
terms, and constraint groups whose rows are ``≤``, ``≥``, ``=`` or ranged.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from kakehashi.model.problem import (
    BINARY,
    CONTINUOUS,
    INTEGER,
    SPIN,
    Problem,
    VarArray,
    stack_constraints,
)

_SHAPES = ((), (3,), (2, 2), (1, 3))


def random_problem(
    rng: np.random.Generator,
    *,
    vtypes: tuple[int, ...] = (BINARY, SPIN, INTEGER, CONTINUOUS),
    higher_order: bool = True,
    constraints: bool = True,
    continuous_quadratic: bool = True,
) -> Problem:
    """A random Problem over 1–4 arrays with the given variable types.

    Example:
        >>> p = random_problem(np.random.default_rng(0))
        >>> p.num_variables > 0
        True
    """
    arrays, start = [], 0
    lower, upper = [], []
    for k in range(int(rng.integers(1, 5))):
        shape = _SHAPES[int(rng.integers(len(_SHAPES)))]
        code = int(vtypes[int(rng.integers(len(vtypes)))])
        va = VarArray(f"v{k}", shape, start, code)
        arrays.append(va)
        start += va.size
        lo, hi = {
            BINARY: (0.0, 1.0),
            SPIN: (-1.0, 1.0),
            INTEGER: (-2.0, 3.0),
            CONTINUOUS: (-1.5, np.inf if rng.random() < 0.3 else 2.5),
        }[code]
        lower += [lo] * va.size
        upper += [hi] * va.size
    n = start
    vtype = np.concatenate([np.full(va.size, va.vtype, np.int8) for va in arrays])
    linear = np.where(rng.random(n) < 0.7, rng.integers(-5, 6, n), 0).astype(float)
    quadratic = sp.random(
        n, n, density=0.4, random_state=rng, data_rvs=lambda k: rng.integers(-4, 5, k)
    )
    if not continuous_quadratic:
        cont = np.flatnonzero(vtype == CONTINUOUS)
        quadratic = sp.lil_matrix(quadratic)
        quadratic[cont, :] = 0
        quadratic[:, cont] = 0
    higher = {}
    if higher_order and n >= 3 and rng.random() < 0.6:
        m = int(rng.integers(1, 4))
        idx = np.array([rng.choice(n, 3, replace=False) for _ in range(m)], dtype=np.int64)
        higher = {3: (idx, rng.integers(-3, 4, m).astype(float))}
    blocks = []
    if constraints:
        for g in range(int(rng.integers(0, 3))):
            shape = ((2,), (), (2, 1))[int(rng.integers(3))]
            rows = int(np.prod(shape))
            a = sp.random(
                rows, n, density=0.5, random_state=rng, data_rvs=lambda k: rng.integers(-3, 4, k)
            )
            lo = np.empty(rows)
            hi = np.empty(rows)
            for r in range(rows):
                kind = int(rng.integers(4))
                base = float(rng.integers(-2, 3))
                sides = [(-np.inf, base), (base, np.inf), (base, base), (base - 1, base + 2)]
                lo[r], hi[r] = sides[kind]
            blocks.append((f"c{g}", shape, a, lo, hi, "linear"))
    A, lo, hi, groups = stack_constraints(blocks, n)
    return Problem(
        var_arrays=arrays,
        lower=np.array(lower),
        upper=np.array(upper),
        vtype=vtype,
        constant=float(rng.integers(-3, 4)),
        linear=linear,
        quadratic=quadratic,
        higher_order=higher,
        A=A,
        lo=lo,
        hi=hi,
        constraint_groups=groups,
        sense="max" if rng.random() < 0.5 else "min",
        name=f"random{int(rng.integers(1000))}",
    )


def random_samples(problem: Problem, rng: np.random.Generator, count: int = 64) -> np.ndarray:
    """Random points in each variable's domain (finite stand-ins for infinite bounds)."""
    lo = np.where(np.isfinite(problem.lower), problem.lower, -3.0)
    hi = np.where(np.isfinite(problem.upper), problem.upper, 3.0)
    X = lo + (hi - lo) * rng.random((count, problem.num_variables))
    discrete = problem.vtype != CONTINUOUS
    X[:, discrete] = np.round(X[:, discrete])
    spin = problem.vtype == SPIN
    X[:, spin] = np.where(rng.random((count, int(spin.sum()))) < 0.5, -1.0, 1.0)
    return X
