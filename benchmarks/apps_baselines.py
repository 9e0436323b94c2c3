"""How strong are the classical baselines of `kakehashi.apps`? Published optima beside them.

Prints three Markdown tables (the figures in docs/apps/{tsp,qap,maxcut}.md):

* TSPLIB: OR-Tools routing (guided local search) for ``--tsp-seconds`` per instance.
* QAPLIB: robust tabu search, seed 0, seconds to reach the proven optimum (cap ``--qap-cap``).
* Gset: iterated 1-flip local search, seed 0, ``--maxcut-seconds`` per graph (≤ 2000 nodes).

Run:  python benchmarks/apps_baselines.py   (reads ../shared/data beside the repository)
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from kakehashi.apps import get_use_case
from kakehashi.apps._tsplib import read_tsplib
from kakehashi.apps.maxcut import cut_weight, local_search_maxcut
from kakehashi.apps.qap import layout_cost, read_qaplib, robust_tabu
from kakehashi.apps.tsp import ortools_tsp, tour_length

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--tsp-seconds", type=float, default=2.0)
    ap.add_argument("--qap-cap", type=float, default=10.0)
    ap.add_argument("--maxcut-seconds", type=float, default=2.0)
    args = ap.parse_args()

    print(f"TSPLIB, OR-Tools guided local search, {args.tsp_seconds:g} s each\n")
    print("| instance | distances | optimum | OR-Tools | gap |\n|---|---|---|---|---|")
    for r in csv.DictReader(open(args.data / "tsplib" / "best_known.csv")):
        f = read_tsplib(args.data / "tsplib" / f"{r['instance']}.tsp")
        opt = int(r["optimal_tour_length"])
        tour, _ = ortools_tsp(f.distances, args.tsp_seconds)
        length = tour_length(tour, f.distances)
        print(
            f"| {r['instance']} | {f.edge_weight_type} | {opt} | {length:.0f} | "
            f"{100 * (length / opt - 1):.2f}% |",
            flush=True,
        )

    print(f"\nQAPLIB, robust tabu search (seed 0) until the optimum or {args.qap_cap:g} s\n")
    print("| instance | n | optimum | found | seconds | iterations |\n|---|---|---|---|---|---|")
    for r in csv.DictReader(open(args.data / "qaplib" / "best_known.csv")):
        d = read_qaplib(args.data / "qaplib" / f"{r['instance']}.dat")
        opt = float(r["optimal_value"])
        t0 = time.perf_counter()
        loc, info = robust_tabu(d, args.qap_cap, seed=0, target=opt)
        print(
            f"| {r['instance']} | {d.n} | {opt:.0f} | {layout_cost(loc, d):.0f} | "
            f"{time.perf_counter() - t0:.2f} | {info['iterations']} |",
            flush=True,
        )

    print(f"\nGset, iterated 1-flip local search (seed 0), {args.maxcut_seconds:g} s each\n")
    print("| graph | nodes | best known | found | gap | kicks |\n|---|---|---|---|---|---|")
    maxcut = get_use_case("maxcut")
    for r in csv.DictReader(open(args.data / "gset" / "best_known.csv")):
        if int(r["nodes"]) > 2000:
            continue
        g = maxcut.read(args.data / "gset" / f"{r['instance']}.txt")
        side, info = local_search_maxcut(g, args.maxcut_seconds, seed=0)
        cut, best = cut_weight(side, g), float(r["best_known"])
        print(
            f"| {r['instance']} | {r['nodes']} | {best:.0f} | {cut:.0f} | "
            f"{100 * (1 - cut / best):.2f}% | {info['kicks']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
