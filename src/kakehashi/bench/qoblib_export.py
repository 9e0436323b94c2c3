"""QOBLIB submissions from a runs store: one summary CSV row per (QOBLIB instance, backend)
and the best answer's solution file, in the layout of the Quantum Optimization Benchmarking
Library's ``submissions/`` folders (ZIB; its summary CSV columns, in its order).

``kakehashi report RUNS --qoblib DIR`` writes ``DIR/summary.csv`` (every row) and, per
instance and backend, ``DIR/<backend>/<instance>/<instance>_summary.csv`` and
``<instance>.sol`` (one value per line, in the instance file's variable order, after a
``#`` header naming the objective) — the files a submission carries.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.errors import KakehashiError

# the columns of QOBLIB's submission summary CSV, in its order
COLUMNS = (
    "Problem", "Submitter", "Date", "Reference", "Best Objective Value", "Optimality Bound",
    "Modeling Approach", "# Decision Variables", "# Binary Variables", "# Integer Variables",
    "# Continuous Variables", "# Non-Zero Coefficients", "Coefficients Type",
    "Coefficients Range", "Workflow", "Algorithm Type", "# Runs", "# Feasible Runs",
    "# Successful Runs", "Success Threshold", "Hardware Specifications", "Total Runtime",
    "CPU Runtime", "GPU Runtime", "QPU Runtime", "Other HW Runtime", "Remarks",
)  # fmt: skip
NA = "N/A"


def is_qoblib(instance: dict[str, Any]) -> bool:
    """A stored instance read from a QOBLIB file (its format or its ``qoblib`` tag)."""
    spec = _spec(instance)
    tags = str(instance.get("tags") or "").split(",")
    return str(spec.get("format", "")).startswith("qoblib") or "qoblib" in tags


def _spec(instance: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(json.loads(instance.get("spec_json") or "{}"))
    except (TypeError, ValueError):
        return {}


def _problem(name: str, instance: dict[str, Any]) -> Any:
    """Rebuild the instance from its stored spec (None when it cannot be rebuilt here)."""
    from kakehashi.bench.suite import InstanceSpec, InstanceUnavailable

    spec = _spec(instance)
    try:
        return InstanceSpec(name, str(instance.get("kind") or "file"), spec).build()
    except (InstanceUnavailable, KakehashiError, OSError):
        return None


def problem_statistics(problem: Any) -> dict[str, str]:
    """Variable counts by type, non-zero coefficients, their type and ranges (QOBLIB's
    "(min - max) for (linear, quadratic, constraint) coefficients").

    Example:
        >>> import kakehashi
        >>> s = problem_statistics(kakehashi.examples.knapsack(5, seed=1))
        >>> s["# Binary Variables"], s["Coefficients Type"]
        ('5', 'Integer')
    """
    from kakehashi.model.problem import BINARY, CONTINUOUS, INTEGER, SPIN

    vt = np.asarray(problem.vtype)
    lin = np.asarray(problem.linear, dtype=float)
    lin = lin[lin != 0]
    quad = problem.quadratic.tocoo().data
    quad = quad[quad != 0]
    cons = problem.A.tocoo().data
    cons = cons[cons != 0]
    every = np.concatenate([lin, quad, cons])
    integral = bool(every.size == 0 or np.all(np.abs(every - np.round(every)) < 1e-12))

    def rng(v: np.ndarray) -> str:
        return f"{np.abs(v).min():g} - {np.abs(v).max():g}" if v.size else f"{NA} - {NA}"

    return {
        "# Decision Variables": str(problem.num_variables),
        "# Binary Variables": str(int(np.isin(vt, (BINARY, SPIN)).sum())),
        "# Integer Variables": str(int((vt == INTEGER).sum())),
        "# Continuous Variables": str(int((vt == CONTINUOUS).sum())),
        "# Non-Zero Coefficients": str(int(lin.size + quad.size + cons.size)),
        "Coefficients Type": "Integer" if integral else "Real",
        "Coefficients Range": ", ".join((rng(lin), rng(quad), rng(cons))),
    }


def _published(value: float | None, problem_sense: str, spec: dict[str, Any]) -> str:
    """An objective in the sense QOBLIB publishes it (negated when the build flipped it)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NA
    published = spec.get("best_known_sense")
    v = -value if published and published != problem_sense else value
    return f"{v:g}"


def submission_rows(an: Any, *, submitter: str = "kakehashi user") -> list[dict[str, Any]]:
    """One QOBLIB summary row (plus the best solution) per QOBLIB instance and backend.

    Example:
        >>> # see tests/test_bench_verdict.py::test_qoblib_export
    """
    from kakehashi.bench.machine import machine_line

    rows: list[dict[str, Any]] = []
    hardware = "; ".join(machine_line(m) for m in an.machines) or NA
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    for name, inst in sorted(an.instances.items()):
        if not is_qoblib(inst):
            continue
        spec = _spec(inst)
        problem = _problem(name, inst)
        stats = problem_statistics(problem) if problem is not None else {}
        runs = an.runs[(an.runs.instance == name) & (an.runs.status == "ok")]
        for backend, g in runs.groupby("backend"):
            sense = str(inst.get("sense") or "min")
            feas = g[g.feasible == 1]
            best_run = None
            if len(feas):
                best_run = feas.loc[
                    feas.objective.idxmin() if sense == "min" else feas.objective.idxmax()
                ]
            bound = _bound(g, sense)
            modality = str(g.modality.iloc[0])
            cpu = g.cpu_seconds.astype(float).sum()
            total = g.run_seconds.astype(float).sum()
            qpu = "N/A (no QPU: stand-in run on this CPU)"
            row = {c: NA for c in COLUMNS}
            row.update(stats)
            row.update(
                {
                    "Problem": name,
                    "Submitter": submitter,
                    "Date": date,
                    "Reference": f"kakehashi benchmark, backend {backend} ({modality})",
                    "Best Objective Value": _published(
                        None if best_run is None else float(best_run.objective), sense, spec
                    ),
                    "Optimality Bound": _published(bound, sense, spec),
                    "Modeling Approach": _approach(backend, modality),
                    "Workflow": f"kakehashi.solve(problem, backend='{backend}', "
                    f"time_limit={float(g.time_limit.iloc[0]):g}) per run, seeds stored",
                    "Algorithm Type": "Deterministic"
                    if modality == "classical exact"
                    else "Stochastic",
                    "# Runs": str(len(g)),
                    "# Feasible Runs": str(int((g.feasible == 1).sum())),
                    "# Successful Runs": str(int(g.success.sum())),
                    "Success Threshold": f"{an.target_gap:g}" if an.target_gap else "1e-09",
                    "Hardware Specifications": hardware,
                    "Total Runtime": f"{total:.6g}",
                    "CPU Runtime": f"{cpu:.6g}",
                    "GPU Runtime": NA,
                    "QPU Runtime": qpu if modality.startswith("quantum") else NA,
                    "Other HW Runtime": NA,
                    "Remarks": "Runtimes in seconds summed over all runs, queue time excluded; "
                    "CPU Runtime is process CPU time; success = feasible and within the success "
                    "threshold (relative) of the best-known value; generated by kakehashi",
                }
            )
            solution = None
            if best_run is not None and isinstance(best_run.result_info_json, str):
                solution = json.loads(best_run.result_info_json).get("best_solution")
            rows.append({"row": row, "backend": backend, "solution": solution})
    return rows


def _bound(g: Any, sense: str) -> float | None:
    """The optimum where a run proved it (a MIP solver at status optimal, or exhaustive
    enumeration of every assignment), else ``None``: a solver's intermediate dual bound is
    left out (it lives in the linearised model)."""
    for objective, info in zip(g.objective, g.result_info_json, strict=True):
        if not isinstance(info, str) or objective is None or not math.isfinite(objective):
            continue
        data = json.loads(info)
        n = len(data.get("best_solution") or [])
        proven = data.get("status") == "optimal" or (
            n and data.get("assignments_enumerated") == 2**n
        )
        if proven:
            return float(objective)
    return None


def _approach(backend: str, modality: str) -> str:
    if modality == "classical exact":
        return "Binary/Integer Linear Program (products linearised) solved by a MIP/CP solver"
    return "QUBO (constraints as adaptive quadratic penalties)"


def write_qoblib(an: Any, out_dir: str | Path, *, submitter: str = "kakehashi user") -> list[Path]:
    """Write the QOBLIB summary CSVs and solution files for the QOBLIB instances in ``an``.

    Raises ``KakehashiError`` when the store holds no run on a QOBLIB instance.
    """
    rows = submission_rows(an, submitter=submitter)
    if not rows:
        raise KakehashiError(
            "the runs store holds no run on a QOBLIB instance (format qoblib-* or tag "
            "'qoblib'); run `kakehashi bench quick` or a suite with QOBLIB instances first"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    summary = out / "summary.csv"
    with summary.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(COLUMNS))
        w.writeheader()
        for r in rows:
            w.writerow(r["row"])
    written.append(summary)
    for r in rows:
        name = r["row"]["Problem"]
        folder = out / r["backend"] / name
        folder.mkdir(parents=True, exist_ok=True)
        one = folder / f"{name}_summary.csv"
        with one.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(COLUMNS))
            w.writeheader()
            w.writerow(r["row"])
        written.append(one)
        if r["solution"] is not None:
            sol = folder / f"{name}.sol"
            values = "\n".join(f"{v + 0.0:g}" for v in r["solution"])  # no "-0"
            sol.write_text(
                f"# Solution for {name} by kakehashi backend {r['backend']}\n"
                f"# Objective value = {r['row']['Best Objective Value']}\n{values}\n",
                encoding="utf-8",
            )
            written.append(sol)
    return written
