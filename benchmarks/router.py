"""The router against the virtual best solver, the single best solver and MQLib's hyper-heuristic.

1. Read the run store that ``router_collect.py`` filled (every instance of
   ``router_instances`` × ``TRAIN_BACKENDS`` × ``TRAIN_BUDGETS``, one run each).
2. Split instances by family (``TEST_FAMILIES`` held out: no generator family at one size on
   both sides), train a router model on the training side only.
3. On the test side, per instance and budget: the router's pick (routing over the backends
   measured there) and the measured gap of that pick's run, against the virtual best solver
   (VBS: the best measured backend per instance) and the single best solver (SBS: the one
   backend with the best mean gap over the test instances); the fixed rule
   (``solve.choose_backend``) is shown beside it. Routing time is measured per call.
4. On the Max-Cut/QUBO test instances, MQLib's hyper-heuristic (``-hh``) at the same wall
   time (``--mqlib /path/to/built/MQLib``, or ``$MQLIB_DIR``; skipped when absent).

    KAKEHASHI_SHARED_DATA=../shared/data python benchmarks/router.py \\
        --runs ../_router-runs/runs.sqlite --mqlib ../_mqlib-build/MQLib

Gaps are relative to the best value known for the instance (published best-known value or
the best any run found); a run with no feasible answer counts as a gap of 100%.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from router_instances import TEST_FAMILIES, all_instances, family_of, suite_document

from kakehashi.bench.suite import parse_suite
from kakehashi.router.selector import route
from kakehashi.router.train import Dataset, fit, load_runs, relative_gap
from kakehashi.solve import choose_backend

WITHIN = 0.01
INFEASIBLE = 1.0


def split(data: Dataset) -> tuple[list[str], list[str]]:
    fam = {name: _family(tags) for name, tags in data.tags.items()}
    test = sorted(n for n, f in fam.items() if f in TEST_FAMILIES)
    train = sorted(n for n, f in fam.items() if f not in TEST_FAMILIES)
    shared = {fam[n] for n in test} & {fam[n] for n in train}
    assert not shared, f"families on both sides: {shared}"
    return train, test


def _family(tags: list[str]) -> str:
    return family_of({"name": "?", "tags": tags})


def gaps_by(data: Dataset) -> dict[tuple[str, float], dict[str, float]]:
    out: dict[tuple[str, float], dict[str, float]] = {}
    for r in data.runs:
        gap = INFEASIBLE if r.gap is None else min(r.gap, INFEASIBLE)
        out.setdefault((r.instance, r.budget), {})[r.backend] = gap
    return out


def evaluate(data: Dataset, model_path: str, test: list[str], budgets: list[float]) -> dict:
    problems = _problems(test)
    table = gaps_by(data)
    rows = []
    for budget in budgets:
        keys = [(n, budget) for n in test if (n, budget) in table and n in problems]
        backends = sorted({b for k in keys for b in table[k]})
        # SBS: the one backend with the best mean gap over these instances (missing = 100%)
        mean = {b: np.mean([table[k].get(b, INFEASIBLE) for k in keys]) for b in backends}
        sbs = min(mean, key=mean.get)
        for name, _ in keys:
            measured = table[(name, budget)]
            p = problems[name]
            d = route(p, time_limit=budget, router=model_path, backends=sorted(measured))
            # the overhead a user pays: routing over every registered backend (the
            # availability memo warm, as after the first solve of a session)
            c0, t0 = time.process_time(), time.perf_counter()
            route(p, time_limit=budget, router=model_path)
            overhead = time.perf_counter() - t0
            cpu = time.process_time() - c0
            rule = choose_backend(p).name
            vbs = min(measured.values())
            rows.append({
                "instance": name, "budget": budget, "choice": d.choice,
                "auto": measured.get(d.choice, INFEASIBLE), "vbs": vbs,
                "vbs_backend": min(measured, key=measured.get),
                "sbs": measured.get(sbs, INFEASIBLE), "sbs_backend": sbs,
                "rule": measured.get(rule, INFEASIBLE), "rule_backend": rule,
                "overhead": overhead, "overhead_share": overhead / budget,
                "cpu_share": cpu / budget,
                "features_n": p.num_variables,
            })  # fmt: skip
    return {"rows": rows}


def _problems(names: list[str]) -> dict[str, Any]:
    suite = parse_suite(suite_document(all_instances()))
    out = {}
    for inst in suite.instances:
        if inst.name in names:
            out[inst.name] = inst.build()
    return out


def summarise(rows: list[dict], who: str) -> dict[str, float]:
    dev = [r[who] - r["vbs"] for r in rows]
    sbs = np.mean([r["sbs"] for r in rows])
    vbs = np.mean([r["vbs"] for r in rows])
    mine = np.mean([r[who] for r in rows])
    closed = (sbs - mine) / (sbs - vbs) if sbs > vbs else float("nan")
    return {
        "n": len(rows),
        "picks_best": float(np.mean([d <= 1e-9 for d in dev])),
        "mean_dev": float(np.mean(dev)),
        "worst_dev": float(np.max(dev)),
        "within_1pct": float(np.mean([d <= WITHIN for d in dev])),
        "gap_closed": float(closed),
        "mean_gap": float(mine),
    }


# ---------------------------------------------------------------------- MQLib
def is_unconstrained_binary(p: Any) -> bool:
    return p.num_constraints == 0 and p.is_binary and p.max_degree <= 2


def mqlib_run(mqlib: Path, problem: Any, budget: float, seed: int) -> dict:
    """MQLib's hyper-heuristic on ``problem`` with runtime limit ``budget`` (``-hh -r``), and
    the heuristic it picked run alone for ``budget`` (its selection time not counted). Each
    best solution is decoded and evaluated against the problem like any kakehashi answer."""
    from kakehashi.compile.compiler import compile_problem

    comp = compile_problem(problem)
    q = comp.qubo
    upper = q.upper.tocoo()
    h = np.asarray(q.h, dtype=float)
    lines = [(i + 1, i + 1, -h[i]) for i in range(h.size) if h[i] != 0]
    # MQLib maximises Σ_a Q_aa x_a + 2 Σ_{a<b} Q_ab x_a x_b; the Qubo minimises h·x + Σ J x x
    pairs = zip(upper.row, upper.col, upper.data, strict=True)
    lines += [(i + 1, j + 1, -w / 2) for i, j, w in pairs if i != j and w != 0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "instance.txt"
        with path.open("w") as fh:
            fh.write(f"{h.size} {len(lines)}\n")
            fh.writelines(f"{a} {b} {float(w):.17g}\n" for a, b, w in lines)
        hh = _mqlib(mqlib, path, ["-hh"], budget, seed, comp, problem)
        picked = hh["code"].removeprefix("HH_")
        alone = _mqlib(mqlib, path, ["-h", picked], budget, seed, comp, problem)
    return {"hh": hh, "picked": picked, "alone": alone}


def _mqlib(mqlib: Path, path: Path, how: list[str], budget, seed, comp, problem) -> dict:
    t0 = time.perf_counter()
    out = subprocess.run(
        [str(mqlib / "bin" / "MQLib"), "-fQ", str(path), *how, "-r", f"{budget:g}",
         "-s", str(seed), "-ps"],
        cwd=mqlib, capture_output=True, text=True, timeout=budget * 10 + 60,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    head, _, sol = out.stdout.partition("Solution:")
    if out.returncode != 0 or not sol.strip():
        raise RuntimeError(f"MQLib failed: {out.stdout[-300:]} {out.stderr[-300:]}")
    bits = np.array([int(t) for t in sol.split()], dtype=float)
    ev = problem.evaluate(comp.decode(bits[None, :]))
    code = head.strip().splitlines()[-1].split(",")[1]
    return {"objective": float(ev["objective"][0]), "wall": wall, "code": code}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True, help="the run store router_collect.py filled")
    ap.add_argument("--mqlib", default=os.environ.get("MQLIB_DIR"), help="built MQLib folder")
    ap.add_argument("--model-out", default=None, help="also keep the train-split model here")
    ap.add_argument("--detail", action="store_true", help="print every test instance's pick")
    args = ap.parse_args()

    data = load_runs([args.runs])
    train, test = split(data)
    print(f"{len(data.runs)} runs; {len(train)} training and {len(test)} test instances")
    print("test families:", ", ".join(f for f in TEST_FAMILIES))
    t0 = time.perf_counter()
    model = fit(data.restricted(train))
    print(f"trained on {model.meta['runs']} runs in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        model_path = str(model.save(Path(args.model_out or Path(tmp) / "train_split.npz")))
        res = evaluate(data, model_path, test, data.budgets)
    rows = res["rows"]
    for budget in data.budgets:
        sub = [r for r in rows if r["budget"] == budget]
        print(f"\n## budget {budget:g} s: {len(sub)} test instances, SBS {sub[0]['sbs_backend']}")
        print("| selector | picks best | mean dev. from VBS | worst dev. | within 1% of VBS |"
              " SBS–VBS gap closed |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        for who in ("auto", "rule", "sbs"):
            s = summarise(sub, who)
            print(
                f"| {who} | {s['picks_best']:.0%} | {s['mean_dev']:.3%} | {s['worst_dev']:.2%} "
                f"| {s['within_1pct']:.0%} | {s['gap_closed']:.1%} |"
            )
        over = [r["overhead_share"] for r in sub]
        ms = statistics.median(r["overhead"] for r in sub) * 1e3
        cpu = [r["cpu_share"] for r in sub]
        load = os.getloadavg()[0]
        print(
            f"routing overhead (wall, load average {load:.1f} on {os.cpu_count()} cores): "
            f"median {statistics.median(over):.2%} of the budget, max {max(over):.2%} "
            f"(median {ms:.1f} ms); CPU time: median {statistics.median(cpu):.2%}, "
            f"max {max(cpu):.2%}"
        )
        if args.detail:
            for r in sub:
                print(f"  {r['instance']:>22}: auto {r['choice']:<10} {r['auto']:8.3%}  VBS "
                      f"{r['vbs_backend']:<10} {r['vbs']:8.3%}  rule {r['rule_backend']:<6} "
                      f"{r['rule']:8.3%}")  # fmt: skip
        for r in sub:
            if r["auto"] - r["vbs"] > WITHIN:
                print(f"  miss: {r['instance']}: auto {r['choice']} {r['auto']:.2%}, "
                      f"VBS {r['vbs_backend']} {r['vbs']:.2%}")  # fmt: skip
    if not args.mqlib:
        print("\nMQLib: skipped (pass --mqlib or set MQLIB_DIR to a built MQLib folder)")
        return
    mq = Path(args.mqlib)
    problems = _problems(test)
    budget = max(data.budgets)
    print(f"\n## Max-Cut/QUBO test instances at {budget:g} s: auto vs MQLib hyper-heuristic")
    print("| instance | n | auto gap (backend) | MQLib -hh gap (wall s) | its pick alone gap |")
    print("|---|---|---|---|---|")
    gaps: dict[str, list[float]] = {"auto": [], "hh": [], "alone": []}
    refs, objs = _references(args.runs)
    for r in [r for r in rows if r["budget"] == budget]:
        p = problems[r["instance"]]
        if not is_unconstrained_binary(p):
            continue
        m = mqlib_run(mq, p, budget, seed=1)
        # the reference is the best of every kakehashi run and MQLib's answers
        vals = [refs[r["instance"]], m["hh"]["objective"], m["alone"]["objective"]]
        ref = max(vals) if p.sense == "max" else min(vals)
        mine = objs.get((r["instance"], r["choice"], budget))
        g = {
            "auto": INFEASIBLE if mine is None else relative_gap(mine, ref, p.sense),
            "hh": relative_gap(m["hh"]["objective"], ref, p.sense),
            "alone": relative_gap(m["alone"]["objective"], ref, p.sense),
        }
        for k, v in g.items():
            gaps[k].append(v)
        print(
            f"| {r['instance']} | {p.num_variables} | {g['auto']:.3%} ({r['choice']}) | "
            f"{g['hh']:.3%} ({m['hh']['wall']:.1f}) | {g['alone']:.3%} ({m['picked']}) |"
        )
    if gaps["auto"]:
        med = {k: statistics.median(v) for k, v in gaps.items()}
        mean = {k: float(np.mean(v)) for k, v in gaps.items()}
        print(
            f"median gap over {len(gaps['auto'])} instances: auto {med['auto']:.3%}, MQLib -hh "
            f"{med['hh']:.3%}, its pick alone {med['alone']:.3%}; mean {mean['auto']:.3%} / "
            f"{mean['hh']:.3%} / {mean['alone']:.3%}"
        )
        pairs = list(zip(gaps["auto"], gaps["hh"], gaps["alone"], strict=True))
        print(
            f"auto at least as good as MQLib -hh on {sum(a <= h + 1e-12 for a, h, _ in pairs)}"
            f" and as its pick alone on {sum(a <= o + 1e-12 for a, _, o in pairs)} of "
            f"{len(pairs)} instances"
        )


def _references(path: str) -> tuple[dict[str, float], dict[tuple[str, str, float], float]]:
    """The best value known per instance (best-known value or best feasible run) and the
    objective of each feasible run by (instance, backend, budget)."""
    from kakehashi.bench.store import RunStore

    store = RunStore.open_existing(path)
    inst = store.instances()
    refs, objs = {}, {}
    for r in store.runs("status = 'ok' AND feasible = 1 AND objective IS NOT NULL"):
        objs[(r["instance"], r["backend"], float(r["time_limit"]))] = float(r["objective"])
    for name, row in inst.items():
        vals = [v for (i, _, _), v in objs.items() if i == name]
        if row["best_known"] is not None:
            vals.append(float(row["best_known"]))
        if vals:
            refs[name] = max(vals) if row["sense"] == "max" else min(vals)
    store.close()
    return refs, objs


if __name__ == "__main__":
    main()
