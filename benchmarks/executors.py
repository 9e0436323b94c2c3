"""Executors side by side in one run: overhead, the portfolio race, cancellation, bench throughput.

1. **Overhead per run** of each executor: ``--overhead-runs`` trivial runs (a function
   returning at once), submitted and waited for one after another, median round trip per
   run — in-process, process pool (a warm, reused worker), a fresh process per run (what a
   race does), Ray (a warm local cluster started for this script, ``num_cpus`` = the cores).
2. **Race against the best single backend at equal wall budget** on a mixed suite (the
   shipped ``quick`` suite plus instances of ``../shared/data`` from the ``standard`` suite):
   every single backend of ``--candidates`` runs ``--repeats`` times per instance with
   ``--budget`` seconds (all cores, its defaults); the two candidates with the best mean rank
   are then raced ``--repeats`` times with the same budget (one pinned core each). Per
   instance the race's median objective is compared with the best single backend's median
   (the backend best over the suite, which is the target of the issue, and the best one
   per instance).
3. **Cancellation latency**: ``--cancel-races`` races of ``exact`` against ``tabu`` and ``sa``
   on a small problem (exact proves the optimum at once); per loser the time from the race's
   decision to its process's exit, p50 and p99 (and the same through Ray).
4. **Bench throughput**: ``kakehashi bench quick`` serial, with ``--jobs 2`` and with
   ``--executor ray``, every run single-threaded (``NUMBA_NUM_THREADS=1`` for the serial
   run; the pool's workers are pinned to one core with one thread); runs per second over the
   span from the first run's start to the last run's end (start-up excluded, stated apart).

Usage::

    python benchmarks/executors.py                 # all four parts, ~10 min on 2 cores
    python benchmarks/executors.py --parts overhead,cancel --no-ray

Prints each part's table and writes them, with the command, to bench-out/executors.json and
bench-out/executors.md (copied by hand into docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

import kakehashi
from kakehashi.bench.machine import describe_machine, machine_line
from kakehashi.bench.suite import load_suite
from kakehashi.executors import InProcessExecutor, ProcessExecutor
from kakehashi.executors.race import race

ROOT = Path(__file__).resolve().parents[1]
SHARED_FROM_STANDARD = ("G1", "G43", "bqp250-1", "QPLIB_3705", "labs020", "C125-9")


def noop() -> None:
    return None


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


# ---------------------------------------------------------------------- 1. overhead
def overhead(runs: int, with_ray: bool) -> list[dict]:
    rows = []

    def per_run(ex, n: int) -> list[float]:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            ex.gather([ex.submit(noop)])
            times.append(time.perf_counter() - t)
        return times

    ex = InProcessExecutor()
    rows.append({"executor": "in-process", "times": per_run(ex, runs)})
    with ProcessExecutor(max_workers=1, reuse=True) as ex:
        per_run(ex, 3)  # start the forkserver and the worker
        rows.append({"executor": "process pool (warm worker)", "times": per_run(ex, runs)})
    with ProcessExecutor(max_workers=1, reuse=False) as ex:
        per_run(ex, 2)
        rows.append({"executor": "fresh process per run (race)",
                     "times": per_run(ex, max(5, runs // 5))})  # fmt: skip
    if with_ray:
        from kakehashi.executors.ray import RayExecutor

        t = time.perf_counter()
        ex = RayExecutor()
        started = time.perf_counter() - t
        per_run(ex, 10)  # warm: workers started, task function exported
        rows.append({"executor": "Ray (warm local cluster)", "times": per_run(ex, runs),
                     "note": f"cluster start {started:.1f} s, not counted"})  # fmt: skip
        ex.close()
    for r in rows:
        r["median_ms"] = 1000 * statistics.median(r["times"])
        r["p90_ms"] = 1000 * pct(r["times"], 90)
        r["runs"] = len(r.pop("times"))
    return rows


# ---------------------------------------------------------------------- 2. race vs single
def mixed_instances() -> list:
    quick = list(load_suite("quick").instances)
    standard = load_suite("standard").select(list(SHARED_FROM_STANDARD)).instances
    out = []
    for inst in quick + list(standard):
        try:
            out.append((inst.name, inst.build()))
        except Exception as exc:  # shared data absent: said, not hidden
            print(f"  (instance {inst.name} not run: {type(exc).__name__}: {exc})")
    return out


def quality(result, sense: str) -> float:
    """Objective as a number to maximise; infeasible answers count as -inf."""
    if not result.num_samples or not result.feasible:
        return -np.inf
    return result.objective if sense == "max" else -result.objective


def race_vs_single(candidates: list[str], budget: float, repeats: int) -> dict:
    instances = mixed_instances()
    single: dict[str, dict[str, list[float]]] = {c: {} for c in candidates}
    for name, prob in instances:
        for rep in range(repeats):
            for c in candidates:  # round-robin over backends spreads the machine's load
                try:
                    r = kakehashi.solve(prob, backend=c, time_limit=budget, seed=rep)
                    q = quality(r, prob.sense)
                except kakehashi.KakehashiError:
                    q = -np.inf  # refuses this problem (e.g. highs on a non-linearisable one)
                single[c].setdefault(name, []).append(q)
    med = {c: {n: float(np.median(v)) for n, v in single[c].items()} for c in candidates}
    # rank per instance (1 = best; ties share their mean rank), mean over the suite
    ranks = {c: [] for c in candidates}
    for name, _ in instances:
        for c in candidates:
            above = sum(med[o][name] > med[c][name] for o in candidates)
            tied = sum(med[o][name] == med[c][name] for o in candidates)
            ranks[c].append(above + (tied + 1) / 2)
    mean_rank = {c: float(np.mean(v)) for c, v in ranks.items()}
    top2 = sorted(candidates, key=lambda c: mean_rank[c])[:2]
    best_single = top2[0]
    raced: dict[str, list[float]] = {}
    walls: list[float] = []
    for name, prob in instances:
        for rep in range(repeats):
            t = time.perf_counter()
            try:
                r = race(prob, top2, time_limit=budget, seed=rep)
                q = quality(r, prob.sense)
            except kakehashi.KakehashiError:
                q = -np.inf
            walls.append(time.perf_counter() - t)
            raced.setdefault(name, []).append(q)
    rows = []
    for name, _ in instances:
        rq = float(np.median(raced[name]))
        per_instance_best = max(med[c][name] for c in candidates)
        rows.append({"instance": name, "race": rq, "best_single": med[best_single][name],
                     "best_per_instance": per_instance_best,
                     **{c: med[c][name] for c in candidates}})  # fmt: skip
    tol = 1e-9
    ok_best = sum(r["race"] >= r["best_single"] - tol * max(1, abs(r["best_single"]))
                  for r in rows)  # fmt: skip
    ok_each = sum(r["race"] >= r["best_per_instance"] - tol * max(1, abs(r["best_per_instance"]))
                  for r in rows)  # fmt: skip
    return {
        "budget": budget, "repeats": repeats, "candidates": candidates,
        "mean_rank": mean_rank, "raced": top2, "best_single": best_single, "rows": rows,
        "at_least_best_single": ok_best, "at_least_best_per_instance": ok_each,
        "instances": len(rows), "race_wall_median": statistics.median(walls),
    }  # fmt: skip


# ---------------------------------------------------------------------- 3. cancellation
def cancellation(races: int, executor: str) -> dict:
    prob = kakehashi.examples.knapsack(12)
    stops, decided = [], []
    ex = None
    if executor == "ray":
        from kakehashi.executors.ray import RayExecutor

        ex = RayExecutor()
    for k in range(races):
        r = race(prob, ["exact", "tabu", "sa"], time_limit=30, seed=k,
                 executor=ex if ex is not None else "process")  # fmt: skip
        info = r.info["race"]
        decided.append(info["decided_by"])
        for c in info["contestants"]:
            if c["status"] == "stopped" and c["stop_seconds"] is not None:
                stops.append(c["stop_seconds"])
    if ex is not None:
        ex.close()
    return {
        "executor": executor, "races": races, "losers_stopped": len(stops),
        "decided_by_optimal": decided.count("optimal"),
        "p50_ms": 1000 * pct(stops, 50), "p99_ms": 1000 * pct(stops, 99),
        "max_ms": 1000 * max(stops) if stops else float("nan"),
    }  # fmt: skip


# ---------------------------------------------------------------------- 4. throughput
def bench_throughput(repeats: int, time_limit: float, with_ray: bool) -> list[dict]:
    variants = [("serial", []), ("--jobs 2", ["--jobs", "2"])]
    if with_ray:
        variants.append(("--executor ray", ["--executor", "ray"]))
    rows = []
    for label, extra in variants:
        out = Path(tempfile.mkdtemp(prefix="kk-bench-"))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"),
               os.environ.get("PYTHONPATH", "")])}  # fmt: skip
        if label == "serial":
            env["NUMBA_NUM_THREADS"] = "1"  # single-threaded runs, as the pool's workers
        cmd = [
            sys.executable,
            "-m",
            "kakehashi.cli",
            "bench",
            "quick",
            "--repeats",
            str(repeats),
            "-t",
            str(time_limit),
            "--out",
            str(out),
            "--no-report",
            *extra,
        ]
        t = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            rows.append({"variant": label, "error": proc.stderr[-500:]})
            continue
        with sqlite3.connect(out / "runs.sqlite") as conn:
            runs = conn.execute(
                "SELECT started_at, finished_at FROM runs WHERE status='ok'"
            ).fetchall()
        starts = [datetime.fromisoformat(a) for a, _ in runs]
        ends = [datetime.fromisoformat(b) for _, b in runs]
        span = (max(ends) - min(starts)).total_seconds()
        rows.append({"variant": label, "runs": len(runs), "span_s": span, "wall_s": wall,
                     "runs_per_s": len(runs) / span})  # fmt: skip
        shutil.rmtree(out, ignore_errors=True)
    base = next((r for r in rows if r["variant"] == "serial" and "runs_per_s" in r), None)
    for r in rows:
        if base and "runs_per_s" in r:
            r["speedup"] = r["runs_per_s"] / base["runs_per_s"]
    return rows


# ---------------------------------------------------------------------- report
def markdown(res: dict, command: str) -> str:
    lines = [f"Command: `{command}`", "", f"Machine: {res['machine']}; load average at start "
             f"{res['load_start']:.1f}, at end {res['load_end']:.1f} (a shared machine: "
             "other engineers' jobs ran at the same time).", ""]  # fmt: skip
    if "overhead" in res:
        lines += [
            "| executor | runs | median per run (ms) | p90 (ms) | note |",
            "|---|---|---|---|---|",
        ]
        for r in res["overhead"]:
            lines.append(f"| {r['executor']} | {r['runs']} | {r['median_ms']:.2f} | "
                         f"{r['p90_ms']:.2f} | {r.get('note', '')} |")  # fmt: skip
        lines.append("")
    if "race" in res:
        rv = res["race"]
        cands = rv["candidates"]
        lines += [
            f"Race of {' + '.join(rv['raced'])} (best two by mean rank: "
            + ", ".join(f"{c} {rv['mean_rank'][c]:.2f}" for c in cands)
            + f") against single backends, {rv['budget']:g} s each, median of "
            f"{rv['repeats']} (objective, larger is better: minimisation objectives negated; "
            "-inf = no feasible answer):", "",
            "| instance | race | " + " | ".join(cands) + " |",
            "|---|---|" + "---|" * len(cands),
        ]  # fmt: skip
        for r in rv["rows"]:
            lines.append(f"| {r['instance']} | {r['race']:.6g} | "
                         + " | ".join(f"{r[c]:.6g}" for c in cands) + " |")  # fmt: skip
        lines += ["", f"Race ≥ best single backend ({rv['best_single']}) median on "
                  f"{rv['at_least_best_single']}/{rv['instances']} instances; ≥ the best "
                  f"backend per instance on {rv['at_least_best_per_instance']}/"
                  f"{rv['instances']}. Median race wall time {rv['race_wall_median']:.2f} s "
                  f"for a {rv['budget']:g} s budget (process start and kernel loading "
                  "before each contestant's clock).", ""]  # fmt: skip
    if "cancel" in res:
        lines += ["| executor | races | losers stopped | decided by a proof | p50 (ms) | "
                  "p99 (ms) | max (ms) |", "|---|---|---|---|---|---|---|"]  # fmt: skip
        for c in res["cancel"]:
            lines.append(f"| {c['executor']} | {c['races']} | {c['losers_stopped']} | "
                         f"{c['decided_by_optimal']} | {c['p50_ms']:.1f} | {c['p99_ms']:.1f} | "
                         f"{c['max_ms']:.1f} |")  # fmt: skip
        lines.append("")
    if "throughput" in res:
        lines += ["| bench quick | runs | span (s) | wall incl. start-up (s) | runs/s | "
                  "× serial |", "|---|---|---|---|---|---|"]  # fmt: skip
        for r in res["throughput"]:
            if "error" in r:
                lines.append(f"| {r['variant']} | failed: {r['error'][:80]} | | | | |")
                continue
            lines.append(f"| {r['variant']} | {r['runs']} | {r['span_s']:.1f} | "
                         f"{r['wall_s']:.1f} | {r['runs_per_s']:.2f} | "
                         f"{r.get('speedup', float('nan')):.2f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--parts", default="overhead,race,cancel,throughput")
    ap.add_argument("--no-ray", action="store_true", help="leave Ray out")
    ap.add_argument("--overhead-runs", type=int, default=100)
    ap.add_argument("--candidates", default="tabu,sa,highs")
    ap.add_argument("--budget", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cancel-races", type=int, default=20)
    ap.add_argument("--bench-repeats", type=int, default=2)
    ap.add_argument("--bench-time-limit", type=float, default=0.5)
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    with_ray = not args.no_ray
    res: dict = {"machine": machine_line(describe_machine()), "load_start": os.getloadavg()[0]}
    if "overhead" in parts:
        res["overhead"] = overhead(args.overhead_runs, with_ray)
        print(json.dumps(res["overhead"], indent=1))
    if "race" in parts:
        res["race"] = race_vs_single(args.candidates.split(","), args.budget, args.repeats)
        print(json.dumps({k: v for k, v in res["race"].items() if k != "rows"}, indent=1))
    if "cancel" in parts:
        res["cancel"] = [cancellation(args.cancel_races, "process")]
        if with_ray:
            res["cancel"].append(cancellation(max(5, args.cancel_races // 2), "ray"))
        print(json.dumps(res["cancel"], indent=1))
    if "throughput" in parts:
        res["throughput"] = bench_throughput(args.bench_repeats, args.bench_time_limit, with_ray)
        print(json.dumps(res["throughput"], indent=1))
    res["load_end"] = os.getloadavg()[0]
    command = "python benchmarks/executors.py " + " ".join(sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "executors.json").write_text(json.dumps({**res, "command": command}, indent=1))
    md = markdown(res, command.strip())
    (args.out / "executors.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
