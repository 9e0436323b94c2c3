"""From stored runs to the numbers a report shows: targets, success, gaps, TTS99 with
bootstrap intervals, time spread, energy, CO2 and money — per instance and per backend.

Needs pandas (the ``[bench]`` extra); imported only by reports and comparisons.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np

from kakehashi.bench import metrics
from kakehashi.bench.store import RunStore
from kakehashi.errors import KakehashiError


def _pandas():
    try:
        import pandas as pd
    except ImportError:
        raise KakehashiError(
            "benchmark tables and reports need pandas: pip install 'kakehashi[bench]'"
        ) from None
    return pd


# the run rate behind "energy and CO2 per year" (stated beside every such figure)
RUNS_PER_DAY = 1000.0
# below this many runs a bootstrap interval says little ("100% [100%, 100%]" from 3 runs):
# the report prints "too few runs for an interval" instead
MIN_RUNS_FOR_INTERVAL = 10


def overran(wall: float | None, time_limit: float) -> bool:
    """A run overshot its budget: by more than a quarter of it, and at least 0.5 s."""
    return wall is not None and wall > time_limit + max(0.5, 0.25 * time_limit)


@dataclasses.dataclass
class Analysis:
    """Runs with their derived columns (``runs``), per-instance summaries (``table``), per
    backend aggregates (``backends``), the machine(s), warnings, and the baseline's name."""

    runs: Any
    table: Any
    backends: Any
    instances: dict[str, dict[str, Any]]
    machines: list[dict[str, Any]]
    warnings: list[str]
    baseline: str | None
    target_gap: float
    accounting: dict[str, Any]
    notes: list[str] = dataclasses.field(default_factory=list)
    runs_per_day: float = 1000.0


def analyse(
    store: RunStore,
    *,
    target_gap: float = 0.0,
    baseline: str | None = None,
    grid_g_per_kwh: float | None = None,
    seed: int = 0,
    runs_per_day: float = RUNS_PER_DAY,
) -> Analysis:
    """Everything a report needs from the runs in ``store``.

    ``baseline`` names the classical baseline; by default the strongest classical backend
    (most instances solved, then lowest TTS99) is named. ``grid_g_per_kwh`` recomputes CO2
    with another grid intensity. ``runs_per_day`` is the run rate behind the yearly energy
    and CO2 figures.
    """
    if not (isinstance(runs_per_day, (int, float)) and runs_per_day > 0):
        raise KakehashiError(f"runs per day must be a positive number, got {runs_per_day!r}")
    pd = _pandas()
    rows = store.runs()
    if not rows:
        raise KakehashiError(f"{store.path} holds no runs yet; run `kakehashi bench` first")
    runs = pd.DataFrame(rows)
    instances = store.instances()
    machines = store.machines()
    warnings: list[str] = []

    # ---------------------------------------------------------------- targets
    targets: dict[str, tuple[float | None, str, str]] = {}
    for name, grp in runs.groupby("instance"):
        inst = instances.get(name, {})
        sense = inst.get("sense") or "min"
        ok = grp[(grp.status == "ok") & (grp.feasible == 1)]
        found = None
        if len(ok):
            found = float(ok.objective.min() if sense == "min" else ok.objective.max())
        bk = inst.get("best_known")
        if bk is not None and not (isinstance(bk, float) and math.isnan(bk)):
            targets[name] = (float(bk), inst.get("best_known_source") or "best known", sense)
            if found is not None and metrics.gap(found, float(bk), sense) < -1e-6:
                warnings.append(
                    f"{name}: a run found {found:g}, better than the best-known {bk:g} — check the "
                    "instance's objective convention (sense, scale) before trusting its gaps"
                )
        else:
            targets[name] = (found, "best found in this comparison", sense)

    runs["sense"] = [targets.get(i, (None, "", "min"))[2] for i in runs.instance]
    runs["target"] = [targets.get(i, (None,))[0] for i in runs.instance]
    runs["target_source"] = [targets.get(i, (None, ""))[1] for i in runs.instance]
    ok = runs.status == "ok"
    feas = ok & (runs.feasible == 1)
    runs["gap"] = [
        metrics.gap(o, t, s) if f else None
        for o, t, s, f in zip(runs.objective, runs.target, runs.sense, feas, strict=True)
    ]
    runs["success"] = [
        bool(f) and metrics.reached(o, t, s, target_gap)
        for o, t, s, f in zip(runs.objective, runs.target, runs.sense, feas, strict=True)
    ]
    queue = runs.queue_seconds.fillna(0.0) if "queue_seconds" in runs else 0.0
    runs["run_seconds"] = (runs.total_seconds.fillna(runs.wall_seconds) - queue).clip(lower=0.0)
    runs["overran"] = [
        overran(w, t) for w, t in zip(runs.wall_seconds, runs.time_limit, strict=True)
    ]
    if grid_g_per_kwh is not None:
        runs["co2_grams"] = runs.energy_joules / 3.6e6 * grid_g_per_kwh
    # quality: 1 at the target, falling with the gap, 0 when it ran but found nothing
    # feasible; NaN when it did not run (skipped, unsupported, error) — never counted as 0
    runs["quality"] = [
        (
            max(0.0, 1.0 - max(0.0, g))
            if (g is not None and not (isinstance(g, float) and math.isnan(g)))
            else 0.0
        )
        if st == "ok"
        else math.nan
        for g, st in zip(runs.gap, runs.status, strict=True)
    ]
    # time to target: when a successful run first held its final answer (engines' and MIP
    # solvers' own clocks), else the run's whole time; ttt_known says which was used
    runs["time_to_best"] = pd.to_numeric(runs.time_to_best, errors="coerce")
    known = runs.success & runs.time_to_best.notna() & (runs.time_to_best >= 0)
    runs["ttt_known"] = known
    runs["ttt_seconds"] = np.where(
        known, np.minimum(runs.time_to_best.fillna(0.0), runs.run_seconds), runs.run_seconds
    )
    n_over = int((runs.overran & ok).sum())
    if n_over:
        worst = runs[runs.overran & ok].groupby("backend").size().to_dict()
        warnings.append(
            f"{n_over} runs overshot their time budget by more than max(0.5 s, 25%) ("
            + ", ".join(f"{b}: {c}" for b, c in worst.items())
            + ") — their backend does not honour time limits; compare them with care"
        )
    for status in ("error", "unsupported", "skipped"):
        bad = runs[runs.status == status]
        if len(bad):
            per = bad.groupby("backend").size().to_dict()
            sample = bad.error.dropna().iloc[0] if bad.error.notna().any() else ""
            warnings.append(
                f"{len(bad)} runs {status} ("
                + ", ".join(f"{b}: {c}" for b, c in per.items())
                + f"); e.g. {sample[:200]}"
            )

    used = set(runs.machine_id.dropna().astype(int)) if "machine_id" in runs else set()
    if len(used) > 1:
        warnings.append(
            f"these runs come from {len(used)} different machines; their timings, energy and "
            "money are not comparable — keep one --out folder per machine"
        )
    if "load_avg" in runs and runs.load_avg.notna().any() and machines:
        cores = max(int(m.get("cores_usable") or 1) for m in machines)
        load = float(runs.load_avg.median())
        if load > cores:
            warnings.append(
                f"the machine was busy while benchmarking (median load average {load:.1f} on "
                f"{cores} usable cores): timings include waiting for other work and are "
                "inflated; re-run on a quiet machine for figures to publish"
            )
    table = _per_instance(runs, seed)
    named = baseline or _strongest_classical(table)
    backends = _per_backend(table, runs, runs_per_day)
    acc = (
        json.loads(runs.accounting_json.dropna().iloc[0])
        if runs.accounting_json.notna().any()
        else {}
    )
    if grid_g_per_kwh is not None:
        acc["grid_g_per_kwh"] = grid_g_per_kwh
        acc["grid"] = f"{grid_g_per_kwh:g} g-CO2/kWh (set for this report)"
    an = Analysis(runs, table, backends, instances, machines, warnings, named, target_gap, acc)
    an.notes = store.notes()
    an.runs_per_day = float(runs_per_day)
    return an


def _nan(x: Any) -> float:
    return math.nan if x is None else float(x)


def _per_instance(runs: Any, seed: int) -> Any:
    pd = _pandas()
    out = []
    for (inst, backend, tl), g in runs.groupby(["instance", "backend", "time_limit"], sort=True):
        ok = g[g.status == "ok"]
        row: dict[str, Any] = {
            "instance": inst,
            "backend": backend,
            "time_limit": tl,
            "modality": g.modality.iloc[0],
            "runs": len(g),
            "ok_runs": len(ok),
            "status": "ok" if len(ok) else str(g.status.iloc[0]),
            "target": g.target.iloc[0],
            "target_source": g.target_source.iloc[0],
            "sense": g.sense.iloc[0],
        }
        if len(ok):
            feas = ok[ok.feasible == 1]
            succ = ok.success.to_numpy(dtype=bool)
            times = ok.run_seconds.to_numpy(dtype=float)
            ttt = ok.ttt_seconds.to_numpy(dtype=float)
            p = float(succ.mean())
            p_lo, p_hi = metrics.success_ci(succ, seed=seed)
            t_est, t_lo, t_hi = metrics.tts_with_ci(ttt, succ, seed=seed)
            if len(ok) < MIN_RUNS_FOR_INTERVAL:
                p_lo = p_hi = t_lo = t_hi = math.nan
            n_known = int(ok.ttt_known.sum())
            n_succ = int(succ.sum())
            basis = (
                "no run reached the target"
                if n_succ == 0
                else "time to target"
                if n_known == n_succ
                else "whole run time"
                if n_known == 0
                else "mixed"
            )
            sense = row["sense"]
            objs = feas.objective.astype(float)
            best = (objs.min() if sense == "min" else objs.max()) if len(feas) else math.nan
            gaps = feas.gap.astype(float)
            money = ok.money.astype(float)
            kwh = ok.energy_joules.astype(float) / 3.6e6
            per_run_money = float(money.mean()) if money.notna().any() else math.nan
            per_run_kwh = float(kwh.mean()) if kwh.notna().any() else math.nan
            t_run = float(np.median(ttt))
            runs_needed = t_est / t_run if t_run > 0 else (1.0 if p > 0 else math.nan)
            quality = float(ok.quality.mean())
            proj = _projected(backend, ok)
            row.update(
                feasible_rate=float((ok.feasible == 1).mean()),
                success_p=p,
                success_lo=p_lo,
                success_hi=p_hi,
                best_objective=best,
                median_objective=float(objs.median()) if len(feas) else math.nan,
                best_gap=float(gaps.min()) if len(feas) else math.nan,
                median_gap=float(gaps.median()) if len(feas) else math.nan,
                tts99=t_est,
                tts99_lo=t_lo,
                tts99_hi=t_hi,
                tts_basis=basis,
                runs_to_target=runs_needed if p > 0 else math.inf,
                time_min=float(times.min()),
                time_median=float(np.median(times)),
                time_max=float(times.max()),
                energy_j=float(ok.energy_joules.astype(float).mean()),
                co2_g=float(ok.co2_grams.astype(float).mean()),
                money=per_run_money,
                currency=str(ok.currency.dropna().iloc[0]) if ok.currency.notna().any() else "",
                quality=quality,
                quality_per_money=quality / per_run_money if per_run_money > 0 else math.nan,
                quality_per_kwh=quality / per_run_kwh if per_run_kwh > 0 else math.nan,
                money_to_target=per_run_money * runs_needed if p > 0 else math.inf,
                energy_to_target_j=float(ok.energy_joules.astype(float).mean()) * runs_needed
                if p > 0
                else math.inf,
                overran=int(ok.overran.sum()),
                energy_source=_energy_source(ok),
                **proj,
            )
        out.append(row)
    return pd.DataFrame(out)


def _energy_source(ok: Any) -> str:
    """``measured`` (RAPL counters), ``estimated`` (a power model) or ``mixed``."""
    methods = ok.energy_method.fillna("").astype(str)
    # a remote machine's share is always a catalog figure: only a local RAPL reading with
    # nothing remote added counts as measured
    measured = methods.str.contains("RAPL") & ~methods.str.startswith("catalog")
    if measured.all():
        return "measured"
    return "estimated" if not measured.any() else "mixed"


def _projected(backend: str, ok: Any) -> dict[str, Any]:
    """Per-run means of a stand-in's projection onto the real machine (NaN otherwise)."""
    from kakehashi.bench.outlook import project_run

    out = {"real_machine": "", "proj_device_s": math.nan, "proj_money": math.nan,
           "proj_energy_j": math.nan}  # fmt: skip
    projections = [project_run(backend, info) for info in ok.result_info_json]
    projections = [p for p in projections if p is not None]
    if not projections:
        return out
    out["real_machine"] = projections[0].machine

    def mean(values: list[Any]) -> float:
        vals = [float(v) for v in values if v is not None]
        return float(np.mean(vals)) if len(vals) == len(projections) else math.nan

    out["proj_device_s"] = mean([p.device_seconds for p in projections])
    out["proj_money"] = mean([p.money for p in projections])
    out["proj_energy_j"] = mean([p.energy_j for p in projections])
    return out


def _per_backend(table: Any, runs: Any, runs_per_day: float = RUNS_PER_DAY) -> Any:
    pd = _pandas()
    out = []
    for (backend, tl), g in table.groupby(["backend", "time_limit"], sort=True):
        ok = g[g.status == "ok"]
        r = runs[(runs.backend == backend) & (runs.time_limit == tl) & (runs.status == "ok")]
        times = r.run_seconds.to_numpy(dtype=float)
        solved = ok[ok.success_p > 0] if len(ok) else ok
        energy = float(r.energy_joules.astype(float).mean()) if len(r) else math.nan
        co2 = float(r.co2_grams.astype(float).mean()) if len(r) else math.nan
        per_year = runs_per_day * 365.0
        out.append(
            {
                "backend": backend,
                "time_limit": tl,
                "modality": g.modality.iloc[0],
                "instances": len(g),
                "instances_run": len(ok),
                "instances_skipped": len(g) - len(ok),
                "instances_solved": len(solved),
                "mean_success_p": float(ok.success_p.mean()) if len(ok) else math.nan,
                "feasible_rate": float(ok.feasible_rate.mean()) if len(ok) else math.nan,
                "median_gap": float(ok.median_gap.median()) if len(ok) else math.nan,
                "mean_gap": float(ok.median_gap.mean()) if len(ok) else math.nan,
                "tts99_geomean": metrics.geometric_mean(ok.tts99.tolist()) if len(ok) else math.nan,
                "tts_basis": _basis(ok),
                "time_min": float(times.min()) if times.size else math.nan,
                "time_median": float(np.median(times)) if times.size else math.nan,
                "time_max": float(times.max()) if times.size else math.nan,
                "runs": len(r),
                "energy_j_per_run": energy,
                "co2_g_per_run": co2,
                "money_per_run": float(r.money.astype(float).mean())
                if r.money.notna().any()
                else math.nan,
                # expected money to reach the target once (99% confidence), averaged over the
                # instances it solved — what one solved instance costs
                "money_per_solved": float(solved.money_to_target.mean())
                if len(solved)
                else math.nan,
                "co2_g_per_solved": float((solved.co2_g * solved.runs_to_target).mean())
                if len(solved)
                else math.nan,
                "energy_j_total": float(r.energy_joules.astype(float).sum()),
                "co2_g_total": float(r.co2_grams.astype(float).sum()),
                "money_total": float(r.money.astype(float).sum())
                if r.money.notna().any()
                else math.nan,
                "kwh_per_year": energy / 3.6e6 * per_year,
                "co2_kg_per_year": co2 / 1000.0 * per_year,
                "energy_source": _sources(ok),
                # mean over the instances it ran; skipped instances are counted apart, never
                # as quality 0
                "quality": float(ok.quality.mean()) if len(ok) else math.nan,
                "overran": int(r.overran.sum()),
                **_projected_backend(ok, solved, per_year),
            }
        )
    df = pd.DataFrame(out)
    if len(df):
        money = df.money_per_run.replace(0, np.nan)
        kwh = (df.energy_j_per_run / 3.6e6).replace(0, np.nan)
        df["quality_per_money"] = df.quality / money
        df["quality_per_kwh"] = df.quality / kwh
        # Pareto fronts on exactly what the charts show: instances solved ↑ against money
        # per solved instance ↓, and against CO2 per solved instance ↓; a backend that solved
        # nothing, or whose money is unknown, is not on that front
        solved_n = -df.instances_solved.to_numpy(dtype=float)
        for col, name in (("money_per_solved", "pareto_money"), ("co2_g_per_solved", "pareto_co2")):
            pts = np.stack([solved_n, df[col].to_numpy(dtype=float)], axis=1)
            df[name] = metrics.pareto_front(pts)
        df["pareto"] = df.pareto_money & df.pareto_co2
    return df


def _basis(ok: Any) -> str:
    bases = set(ok.tts_basis) - {"no run reached the target"} if len(ok) else set()
    if not bases:
        return "no run reached the target"
    return bases.pop() if len(bases) == 1 else "mixed"


def _sources(ok: Any) -> str:
    s = set(ok.energy_source) if len(ok) else set()
    return s.pop() if len(s) == 1 else ("mixed" if s else "")


def _projected_backend(ok: Any, solved: Any, per_year: float) -> dict[str, Any]:
    """A stand-in's run projected onto the real machine: per run, per solved instance and
    per year (NaN for backends that are the machine itself)."""
    if not len(ok) or "real_machine" not in ok or not ok.real_machine.astype(bool).any():
        return {"real_machine": "", "proj_device_s": math.nan, "proj_money": math.nan,
                "proj_money_per_solved": math.nan, "proj_energy_j": math.nan,
                "proj_kwh_per_year": math.nan, "proj_tts99_geomean": math.nan}  # fmt: skip
    runs_to_target = solved.runs_to_target.astype(float) if len(solved) else None
    per_solved = (
        float((solved.proj_money * runs_to_target).mean())
        if runs_to_target is not None
        else math.nan
    )
    tts = (
        metrics.geometric_mean((solved.proj_device_s * runs_to_target).tolist())
        if runs_to_target is not None
        else math.nan
    )
    energy = float(ok.proj_energy_j.mean())
    return {
        "real_machine": str(ok.real_machine.iloc[0]),
        "proj_device_s": float(ok.proj_device_s.mean()),
        "proj_money": float(ok.proj_money.mean()),
        "proj_money_per_solved": per_solved,
        "proj_energy_j": energy,
        "proj_kwh_per_year": energy / 3.6e6 * per_year,
        "proj_tts99_geomean": tts,
    }


def _strongest_classical(table: Any) -> str | None:
    cls = table[table.modality.astype(str).str.startswith("classical") & (table.status == "ok")]
    if not len(cls):
        return None
    score = []
    for backend, g in cls.groupby("backend"):
        solved = int((g.success_p > 0).sum())
        score.append(
            (-solved, -float(g.success_p.mean()), metrics.geometric_mean(g.tts99.tolist()), backend)
        )
    score.sort(key=lambda s: (s[0], s[1], s[2] if not math.isnan(s[2]) else math.inf))
    return score[0][3]
