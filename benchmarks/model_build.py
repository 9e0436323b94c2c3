"""Model building benchmark: a 100-city TSP built and compiled to a penalised QUBO.

The same problem — ``x[k, i] = 1`` when city ``i`` is visited ``k``-th; objective
``Σ_k Σ_{i,j} d_ij x[k,i] x[k+1,j]`` (10⁴ binaries, ~10⁶ quadratic terms); one-hot rows and
columns (200 equality constraints) — is built and turned into an unconstrained penalised
QUBO by each tool, side by side in one run:

* kakehashi: ``kakehashi.Model`` → ``to_problem()`` (build), ``compile_problem`` (compile);
  the objective written as ``((x @ d) * x.roll(-1, axis=0)).sum()`` and, as
  ``kakehashi-einsum``, as ``np.einsum("ij,ki,kj->", d, x, x.roll(-1, axis=0))``.
* Fixstars Amplify SDK (local, no token): ``einsum`` + ``one_hot`` (build),
  ``Model.to_unconstrained_poly()`` (compile).
* OMMX: ``Instance.from_components`` from index arrays (build), ``Instance.to_qubo()``.
* dimod: a CQM from numpy vectors (build), ``dimod.cqm_to_bqm`` (compile).
* PyQUBO: ``Array`` arithmetic (build), ``compile().to_qubo()`` (compile).

Every compiled QUBO is checked on a random feasible tour: its energy must equal the tour's
length (penalties vanish on feasible points), so no tool is timed producing something else.

Run (comparators are benchmark-only, in no extra: ``pip install amplify==1.7.3 pyqubo==1.5.0``;
see benchmarks/README.md)::

    .venv/bin/python benchmarks/model_build.py --cities 100 --repeats 7
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

import numpy as np


def stamp() -> np.ndarray:
    """Wall-clock and process CPU seconds (all threads) now: ``[wall, cpu]``.

    CPU time is reported beside wall time because a shared machine's load stretches wall
    time, and a multi-threaded tool's wall time hides the cores it used.
    """
    return np.array([time.perf_counter(), time.process_time()])


def tsp_instance(n: int, seed: int = 0) -> np.ndarray:
    """Euclidean distances between ``n`` random points in the unit square."""
    pts = np.random.default_rng(seed).random((n, 2))
    return np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=-1)


def tour_matrix(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A random tour as a permutation and its 0/1 assignment matrix ``x[k, perm[k]] = 1``."""
    perm = np.random.default_rng(seed).permutation(n)
    X = np.zeros((n, n))
    X[np.arange(n), perm] = 1.0
    return perm, X


def tour_length(d: np.ndarray, perm: np.ndarray) -> float:
    return float(d[perm, np.roll(perm, -1)].sum())


def pair_indices(n: int, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat indices ``(x[k,i], x[k+1,j])`` and coefficients ``d_ij`` of every objective pair."""
    k, i, j = np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij")
    keep = d[i, j] != 0
    rows = (k * n + i)[keep]
    cols = (((k + 1) % n) * n + j)[keep]
    return rows.ravel(), cols.ravel(), d[i, j][keep].ravel()


# ---------------------------------------------------------------------- the tools
def run_kakehashi(d: np.ndarray, weight: float, formulation: str = "matmul") -> dict[str, Any]:
    from kakehashi import Model
    from kakehashi.compile import compile_problem

    n = d.shape[0]
    t0 = stamp()
    m = Model("tsp")
    x = m.binary("x", shape=(n, n))
    if formulation == "einsum":
        m.minimize(np.einsum("ij,ki,kj->", d, x, x.roll(-1, axis=0)))
    else:
        m.minimize(((x @ d) * x.roll(-1, axis=0)).sum())
    m.one_hot(x, axis=1, name="one_city_per_step")
    m.one_hot(x, axis=0, name="one_step_per_city")
    problem = m.to_problem()
    t1 = stamp()
    qubo = compile_problem(problem).qubo
    t2 = stamp()

    def energy(X: np.ndarray) -> float:
        return float(qubo.energies(X.ravel()[None, :])[0])

    return {
        "build": t1 - t0,
        "compile": t2 - t1,
        "energy": energy,
        "size": f"{qubo.num_variables} vars, {qubo.J.nnz // 2} pairs",
    }


def run_amplify(d: np.ndarray, weight: float) -> dict[str, Any]:
    import amplify

    n = d.shape[0]
    t0 = stamp()
    gen = amplify.VariableGenerator()
    q = gen.array("Binary", shape=(n, n))
    cost = amplify.einsum("ij,ki,kj->", d, q, q.roll(-1, axis=0))
    constraints = amplify.one_hot(q, axis=1) + amplify.one_hot(q, axis=0)
    model = cost + weight * constraints
    t1 = stamp()
    poly = model.to_unconstrained_poly()
    t2 = stamp()

    def energy(X: np.ndarray) -> float:
        # variables are numbered in creation order, i.e. k * n + i
        x = X.ravel()
        return float(sum(c * np.prod(x[list(key)]) for key, c in poly.as_dict().items()))

    return {"build": t1 - t0, "compile": t2 - t1, "energy": energy, "size": f"{len(poly)} terms"}


def run_ommx(d: np.ndarray, weight: float) -> dict[str, Any]:
    from ommx.v1 import Constraint, DecisionVariable, Equality, Instance, Linear, Quadratic

    n = d.shape[0]
    t0 = stamp()
    rows, cols, vals = pair_indices(n, d)
    variables = [
        DecisionVariable.binary(k * n + i, name="x", subscripts=[k, i])
        for k in range(n)
        for i in range(n)
    ]
    objective = Quadratic(columns=cols.tolist(), rows=rows.tolist(), values=vals.tolist())
    ids = np.arange(n * n).reshape(n, n)
    constraints = []
    for axis, name in ((1, "one_city_per_step"), (0, "one_step_per_city")):
        for r in range(n):
            members = ids[r] if axis == 1 else ids[:, r]
            constraints.append(
                Constraint(
                    function=Linear(terms={int(v): 1 for v in members}, constant=-1),
                    equality=Equality.EqualToZero,
                    id=len(constraints),
                    name=name,
                    subscripts=[r],
                )
            )
    instance = Instance.from_components(
        decision_variables=variables,
        objective=objective,
        constraints=constraints,
        sense=Instance.MINIMIZE,
    )
    t1 = stamp()
    qubo, offset = instance.to_qubo(uniform_penalty_weight=weight)
    t2 = stamp()

    def energy(X: np.ndarray) -> float:
        x = X.ravel()
        keys = np.array(list(qubo.keys()), dtype=np.int64)
        coefs = np.array(list(qubo.values()))
        # to_qubo renumbers nothing here: ids are our flat indices
        return float(offset + np.sum(coefs * x[keys[:, 0]] * x[keys[:, 1]]))

    return {"build": t1 - t0, "compile": t2 - t1, "energy": energy, "size": f"{len(qubo)} terms"}


def run_dimod(d: np.ndarray, weight: float) -> dict[str, Any]:
    import dimod

    n = d.shape[0]
    t0 = stamp()
    rows, cols, vals = pair_indices(n, d)
    objective = dimod.BinaryQuadraticModel.from_numpy_vectors(
        np.zeros(n * n), (rows, cols, vals), 0.0, dimod.BINARY
    )
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(objective)
    ids = np.arange(n * n).reshape(n, n)
    for axis, name in ((1, "one_city_per_step"), (0, "one_step_per_city")):
        for r in range(n):
            members = ids[r] if axis == 1 else ids[:, r]
            cqm.add_constraint_from_iterable(
                [(int(v), 1.0) for v in members], "==", rhs=1.0, label=f"{name}[{r}]"
            )
    t1 = stamp()
    bqm, _ = dimod.cqm_to_bqm(cqm, lagrange_multiplier=weight)
    t2 = stamp()

    def energy(X: np.ndarray) -> float:
        x = X.ravel()
        return float(bqm.energy({v: int(x[v]) for v in bqm.variables}))

    return {
        "build": t1 - t0,
        "compile": t2 - t1,
        "energy": energy,
        "size": f"{bqm.num_variables} vars, {bqm.num_interactions} pairs",
    }


def run_pyqubo(d: np.ndarray, weight: float) -> dict[str, Any]:
    from pyqubo import Array, Constraint

    n = d.shape[0]
    t0 = stamp()
    x = Array.create("x", shape=(n, n), vartype="BINARY")
    # PyQUBO has no vectorised path: every monomial is a Python-level object
    cost = sum(
        float(d[i, j]) * x[k, i] * x[(k + 1) % n, j]
        for k in range(n)
        for i in range(n)
        for j in range(n)
        if d[i, j] != 0
    )
    rows = sum(Constraint((sum(x[k, i] for i in range(n)) - 1) ** 2, f"row{k}") for k in range(n))
    cols = sum(Constraint((sum(x[k, i] for k in range(n)) - 1) ** 2, f"col{i}") for i in range(n))
    hamiltonian = cost + weight * (rows + cols)
    t1 = stamp()
    qubo, offset = hamiltonian.compile().to_qubo()
    t2 = stamp()

    def energy(X: np.ndarray) -> float:
        def val(label: str) -> float:
            k, i = (int(s) for s in label[2:-1].split("]["))
            return X[k, i]

        return float(offset + sum(c * val(a) * val(b) for (a, b), c in qubo.items()))

    return {"build": t1 - t0, "compile": t2 - t1, "energy": energy, "size": f"{len(qubo)} terms"}


TOOLS: dict[str, tuple[Callable[..., dict[str, Any]], str]] = {
    "kakehashi": (run_kakehashi, "kakehashi"),
    "kakehashi-einsum": (lambda d, w: run_kakehashi(d, w, "einsum"), "kakehashi"),
    "amplify": (run_amplify, "amplify"),
    "ommx": (run_ommx, "ommx"),
    "dimod": (run_dimod, "dimod"),
    "pyqubo": (run_pyqubo, "pyqubo"),
}


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cities", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=7, help="rounds (repeats of the fast tools)")
    ap.add_argument(
        "--slow-repeats",
        type=int,
        default=3,
        help="repeats for tools that need over 2.5 CPU-seconds a run (OMMX, dimod, PyQUBO)",
    )
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)

    d = tsp_instance(args.cities)
    weight = float(d.max()) * 2  # one penalty weight for all tools (compile cost ignores it)
    perm, X = tour_matrix(args.cities)
    expected = tour_length(d, perm)
    print(
        f"TSP with {args.cities} cities: {args.cities**2} binaries, "
        f"{int(np.count_nonzero(d)) * args.cities} objective pairs, "
        f"{2 * args.cities} one-hot constraints"
    )
    print(
        f"python {platform.python_version()} on {platform.machine()} with {os.cpu_count()} "
        f"cores (load average {os.getloadavg()[0]:.1f}), "
        + ", ".join(f"{dist} {version(dist)}" for _, dist in TOOLS.values())
    )

    # Round robin: every round runs each tool once, so background load hits all tools alike.
    names = []
    for name in args.tools.split(","):
        if version(TOOLS[name][1]) == "not installed":
            print(f"{name:16s} skipped: {TOOLS[name][1]} is not installed (pip install it)")
        else:
            names.append(name)
    runs: dict[str, dict[str, Any]] = {
        n: {"build": [], "compile": [], "check": None, "size": "", "limit": args.repeats}
        for n in names
    }
    small = tsp_instance(5)
    for name in names:  # warm-up: imports and first-call set-up are not what is measured
        try:
            TOOLS[name][0](small, weight)
        except Exception:  # reported by the timed runs below
            pass
    for r in range(args.repeats):
        for name in names:
            st = runs[name]
            if r >= st["limit"]:
                continue
            gc.collect()
            try:
                out = TOOLS[name][0](d, weight)
            except Exception as exc:  # a comparator failing is reported, never hidden
                print(f"{name:16s} failed: {type(exc).__name__}: {exc}")
                st["limit"] = 0
                continue
            st["build"].append(out["build"])
            st["compile"].append(out["compile"])
            if st["check"] is None:
                got = out["energy"](X)
                st["check"] = abs(got - expected) <= 1e-6 * max(1.0, abs(expected))
                st["size"] = out["size"]
                if (out["build"] + out["compile"])[1] > 2.5:  # CPU s: load does not inflate it
                    st["limit"] = min(st["limit"], args.slow_repeats)
            total = out["build"] + out["compile"]
            print(
                f"  round {r + 1}: {name} {total[0]:.3f} s wall, {total[1]:.3f} s cpu", flush=True
            )

    figures: dict[str, dict[str, Any]] = {}
    print()
    for name in names:
        st = runs[name]
        if not st["build"]:
            continue
        build, comp = np.array(st["build"]), np.array(st["compile"])
        total = build + comp
        med = lambda a: float(np.median(a))  # noqa: E731
        f = figures[name] = {
            "build_s": med(build[:, 0]),
            "compile_s": med(comp[:, 0]),
            "total_s": med(total[:, 0]),
            "total_min_s": float(total[:, 0].min()),
            "build_cpu_s": med(build[:, 1]),
            "compile_cpu_s": med(comp[:, 1]),
            "total_cpu_s": med(total[:, 1]),
            "repeats": len(total),
            "energy_check": bool(st["check"]),
            "qubo": st["size"],
            "version": version(TOOLS[name][1]),
        }
        print(
            f"{name:16s} wall: build {f['build_s']:7.3f}  compile {f['compile_s']:7.3f}  total "
            f"{f['total_s']:7.3f} s (min {f['total_min_s']:.3f})   cpu: build "
            f"{f['build_cpu_s']:7.3f}  compile {f['compile_cpu_s']:7.3f}  total "
            f"{f['total_cpu_s']:7.3f} s   ({len(total)} runs, {st['size']}, tour energy "
            f"{'ok' if st['check'] else 'WRONG'})",
            flush=True,
        )

    if "kakehashi" in figures:
        base = figures["kakehashi"]
        print("\nmedian build+compile relative to kakehashi (>1: kakehashi is faster):")
        for name, f in figures.items():
            f["ratio_to_kakehashi"] = f["total_s"] / base["total_s"]
            f["cpu_ratio_to_kakehashi"] = f["total_cpu_s"] / base["total_cpu_s"]
            print(
                f"  {name:16s} wall {f['ratio_to_kakehashi']:7.2f}×   "
                f"cpu {f['cpu_ratio_to_kakehashi']:7.2f}×"
            )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cities": args.cities, "figures": figures}, fh, indent=2)
    bad = [n for n, f in figures.items() if not f["energy_check"]]
    if bad:
        print(f"energy check failed for {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
