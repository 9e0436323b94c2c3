"""What following a run live costs: `sa` with and without a progress listener.

A job the service runs has a listener (the runner's, see ``kakehashi.service.live``): the
engine then evaluates each batch it produced and the penalty loop decodes each improvement.
This measures the work done (sweeps) and the answer (the cut) in equal wall time, with and
without a listener, alternating so that load on a shared machine falls on both alike.

Usage::

    python benchmarks/progress_overhead.py                 # 3 seeds × 4 s × 2 modes (≈30 s)
    python benchmarks/progress_overhead.py --reps 5 --seconds 10 --vertices 10000
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import scipy.sparse as sp

import kakehashi
from kakehashi import progress


def max_cut(n: int, p: float, seed: int) -> kakehashi.Problem:
    """Max-cut of a sparse random graph, written as a maximisation."""
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(n, 1)
    keep = rng.random(iu[0].size) < p
    e = np.column_stack([iu[0][keep], iu[1][keep]])
    lin = np.bincount(e.ravel(), minlength=n).astype(float)
    quad = sp.coo_matrix((np.full(len(e), -2.0), (e[:, 0], e[:, 1])), shape=(n, n))
    return kakehashi.Problem.from_arrays(linear=lin, quadratic=quad, sense="max", name="cut")


def one_run(problem: kakehashi.Problem, seconds: float, seed: int, listen: bool):
    events: list[dict] = []
    if listen:
        progress.set_channel(events.append)
    try:
        result = kakehashi.solve(problem, backend="sa", time_limit=seconds, seed=seed)
    finally:
        progress.set_channel(None)
    sweeps = sum(r.get("sweeps", 0) for r in result.info["rounds"])
    return sweeps, result.objective, len(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--vertices", type=int, default=5000)
    args = parser.parse_args()
    problem = max_cut(args.vertices, 5.0 / args.vertices, seed=3)
    kakehashi.solve(problem, backend="sa", time_limit=0.5, seed=0)  # compile before timing
    rows: dict[bool, list[tuple[int, float, int]]] = {False: [], True: []}
    for rep in range(args.reps):
        for listen in (False, True):
            rows[listen].append(one_run(problem, args.seconds, rep, listen))
            print(f"seed {rep} listener {listen}: {rows[listen][-1]}", flush=True)
    print(f"\nsa, {args.vertices} vertices, {args.seconds:g} s, {args.reps} seeds each")
    print("listener  median sweeps  median cut  reports per run")
    for listen in (False, True):
        sweeps, cuts, reports = zip(*rows[listen], strict=True)
        print(
            f"{'yes' if listen else 'no':8}  {statistics.median(sweeps):13,.0f}  "
            f"{statistics.median(cuts):10g}  {min(reports)}–{max(reports)}"
        )
    ratio = statistics.median(r[0] for r in rows[True]) / statistics.median(
        r[0] for r in rows[False]
    )
    print(f"sweeps with / without a listener: {ratio:.3f}")


if __name__ == "__main__":
    main()
