"""kakehashi.ocean against dwave-samplers (and OpenJij) called the same way: same model, same
arguments, wall time per call and the mean energy of the reads.

Where ``benchmarks/engines.py`` races the engines under a time budget, this measures what a
user who swaps the import sees: ``SimulatedAnnealingSampler().sample(bqm, num_reads=R,
num_sweeps=S)`` and ``SteepestDescentSolver().sample(bqm, num_reads=R)`` do the same work in
both libraries (kakehashi's presolve is switched off here so the work is the same; it only
helps on sparse models). Tabu is given the same ``timeout``, so its line compares energies.

Usage::

    python benchmarks/ocean.py                 # 5 calls per line, about two minutes
    python benchmarks/ocean.py --repeats 3 --threads 1
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dimod
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kakehashi import ocean


def cubic_lattice(L: int, seed: int = 128) -> dimod.BinaryQuadraticModel:
    """±J spin glass on an L×L×L periodic lattice (dwave-samplers' heuristic test, L = 12)."""
    rng = np.random.RandomState(seed)
    J = {}
    for x, y, z in itertools.product(range(L), repeat=3):
        u = (x, y, z)
        for v in (((x + 1) % L, y, z), (x, (y + 1) % L, z), (x, y, (z + 1) % L)):
            J[u, v] = rng.choice((-1, 1))
    return dimod.BQM.from_ising({}, J)


MODELS: dict[str, Callable[[], dimod.BinaryQuadraticModel]] = {
    "lattice 12^3 (n=1728, deg 6)": lambda: cubic_lattice(12),
    "gnp n=800 p=0.06": lambda: dimod.generators.gnp_random_bqm(800, 0.06, "SPIN", random_state=1),
    "dense n=200": lambda: dimod.generators.gnp_random_bqm(200, 1.0, "SPIN", random_state=2),
}


def calls(threads: int) -> list[tuple[str, str, Callable, Callable]]:
    """(sampler, arguments, dwave call, kakehashi call) rows."""
    from dwave import samplers as dw

    sa_kw = {"num_reads": 16, "num_sweeps": 1000}
    tabu_kw = {"num_reads": 4, "timeout": 100}
    sd_kw = {"num_reads": 1000}
    k_kw = {"threads": threads, "presolve": False}
    return [
        (
            "SimulatedAnnealingSampler",
            "num_reads=16, num_sweeps=1000",
            lambda b, s: dw.SimulatedAnnealingSampler().sample(b, seed=s, **sa_kw),
            lambda b, s: ocean.SimulatedAnnealingSampler().sample(b, seed=s, **sa_kw, **k_kw),
        ),
        (
            "TabuSampler",
            "num_reads=4, timeout=100 (same time: compare energies)",
            lambda b, s: dw.TabuSampler().sample(b, seed=s, **tabu_kw),
            lambda b, s: ocean.TabuSampler().sample(b, seed=s, **tabu_kw, **k_kw),
        ),
        (
            "SteepestDescentSolver",
            "num_reads=1000",
            lambda b, s: dw.SteepestDescentSolver().sample(b, seed=s, **sd_kw),
            lambda b, s: ocean.SteepestDescentSolver().sample(b, seed=s, threads=threads, **sd_kw),
        ),
    ]


def openjij_sa() -> Callable | None:
    try:
        import openjij as oj
    except ImportError:
        return None
    return lambda b, s: oj.SASampler().sample(b, num_reads=16, num_sweeps=1000, seed=s)


def timed(fn: Callable, bqm, repeats: int) -> tuple[float, float]:
    fn(bqm, 0)  # warm-up (compilation, imports)
    walls, means = [], []
    for s in range(1, repeats + 1):
        t = time.perf_counter()
        ss = fn(bqm, s)
        walls.append(time.perf_counter() - t)
        means.append(float(np.mean(ss.record.energy)))
    return statistics.median(walls), statistics.median(means)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    oj = openjij_sa()
    print("| model | sampler | arguments | theirs s | kakehashi s | speed-up | their E | our E |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for label, make in MODELS.items():
        bqm = make()
        for name, argtext, theirs, ours in calls(args.threads):
            t_d, e_d = timed(theirs, bqm, args.repeats)
            t_k, e_k = timed(ours, bqm, args.repeats)
            print(
                f"| {label} | {name} | {argtext} | {t_d:.3f} | {t_k:.3f} | "
                f"{t_d / t_k:.1f}x | {e_d:.1f} | {e_k:.1f} |"
            )
        if oj is not None:
            t_o, e_o = timed(oj, bqm, args.repeats)
            k_sa = calls(args.threads)[0][3]
            t_k, e_k = timed(k_sa, bqm, args.repeats)
            print(
                f"| {label} | OpenJij SASampler | num_reads=16, num_sweeps=1000 | {t_o:.3f} | "
                f"{t_k:.3f} | {t_o / t_k:.1f}x | {e_o:.1f} | {e_k:.1f} |"
            )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
