"""Small built-in problems for demos, docs and tests (no files needed)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from kakehashi.model.problem import BINARY, Problem, VarArray, stack_constraints


def small_maxcut() -> Problem:
    """Max-cut of a 5-cycle with one chord, as a QUBO to minimise (optimum −5: cut of 5)."""
    edges = np.array([(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)])
    n = 5
    # cut(x) = Σ_(i,j) x_i + x_j − 2 x_i x_j ; minimise −cut
    lin = -np.bincount(edges.ravel(), minlength=n).astype(float)
    quad = sp.coo_matrix((np.full(len(edges), 2.0), (edges[:, 0], edges[:, 1])), shape=(n, n))
    return Problem.from_arrays(linear=lin, quadratic=quad, name="maxcut-5", var_name="side")


def random_assignment(n: int = 6, seed: int = 0) -> Problem:
    """An n×n linear assignment: ``assign[i, j] = 1`` gives task j to worker i, at a cost.

    Every worker takes one task (``one_task_per_worker``) and every task one worker
    (``one_worker_per_task``).
    """
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 20, size=(n, n)).astype(float)
    rows = sp.kron(sp.eye(n), np.ones((1, n)))
    cols = sp.kron(np.ones((1, n)), sp.eye(n))
    A, lo, hi, groups = stack_constraints(
        [
            ("one_task_per_worker", (n,), rows, np.ones(n), np.ones(n), "one_hot"),
            ("one_worker_per_task", (n,), cols, np.ones(n), np.ones(n), "one_hot"),
        ],
        n * n,
    )
    return Problem(
        var_arrays=[VarArray("assign", (n, n), 0, BINARY)],
        lower=np.zeros(n * n),
        upper=np.ones(n * n),
        vtype=np.zeros(n * n),
        constant=0.0,
        linear=cost.ravel(),
        quadratic=None,
        higher_order={},
        A=A,
        lo=lo,
        hi=hi,
        constraint_groups=groups,
        name=f"assignment-{n}",
    )


def knapsack(n: int = 12, seed: int = 0) -> Problem:
    """A 0/1 knapsack: maximise value with total weight at most half the items' weight."""
    rng = np.random.default_rng(seed)
    value = rng.integers(5, 30, size=n).astype(float)
    weight = rng.integers(3, 15, size=n).astype(float)
    cap = float(np.floor(weight.sum() / 2))
    return Problem.from_arrays(
        linear=value,
        A=sp.csr_matrix(weight[None, :]),
        lo=[-np.inf],
        hi=[cap],
        sense="max",
        name=f"knapsack-{n}",
        var_name="take",
        constraint_name="capacity",
    )


def demo_problems() -> list[Problem]:
    """What `kakehashi demo` solves: the shipped max-cut file, an assignment and a knapsack."""
    from kakehashi.model.io import data_file, load

    return [load(data_file("maxcut16.txt")), random_assignment(5), knapsack(16)]
