"""kakehashi's engines against the open solvers, side by side in one run on the same instances.

Tools: kakehashi ``sa``, ``pt``, ``tabu``, ``sb`` (numba, all cores given) against
dwave-samplers ``SimulatedAnnealingSampler`` and ``TabuSampler``, OpenJij ``SASampler`` and
the ``simulated-bifurcation`` package (PyTorch, CPU). Instances: ``../shared/data/gset`` (all),
``../shared/data/beasley_bqp`` bqp250 (all ten) and the unconstrained ``../shared/data/qplib``
ones, each compiled by kakehashi to the same QUBO that every tool gets.

Method. Each tool makes ``--runs`` independent runs per instance with a wall-clock budget of
``--budget`` seconds, stopping early at the best-known energy where the tool can. Every run
records its best-so-far curve (kakehashi's engines report it; the other tools are called in
back-to-back batches of reads and the curve is taken at batch ends, so their early stop is at
the end of the batch that hit the target). From the curves:

* ``P(bkv)``: the fraction of runs that reached the best-known value within the budget;
* ``TTS99``: time to solution with 99% confidence, ``min over τ ≤ budget of
  τ·ln(0.01)/ln(1 − p(τ))`` where ``p(τ)`` is the fraction of runs that reached the target
  by τ (restarting every τ seconds is a valid strategy, so this is what a user can achieve);
  ``inf`` when no run reached it. Given for the best-known value and for a 0.1% gap;
* ``gap@1s`` / ``gap@10s``: median relative gap to the best-known value of the best found
  within 1 s / 10 s (runs that stopped at the target count as gap 0 afterwards);
* ``flips/s``: single-flip attempts per second for the annealers (reads × sweeps × n / time),
  moves per second for tabu searches, spin updates per second for SB.

Runs go round-robin over tools (run 1 of every tool, then run 2, ...) so that any load on the
machine spreads evenly. Each tool is warmed up (numba compilation, imports) before timing.

Usage::

    python benchmarks/engines.py                       # everything: slow (≈1 h on 2 cores)
    python benchmarks/engines.py --quick               # 3 runs, 5 s, a few instances
    python benchmarks/engines.py --instances G1,G22 --tools tabu,dwave-tabu --runs 5

It prints a table and writes the figures and the command to docs/performance.md (between the
``engines`` markers) and the raw curves to bench-out/engines.json.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kakehashi import engines  # noqa: E402
from kakehashi.compile.compiler import compile_problem  # noqa: E402
from kakehashi.model.io import load  # noqa: E402
from kakehashi.model.io.bqp import read_bqp  # noqa: E402

DATA = Path(os.environ.get("KAKEHASHI_SHARED_DATA", ROOT.parent / "shared" / "data"))
DOC = ROOT / "docs" / "performance.md"
RAW = ROOT / "bench-out" / "engines.json"  # raw curves (git-ignored)
BEGIN, END = "<!-- engines:begin -->", "<!-- engines:end -->"


# ---------------------------------------------------------------------- instances
@dataclasses.dataclass
class Instance:
    name: str
    family: str
    qubo: Any  # kakehashi Qubo (minimise)
    target: float  # best-known energy of that Qubo
    bqm: Any = None

    n_override: int | None = None

    @property
    def n(self) -> int:
        return self.n_override if self.qubo is None else self.qubo.num_variables

    def dimod(self):
        if self.bqm is None:
            self.bqm = self.qubo.to_bqm()
        return self.bqm


def _energy_target(problem, best_known: float) -> float:
    # compile_problem minimises; a maximisation problem's objective v is energy -v
    return -best_known if problem.sense == "max" else best_known


def load_instances(selected: set[str] | None) -> list[Instance]:
    out: list[Instance] = []

    def want(name: str) -> bool:
        return selected is None or name in selected

    with open(DATA / "gset" / "best_known.csv") as f:
        for row in csv.DictReader(f):
            if want(row["instance"]):
                p = load(DATA / "gset" / f"{row['instance']}.txt")
                q = compile_problem(p).qubo
                out.append(
                    Instance(
                        row["instance"], "gset", q, _energy_target(p, float(row["best_known"]))
                    )
                )
    with open(DATA / "beasley_bqp" / "best_known.csv") as f:
        for row in csv.DictReader(f):
            name = row["instance"]
            if name.startswith("bqp250-") and want(name):
                p = read_bqp(DATA / "beasley_bqp" / "bqp250.txt", index=int(name.split("-")[1]))
                out.append(
                    Instance(
                        name,
                        "bqp250",
                        compile_problem(p).qubo,
                        _energy_target(p, float(row["best_known"])),
                    )
                )
    with open(DATA / "qplib" / "best_known.csv") as f:
        for row in csv.DictReader(f):
            if int(row["n_constraints"]) == 0 and want(row["instance"]):
                p = load(DATA / "qplib" / row["opb_file"])
                scale = _qplib_scale(DATA / "qplib" / f"{row['instance']}.json")
                # the OPB file minimises scale × (QPLIB objective)
                target = scale * float(row["best_known"])
                out.append(
                    Instance(
                        row["instance"],
                        "qplib",
                        compile_problem(p).qubo,
                        _energy_target(p, target) if p.sense == "max" else target,
                    )
                )
    return out


def _qplib_scale(path: Path) -> float:
    def find(doc):
        if isinstance(doc, dict):
            if "objective_function_scale_factor" in doc:
                s = doc["objective_function_scale_factor"]
                return float(s["numerator"]) / float(s["denominator"])
            for v in doc.values():
                r = find(v)
                if r is not None:
                    return r
        return None

    return find(json.loads(path.read_text())) or 1.0


# ---------------------------------------------------------------------- one run of a tool
@dataclasses.dataclass
class Run:
    trace: list[tuple[float, float]]  # (seconds, best energy so far)
    elapsed: float
    work: float  # flip attempts / moves / spin updates
    note: str = ""

    def time_to(self, energy: float, tol: float) -> float:
        for t, e in self.trace:
            if e <= energy + tol:
                return t
        return math.inf

    def best_at(self, seconds: float) -> float:
        vals = [e for t, e in self.trace if t <= seconds]
        return min(vals) if vals else math.inf


def _engine_run(fn: Callable[..., Any], work_key: str, **kw) -> Callable[..., Run]:
    def run(inst: Instance, budget: float, seed: int, target: float | None) -> Run:
        t0 = time.perf_counter()
        res = fn(inst.qubo, seed=seed, time_limit=budget, target=target, **kw)
        elapsed = time.perf_counter() - t0
        work = res.info.get(work_key, 0) or 0
        if work_key == "replica_steps":
            work *= inst.n
        return Run([(float(t), float(e)) for t, e in res.trace], elapsed, float(work))

    return run


def _batched(call: Callable[..., tuple[float, float]]) -> Callable[..., Run]:
    """Call a tool back to back until the budget or the target; curve at batch ends."""

    def run(inst: Instance, budget: float, seed: int, target: float | None) -> Run:
        t0 = time.perf_counter()
        best = math.inf
        trace: list[tuple[float, float]] = []
        work = 0.0
        k = 0
        while True:
            left = max(budget - (time.perf_counter() - t0), 0.05)
            e, w = call(inst, seed * 100_003 + k, left)
            k += 1
            work += w
            now = time.perf_counter() - t0
            if e < best - 1e-9:
                best = e
                trace.append((now, best))
            if target is not None and best <= target + 1e-6:
                break
            if now >= budget:
                break
            per = now / k
            if now + per > budget * 1.05:  # the next batch would overrun the budget
                break
        return Run(trace, time.perf_counter() - t0, work, note=f"{k} calls")

    return run


def _dwave_sa(num_reads: int = 1, num_sweeps: int = 4000):
    from dwave.samplers import SimulatedAnnealingSampler

    sampler = SimulatedAnnealingSampler()

    def call(inst: Instance, seed: int, left: float) -> tuple[float, float]:
        # dwave-samplers rejects seeds of 2**31 and above (its message says 2**32 - 1)
        ss = sampler.sample(
            inst.dimod(), num_reads=num_reads, num_sweeps=num_sweeps, seed=seed % 2**31
        )
        return float(ss.first.energy), float(num_reads * num_sweeps * inst.n)

    return _batched(call)


def _openjij_sa(num_sweeps: int = 1000):
    import openjij as oj

    sampler = oj.SASampler()

    def call(inst: Instance, seed: int, left: float) -> tuple[float, float]:
        ss = sampler.sample(inst.dimod(), num_reads=1, num_sweeps=num_sweeps, seed=seed % 2**31)
        return float(ss.first.energy), float(num_sweeps * inst.n)

    return _batched(call)


def _sb_package(agents: int = 32, mode: str = "discrete", max_steps: int = 1000):
    import simulated_bifurcation as sbp
    import torch

    torch.set_num_threads(2)
    dense: dict[str, tuple[Any, Any]] = {}

    def call(inst: Instance, seed: int, left: float) -> tuple[float, float]:
        torch.manual_seed(seed % 2**31)
        q = inst.qubo
        if inst.name not in dense:
            dense.clear()
            dense[inst.name] = (
                torch.tensor((q.J / 2).toarray(), dtype=torch.float32),
                torch.tensor(q.h, dtype=torch.float32),
            )
        M, v = dense[inst.name]
        # its own timeout keeps a call inside the budget; early stopping as by default
        x, _ = sbp.minimize(
            M,
            v,
            float(q.offset),
            domain="binary",
            agents=agents,
            mode=mode,
            verbose=False,
            device="cpu",
            max_steps=max_steps,
            timeout=left,
        )
        e = float(q.energies(x.numpy().astype(float)[None, :])[0])  # exact, in float64
        return e, float("nan")

    return _batched(call)


def _dwave_tabu():
    from dwave.samplers import TabuSampler

    sampler = TabuSampler()

    def run(inst: Instance, budget: float, seed: int, target: float | None) -> Run:
        # one read with its own clock; it stops at energy_threshold (the target) itself.
        # Its curve is one point; a second, 1 s call gives the 1-second figure.
        t0 = time.perf_counter()
        ss = sampler.sample(
            inst.dimod(),
            num_reads=1,
            timeout=int(budget * 1000),
            seed=seed % 2**31,
            energy_threshold=target,
        )
        elapsed = time.perf_counter() - t0
        e = float(ss.first.energy)
        trace = [(elapsed, e)]
        if not (target is not None and e <= target + 1e-6) or elapsed > 1.0:
            t1 = time.perf_counter()
            s1 = sampler.sample(inst.dimod(), num_reads=1, timeout=1000, seed=seed % 2**31 + 1)
            trace.insert(0, (min(time.perf_counter() - t1, 1.0), float(s1.first.energy)))
        trace.sort()
        best, clean = math.inf, []
        for t, v in trace:
            if v < best:
                best = v
                clean.append((t, v))
        return Run(clean, elapsed, float("nan"), note="timeout-based")

    return run


TOOLS: dict[str, Callable[[], Callable[..., Run]]] = {
    "kakehashi-sa": lambda: _engine_run(engines.anneal, "flip_attempts"),
    "kakehashi-pt": lambda: _engine_run(engines.temper, "flip_attempts"),
    "kakehashi-pa": lambda: _engine_run(engines.populate, "flip_attempts"),
    "kakehashi-tabu": lambda: _engine_run(engines.tabu, "moves"),
    "kakehashi-sb": lambda: _engine_run(engines.bifurcate, "replica_steps"),
    "dwave-sa": _dwave_sa,
    "dwave-tabu": _dwave_tabu,
    "openjij-sa": _openjij_sa,
    "sb-package": _sb_package,
}
SHORT = {
    "sa": "kakehashi-sa",
    "pt": "kakehashi-pt",
    "pa": "kakehashi-pa",
    "tabu": "kakehashi-tabu",
    "sb": "kakehashi-sb",
}
OURS = ("kakehashi-sa", "kakehashi-pt", "kakehashi-pa", "kakehashi-tabu", "kakehashi-sb")
THEIRS = ("dwave-sa", "dwave-tabu", "openjij-sa")


# ---------------------------------------------------------------------- figures
def tts99(hit_times: list[float], budget: float) -> float:
    """min over τ of τ·ln(0.01)/ln(1 − p(τ)) from time-to-target samples (inf = missed)."""
    R = len(hit_times)
    finite = sorted(t for t in hit_times if math.isfinite(t) and t <= budget)
    best = math.inf
    for i, tau in enumerate(finite):
        tau = max(tau, 1e-4)
        p = (i + 1) / R
        best = min(best, tau if p >= 0.99 else tau * math.log(0.01) / math.log(1 - p))
    return best


def figures(runs: list[Run], target: float, budget: float) -> dict[str, float]:
    tol = 1e-6 * max(1.0, abs(target))
    gap_target = target + 1e-3 * abs(target)
    hits = [r.time_to(target, tol) for r in runs]
    hits_gap = [r.time_to(gap_target, tol) for r in runs]

    def gap(e: float) -> float:
        return (e - target) / abs(target) if math.isfinite(e) and target else math.inf

    work = [r.work / r.elapsed for r in runs if r.elapsed > 0 and math.isfinite(r.work)]
    return {
        "p_bkv": sum(math.isfinite(t) and t <= budget for t in hits) / len(runs),
        "tts99_bkv": tts99(hits, budget),
        "tts99_gap": tts99(hits_gap, budget),
        "gap_1s": float(np.median([gap(r.best_at(1.0)) for r in runs])),
        "gap_10s": float(np.median([gap(r.best_at(min(10.0, budget))) for r in runs])),
        "best_gap": min(gap(r.best_at(math.inf)) for r in runs),
        "work_per_s": float(np.median(work)) if work else math.nan,
    }


def fmt_time(t: float) -> str:
    if not math.isfinite(t):
        return "—"
    return f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"


def fmt_gap(g: float) -> str:
    return "—" if not math.isfinite(g) else ("0" if g <= 0 else f"{100 * g:.3f}%")


def fmt_rate(r: float) -> str:
    return "—" if not math.isfinite(r) or r <= 0 else f"{r:.2e}"


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--budget", type=float, default=10.0, help="seconds per run")
    ap.add_argument("--instances", default=None, help="comma-separated names (default: all)")
    ap.add_argument("--tools", default=None, help="comma-separated (default: all installed)")
    ap.add_argument("--threads", type=int, default=2, help="threads for kakehashi's engines")
    ap.add_argument("--quick", action="store_true", help="3 runs of 5 s on a few instances")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="no runs: render the table from bench-out/engines.json "
        "(also from an interrupted run, which saves after every run)",
    )
    ap.add_argument(
        "--throughput",
        action="store_true",
        help="with --report-only: measure the flips/s line now and add it; alone: only "
        "measure and print it",
    )
    args = ap.parse_args(argv)
    if args.throughput and not args.report_only:
        print(throughput_line(measure_throughput(args.threads), args.threads))
        return 0
    if args.report_only:
        return report_from_raw(args)
    if args.quick:
        args.runs = min(args.runs, 3)
        args.budget = min(args.budget, 5.0)
        args.instances = args.instances or "G1,G11,G43,bqp250-1,QPLIB_3506"
    selected = set(args.instances.split(",")) if args.instances else None
    names = [SHORT.get(t, t) for t in args.tools.split(",")] if args.tools else list(TOOLS)

    import numba

    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    instances = load_instances(selected)
    if not instances:
        print("no instance matched", file=sys.stderr)
        return 2
    tools: dict[str, Callable[..., Run]] = {}
    for name in names:
        try:
            tools[name] = TOOLS[name]()
        except ImportError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
    # warm-up: numba compilation and first-call costs stay out of the figures
    small = min(instances, key=lambda i: i.n)
    for run in tools.values():
        run(small, 0.2, 0, None)
    print(
        f"{len(instances)} instances × {len(tools)} tools × {args.runs} runs, "
        f"budget {args.budget:g} s, kakehashi threads {args.threads}",
        flush=True,
    )

    results: dict[str, dict[str, list[Run]]] = {i.name: {t: [] for t in tools} for i in instances}
    for r in range(args.runs):
        for inst in instances:
            for name, run in tools.items():
                seed = args.seed + 7919 * r
                out = run(inst, args.budget, seed, inst.target)
                results[inst.name][name].append(out)
                if not args.no_write:
                    save_raw(args, instances, results, partial=True)
                best = out.best_at(math.inf)
                print(
                    f"run {r + 1}/{args.runs} {inst.name:11s} {name:15s} best {best:.6g} "
                    f"(bkv {inst.target:.6g}) {out.elapsed:6.2f} s",
                    flush=True,
                )

    table = {
        i.name: {t: figures(results[i.name][t], i.target, args.budget) for t in tools}
        for i in instances
    }
    tp = measure_throughput(args.threads)
    text = report(instances, list(tools), table, args) + "\n\n" + throughput_line(tp, args.threads)
    print(text)
    if not args.no_write:
        write_doc(text)
        save_raw(args, instances, results, partial=False, table=table, tp=tp)
    return 0


def measure_throughput(threads: int, sweeps: int = 4000, repeats: int = 5) -> dict[str, float]:
    """Single-flip attempts per second on G1: kakehashi SA (2 reads per thread) against
    dwave-samplers SA (one read, its only mode), the same number of sweeps, default β ranges;
    the median of ``repeats`` timed calls (seeds 1, 2, ...), interleaved tool by tool."""
    p = load(DATA / "gset" / "G1.txt")
    q = compile_problem(p).qubo
    reads = 2 * threads
    work = reads * sweeps * q.num_variables
    calls: dict[str, Callable[[int], Any]] = {
        "kakehashi-sa": lambda seed: engines.anneal(
            q, num_reads=reads, num_sweeps=sweeps, seed=seed, threads=threads, polish=False
        )
    }
    engines.anneal(q, num_reads=reads, num_sweeps=10, seed=0, threads=threads)  # warm-up
    try:
        from dwave.samplers import SimulatedAnnealingSampler

        bqm = q.to_bqm()
        sampler = SimulatedAnnealingSampler()
        sampler.sample(bqm, num_reads=1, num_sweeps=10, seed=0)
        calls["dwave-sa"] = lambda seed: sampler.sample(
            bqm, num_reads=reads, num_sweeps=sweeps, seed=seed
        )
    except ImportError:
        pass
    rates: dict[str, list[float]] = {k: [] for k in calls}
    for rep in range(repeats):
        for name, call in calls.items():
            t = time.perf_counter()
            call(rep + 1)
            rates[name].append(work / (time.perf_counter() - t))
    return {k: float(np.median(v)) for k, v in rates.items()}


def throughput_line(tp: dict[str, float] | None, threads: int) -> str:
    if not tp:
        return ""
    parts = [f"{k} {v:.3g}/s" for k, v in tp.items()]
    return (
        f"Single-flip attempts per second on G1 (median of 5 calls of {2 * threads} reads × "
        f"4000 sweeps, default β ranges; kakehashi on "
        f"{threads} threads, dwave-samplers single-threaded): " + ", ".join(parts) + "."
    )


def save_raw(args, instances, results, *, partial: bool, table=None, tp=None) -> None:
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(
        json.dumps(
            {
                "command": command(args),
                "machine": machine(),
                "budget": args.budget,
                "runs": args.runs,
                "threads": args.threads,
                "partial": partial,
                "instances": {
                    i.name: {"n": i.n, "target": i.target, "family": i.family} for i in instances
                },
                "figures": table,
                "throughput": tp,
                "curves": {
                    i: {t: [dataclasses.asdict(r) for r in rs] for t, rs in v.items()}
                    for i, v in results.items()
                },
            },
            indent=1,
            default=str,
        )
    )


def report_from_raw(args) -> int:
    raw = json.loads(RAW.read_text())
    budget = float(raw["budget"])
    instances = [
        Instance(name, d["family"], None, float(d["target"]))
        for name, d in raw["instances"].items()
    ]
    for inst, d in zip(instances, raw["instances"].values(), strict=True):
        inst.n_override = d["n"]
    tools = sorted(
        {t for v in raw["curves"].values() for t in v},
        key=lambda t: list(TOOLS).index(t) if t in TOOLS else 99,
    )
    table = {}
    for inst in instances:
        table[inst.name] = {}
        for t in tools:
            runs = [
                Run(
                    [tuple(p) for p in r["trace"]],
                    float(r["elapsed"]),
                    float(r["work"]),
                    r.get("note", ""),
                )
                for r in raw["curves"][inst.name].get(t, [])
            ]
            table[inst.name][t] = figures(runs, inst.target, budget) if runs else None
    done = min(len(rs) for v in raw["curves"].values() for rs in v.values())
    args.runs, args.budget, args.threads = done, budget, int(raw.get("threads", 2))
    tp = raw.get("throughput")
    if args.throughput:
        tp = measure_throughput(args.threads)
        raw["throughput"] = tp
        if not args.no_write:
            RAW.write_text(json.dumps(raw, indent=1, default=str))
    text = report(instances, tools, table, args)
    if tp:
        text += "\n\n" + throughput_line(tp, args.threads)
    print(text)
    if not args.no_write:
        write_doc(
            text,
            raw["command"]
            + (f" (rendered from {done} completed runs per tool)" if raw.get("partial") else ""),
        )
    return 0


def command(args) -> str:
    parts = ["python benchmarks/engines.py"]
    parts += [f"--runs {args.runs}", f"--budget {args.budget:g}", f"--threads {args.threads}"]
    if args.instances:
        parts.append(f"--instances {args.instances}")
    if args.tools:
        parts.append(f"--tools {args.tools}")
    return " ".join(parts)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def report(instances: list[Instance], tools: list[str], table, args) -> str:
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {machine()}; "
        f"{args.runs} runs per tool and instance, {args.budget:g} s budget per run; kakehashi's "
        f"engines on {args.threads} threads, the other tools as they run by default "
        "(single-threaded).",
        "",
        "Settings: dwave-samplers SA 4000 sweeps per read (one read per call), OpenJij SA 1000 "
        "sweeps per read, the simulated-bifurcation package discrete mode, 32 agents, at most "
        "1000 steps per call on a dense float32 matrix (PyTorch, CPU, 2 threads), dwave tabu one "
        "read with `timeout` = the budget and `energy_threshold` = the target. kakehashi's "
        "engines run with their defaults and `time_limit`/`target` only. With few runs per tool "
        "P and TTS99 are coarse (P moves in steps of 1/runs).",
        "",
        "| instance | n | tool | P(bkv) | TTS99 bkv | TTS99 0.1% | gap@1s | gap@10s | best gap "
        "| flips/s |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for inst in instances:
        for t in tools:
            f = table[inst.name][t]
            if f is None:
                continue
            lines.append(
                f"| {inst.name} | {inst.n} | {t} | {f['p_bkv']:.2f} | "
                f"{fmt_time(f['tts99_bkv'])} | {fmt_time(f['tts99_gap'])} | "
                f"{fmt_gap(f['gap_1s'])} | {fmt_gap(f['gap_10s'])} | "
                f"{fmt_gap(f['best_gap'])} | {fmt_rate(f['work_per_s'])} |"
            )
    # the headline: median over Gset of the best TTS99 (ours vs theirs)
    gset = [i for i in instances if i.family == "gset"]
    ours = [t for t in tools if t in OURS]
    theirs = [t for t in tools if t in THEIRS]
    if gset and ours and theirs:
        lines += [
            "",
            "| Gset instance | best kakehashi engine | TTS99 "
            "| best of dwave SA/tabu, OpenJij SA | TTS99 | ratio |",
            "|---|---|---:|---|---:|---:|",
        ]
        ratios = []
        for inst in gset:
            have = [t for t in tools if table[inst.name].get(t)]
            if not any(t in have for t in ours) or not any(t in have for t in theirs):
                continue
            o = min((t for t in ours if t in have), key=lambda t: table[inst.name][t]["tts99_bkv"])
            th = min(
                (t for t in theirs if t in have), key=lambda t: table[inst.name][t]["tts99_bkv"]
            )
            to, tt = table[inst.name][o]["tts99_bkv"], table[inst.name][th]["tts99_bkv"]
            ratio = tt / to if math.isfinite(to) else (math.nan if not math.isfinite(tt) else 0.0)
            if math.isfinite(to) and not math.isfinite(tt):
                ratio = math.inf
            ratios.append(ratio)
            shown = (
                "∞"
                if ratio == math.inf
                else (
                    "—"
                    if not math.isfinite(ratio)
                    else ("0 (only theirs)" if ratio == 0 else f"{ratio:.1f}×")
                )
            )
            lines.append(
                f"| {inst.name} | {o} | {fmt_time(to)} | {th} | {fmt_time(tt)} | {shown} |"
            )
        finite = [r for r in ratios if not math.isnan(r)]
        med = float(np.median(finite)) if finite else math.nan
        lines.append("")
        lines.append(
            f"Median over Gset of (their best TTS99) / (our best TTS99): "
            f"{'∞' if med == math.inf else f'{med:.1f}×'} (∞: only kakehashi reached "
            "the best-known value within the budget; instances nobody solved are left "
            "out)."
        )
    return "\n".join(lines)


def write_doc(text: str, cmd: str | None = None) -> None:
    cmd = cmd or " ".join(["python", *sys.argv])
    section = "\n".join(
        [
            BEGIN,
            "## QUBO engines against the open solvers (`benchmarks/engines.py`)",
            "",
            f"Command: `{cmd}`",
            "",
            text,
            "",
            "How to read it: see the docstring of `benchmarks/engines.py` (TTS99 from "
            "time-to-target "
            "curves, gaps relative to the best-known value, `—` = not reached / not measured).",
            END,
        ]
    )
    old = DOC.read_text() if DOC.exists() else "# Performance\n"
    start = old.find(BEGIN)
    end = old.find(END, start) if start >= 0 else -1
    if start >= 0 and end >= 0:
        new = old[:start] + section + old[end + len(END) :]
    else:  # no (complete) section yet: append one, dropping any stray marker
        new = old.replace(BEGIN, "").replace(END, "").rstrip() + "\n\n" + section + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(new)


if __name__ == "__main__":
    raise SystemExit(main())
