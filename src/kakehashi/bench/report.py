"""Reports: one self-contained HTML page (charts embedded as PNG), Markdown and CSV.

The page opens with the plain-language summary (naming the classical baseline), states the
machine and the spread of every timing, and shows: time-to-target curves, TTS99 per
instance with bootstrap intervals, quality versus time, the Pareto front of quality versus
money versus CO2, per-instance tables, warnings, the method and provenance.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.bench.analysis import MIN_RUNS_FOR_INTERVAL, Analysis
from kakehashi.bench.machine import machine_line
from kakehashi.bench.summary import fmt_money, fmt_seconds, summary_lines
from kakehashi.bench.verdict import GLOSSARY, indicator_rows, verdict_lines
from kakehashi.errors import KakehashiError

_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
           "#1f78b4", "#b2df8a"]  # fmt: skip


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise KakehashiError("reports need matplotlib: pip install 'kakehashi[bench]'") from None
    return plt


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _color_map(names: list[str]) -> dict[str, str]:
    return {n: _COLORS[k % len(_COLORS)] for k, n in enumerate(sorted(names))}


# ---------------------------------------------------------------------- charts
def chart_time_to_target(an: Analysis, colors: dict[str, str]) -> str:
    """Empirical time-to-target curves: fraction of runs (all instances) that reached the
    target within t seconds, per backend and budget."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    runs = an.runs[an.runs.status == "ok"]
    for (backend, tl), g in runs.groupby(["backend", "time_limit"]):
        t = g.ttt_seconds.to_numpy(dtype=float)
        hit = np.sort(t[g.success.to_numpy(dtype=bool)])
        label = backend if an.runs.time_limit.nunique() == 1 else f"{backend} ({tl:g} s)"
        if hit.size == 0:
            ax.plot([], [], color=colors[backend], label=f"{label}: never")
            continue
        y = np.arange(1, hit.size + 1) / len(g)
        ax.step(np.concatenate([[hit[0] * 0.9], hit]), np.concatenate([[0], y]), where="post",
                color=colors[backend], label=label, lw=2)  # fmt: skip
    ax.set_xscale("log")
    _log_ticks(ax.xaxis)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("time to target per run (log scale; see the note below for its source)")
    ax.set_ylabel("fraction of runs at the target")
    ax.set_title("Time to target (all instances)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _png(fig)


def _log_ticks(axis: Any) -> None:
    """Major ticks at decades only, labelled 1 ms / 1 s …, no minor labels: readable."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, numticks=12))
    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt_seconds(v) if v > 0 else ""))
    axis.set_minor_formatter(NullFormatter())


def chart_tts(an: Analysis, colors: dict[str, str]) -> str:
    """TTS99 per instance and backend with 95% bootstrap intervals; 'never' when p = 0."""
    plt = _plt()
    tl = sorted(an.table.time_limit.unique())[-1]
    t = an.table[(an.table.time_limit == tl) & (an.table.status == "ok")]
    insts = sorted(t.instance.unique())
    backends = sorted(t.backend.unique())
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(insts) * max(1, len(backends)) / 2 + 3), 4.5))
    width = 0.8 / max(1, len(backends))
    finite = t.tts99[np.isfinite(t.tts99)]
    top = float(finite.max() * 3) if len(finite) else 10.0
    for k, b in enumerate(backends):
        sub = t[t.backend == b].set_index("instance")
        xs, ys, lo, hi, never = [], [], [], [], []
        for i, inst in enumerate(insts):
            if inst not in sub.index:
                continue
            r = sub.loc[inst]
            x = i + (k - (len(backends) - 1) / 2) * width
            if math.isfinite(r.tts99):
                xs.append(x)
                ys.append(r.tts99)
                # no bar where there were too few runs for an interval (NaN)
                lo.append(r.tts99 - r.tts99_lo if math.isfinite(r.tts99_lo) else 0)
                hi.append(
                    0
                    if math.isnan(r.tts99_hi)
                    else (min(r.tts99_hi, top) - r.tts99)
                    if math.isfinite(r.tts99_hi)
                    else top - r.tts99
                )
            else:
                never.append(x)
        bars = any(lo) or any(hi)
        ax.bar(xs, ys, width=width, color=colors[b], yerr=[lo, hi] if bars else None,
               capsize=2 if bars else 0, error_kw={"lw": 0.8})  # fmt: skip
        if never:
            ax.scatter(never, [top] * len(never), marker="x", color=colors[b], s=30)
    ax.set_yscale("log")
    ax.set_xticks(range(len(insts)))
    ax.set_xticklabels(insts, rotation=35, ha="right", fontsize=8)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=colors[b], label=b) for b in backends], fontsize=8,
              loc="center left", bbox_to_anchor=(1.01, 0.5))  # fmt: skip
    _log_ticks(ax.yaxis)
    ax.set_ylabel("TTS99 (log scale)")
    few = bool(t.tts99_lo.isna().all())
    ax.set_title(
        f"Time to solution at 99% confidence, budget {fmt_seconds(tl)} (× = never reached"
        + ("; too few runs for an interval)" if few else "; bars: 95% bootstrap interval)")
    )
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def chart_quality_time(an: Analysis, colors: dict[str, str]) -> str:
    """Median gap to the target versus median run time, per instance and backend; gaps on a
    log scale (HiGHS can be 2000% away), answers at the target drawn on the bottom line."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    t = an.table[an.table.status == "ok"]
    gaps = t.median_gap.astype(float) * 100
    positive = gaps[gaps > 0]
    floor = float(min(positive.min() / 3, 0.01)) if len(positive) else 0.01
    top = float(positive.max() * 3) if len(positive) else 1.0
    for b, g in t.groupby("backend"):
        gap = g.median_gap.astype(float) * 100
        at = gap.fillna(np.inf) <= 0
        none = gap.isna()
        y = np.where(at, floor, np.where(none, top, gap))
        ax.scatter(g.time_median, y, color=colors[b], label=b, alpha=0.85, s=30)
        if none.any():
            ax.scatter(g.time_median[none], [top] * int(none.sum()), color=colors[b],
                       marker="x", s=40)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_ticks(ax.xaxis)
    ax.set_ylim(floor / 1.8, top * 1.8)
    from matplotlib.ticker import FixedLocator

    lo_k, hi_k = math.ceil(math.log10(floor * 1.5)), math.ceil(math.log10(top))
    decades = [10.0**k for k in range(lo_k, hi_k)]
    ax.yaxis.set_major_locator(FixedLocator([floor, *decades, top]))
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(
        FuncFormatter(
            lambda v, _: (
                "at target"
                if v <= floor * 1.01
                else "none feasible"
                if v >= top * 0.99
                else f"{v:g}%"
            )
        )
    )
    ax.set_xlabel("median run time (log scale)")
    ax.set_ylabel("median gap to target (%, log scale)")
    ax.set_title("Quality versus time (lower-left is better; × = no feasible answer)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _png(fig)


def chart_pareto(an: Analysis, colors: dict[str, str]) -> str:
    """Instances solved versus money and versus CO2 per solved instance; each panel rings
    the backends on its own Pareto front (no other is better on both of its axes)."""
    plt = _plt()
    pb = an.backends
    n = int(pb.instances.max()) if len(pb) else 1
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    cur = an.accounting.get("currency", "USD")
    for ax, col, front, label in (
        (axes[0], "money_per_solved", "pareto_money", f"money per solved instance ({cur}, log)"),
        (
            axes[1],
            "co2_g_per_solved",
            "pareto_co2",
            f"CO2 per solved instance (g, log; {_short_source(an)})",
        ),
    ):
        xs = []
        for k, (_, r) in enumerate(pb.iterrows()):
            x = r[col]
            if x is None or not np.isfinite(x) or x <= 0:
                continue
            xs.append(x)
            y = r.instances_solved
            ax.scatter([x], [y], color=colors[r.backend], s=70, zorder=3,
                       edgecolors="black" if r[front] else "none", linewidths=2)  # fmt: skip
            tag = r.backend if pb.time_limit.nunique() == 1 else f"{r.backend} {r.time_limit:g}s"
            # alternate label sides so neighbours at the same height stay readable
            ax.annotate(tag + (" ★" if r[front] else ""), (x, y), fontsize=8,
                        xytext=(5, 5) if k % 2 == 0 else (5, -11),
                        textcoords="offset points")  # fmt: skip
        ax.set_xscale("log")
        if xs:
            lo, hi = min(xs), max(xs)
            mid = (lo * hi) ** 0.5
            span = max(hi / lo, 10.0) ** 0.5 * 1.8
            ax.set_xlim(mid / span, mid * span)
        from matplotlib.ticker import LogLocator, NullFormatter

        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=6))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(-0.3, n + 0.6)
    axes[0].set_ylabel(f"instances solved (of {n})")
    fig.suptitle("Instances solved vs cost and CO2 (★ ringed = Pareto front of that panel; "
                 "machines that solved none are not shown)")  # fmt: skip
    return _png(fig)


# ---------------------------------------------------------------------- tables
def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "never" if v > 0 else "-inf"
        return f"{v:.4g}"
    return str(v)


TOO_FEW = "too few runs for an interval"


def _interval(lo: float, hi: float, fmt: Any) -> str:
    return f"({TOO_FEW})" if math.isnan(lo) or math.isnan(hi) else f"[{fmt(lo)}, {fmt(hi)}]"


def _pct0(x: float) -> str:
    return f"{x:.0%}"


def _instance_rows(an: Analysis, inst: str) -> tuple[list[str], list[list[str]]]:
    t = an.table[an.table.instance == inst]
    head = ["backend", "budget", "runs", "feasible", "success p", "best", "median",
            "median gap", "TTS99", "TTS99 from", "time min / med / max", "energy J",
            "CO2 g", "money"]  # fmt: skip
    rows = []
    for _, r in t.iterrows():
        if r.status != "ok":
            why = an.runs[(an.runs.instance == inst) & (an.runs.backend == r.backend)].error
            reason = str(why.dropna().iloc[0])[:120] if why.notna().any() else ""
            rows.append([r.backend, fmt_seconds(r.time_limit), str(r.runs),
                         f"{r.status}: {reason}" if reason else str(r.status)]
                        + [""] * 10)  # fmt: skip
            continue
        rows.append(
            [
                r.backend + (" (baseline)" if r.backend == an.baseline else ""),
                fmt_seconds(r.time_limit),
                str(r.ok_runs),
                f"{r.feasible_rate:.0%}",
                f"{r.success_p:.0%} {_interval(r.success_lo, r.success_hi, _pct0)}",
                _cell(r.best_objective),
                _cell(r.median_objective),
                "" if math.isnan(r.median_gap) else f"{r.median_gap:.3%}",
                f"{fmt_seconds(r.tts99)} {_interval(r.tts99_lo, r.tts99_hi, fmt_seconds)}",
                r.tts_basis,
                _spread(r) + (f" ({int(r.overran)} over budget)" if r.overran else ""),
                f"{_cell(r.energy_j)} ({r.energy_source})",
                f"{_cell(r.co2_g)} ({r.energy_source})",
                fmt_money(r.money, r.currency or "USD"),
            ]
        )
    return head, rows


def _backend_rows(an: Analysis) -> tuple[list[str], list[list[str]]]:
    head = ["backend", "modality", "budget", "instances solved", "skipped", "mean success p",
            "median gap", "TTS99 geo-mean", "TTS99 from", "run time min / med / max",
            "energy J/run", "CO2 g/run", "money/run", "money per solved", "mean quality (run)",
            "Pareto: money", "Pareto: CO2"]  # fmt: skip
    rows = []
    cur = an.accounting.get("currency", "USD")
    for _, r in an.backends.iterrows():
        rows.append(
            [
                r.backend + (" (baseline)" if r.backend == an.baseline else ""),
                r.modality,
                fmt_seconds(r.time_limit),
                f"{int(r.instances_solved)} / {int(r.instances)}",
                str(int(r.instances_skipped)),
                "" if math.isnan(r.mean_success_p) else f"{r.mean_success_p:.0%}",
                "" if math.isnan(r.median_gap) else f"{r.median_gap:.3%}",
                fmt_seconds(r.tts99_geomean),
                r.tts_basis,
                _spread(r),
                f"{_cell(r.energy_j_per_run)} ({r.energy_source})",
                f"{_cell(r.co2_g_per_run)} ({r.energy_source})",
                fmt_money(r.money_per_run, cur),
                fmt_money(r.money_per_solved, cur),
                "" if math.isnan(r.quality) else f"{r.quality:.3f} on {int(r.instances_run)}",
                "★" if r.pareto_money else "",
                "★" if r.pareto_co2 else "",
            ]
        )
    return head, rows


def _spread(r: Any) -> str:
    """min / median / max of a timing, as every report must show it."""
    return f"{fmt_seconds(r.time_min)} / {fmt_seconds(r.time_median)} / {fmt_seconds(r.time_max)}"


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    def esc(c: str) -> str:
        return c.replace("|", "\\|")

    lines = ["| " + " | ".join(map(esc, head)) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _md_inline_to_html(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))


# ---------------------------------------------------------------------- method text
def method_lines(an: Analysis) -> list[str]:
    acc = an.accounting
    return [
        "Success: the run's best answer is feasible and reaches the target "
        + (f"within {an.target_gap:.2%}" if an.target_gap else "(up to 1e-9 relative)")
        + ". Success probability p is the fraction of successful runs; its interval is a 95% "
        f"percentile bootstrap over the runs (2000 resamples, seeded), printed from "
        f"{MIN_RUNS_FOR_INTERVAL} runs up ('{TOO_FEW}' below that).",
        "TTS99 = t · ln(0.01) / ln(1 − p), t the median over runs of the time to target: for a "
        "successful run, when it first held its final answer (the engine's or MIP solver's own "
        "clock, plus compilation), for any other run — and where a backend does not report "
        "it — the run's whole time (wall clock from call to answer, queue time excluded); "
        "'never' when p = 0; t when p ≥ 0.99. The 'TTS99 from' column says which was used.",
        "Gap = (objective − target) / |target| in the direction of the objective (positive = "
        "worse); quality = 1 − gap, 0 for an infeasible answer, averaged over the instances a "
        "backend ran (skipped instances are counted apart, never as 0). Cost per solved "
        "instance = money per run × runs TTS99 implies, averaged over the instances solved.",
        f"Energy and CO2 per year: per-run means × {an.runs_per_day:,.0f} runs a day × 365.",
        "Energy: " + _energy_method(an) + f"; CO2 at {acc.get('grid', 'the configured grid')}.",
        "Money: " + _money_method(an) + ".",
        "Every backend got the same time budget per run; runs ran one at a time after an "
        "unrecorded warm-up per backend (just-in-time compilation is not billed to the first "
        "instance). Runs that overshot their budget by more than max(0.5 s, 25%) are counted "
        "in the tables and named in the warnings.",
    ]


def _energy_method(an: Analysis) -> str:
    methods = an.runs.energy_method.dropna().unique().tolist()
    return (
        "; ".join(sorted({m.split(" (")[0] if m.startswith("catalog") else m for m in methods}))
        or "n/a"
    )


def _money_method(an: Analysis) -> str:
    methods = an.runs.money_method.dropna().unique().tolist()
    short = sorted({m.split(" on ")[0] for m in methods if m})
    return "; ".join(short) or "no price known"


def stand_in_lines(an: Analysis) -> list[str]:
    """What each stand-in in the comparison is, and what its quality, timing and price (and
    the projection onto the real machine) are based on."""
    from kakehashi.bench.outlook import project_run, stand_in

    lines = []
    for backend in sorted(an.backends.backend.unique()):
        s = stand_in(backend)
        if s is None:
            continue
        text = (
            f"{backend} — {s.label()}. Quality: {s.quality_basis}. Timing: {s.timing_basis}. "
            f"Price: {s.price_basis}."
        )
        ok = an.runs[(an.runs.backend == backend) & (an.runs.status == "ok")]
        proj = project_run(backend, ok.result_info_json.iloc[0]) if len(ok) else None
        if proj is not None:
            text += f" Projection (first run): {proj.basis}."
        lines.append(text)
    return lines


def _stand_in_html(an: Analysis) -> str:
    lines = stand_in_lines(an)
    if not lines:
        return ""
    return (
        "<details id='stand-ins' open><summary><strong>Stand-ins: what runs here in place of a "
        "quantum machine, and what each figure is based on</strong></summary><ul>"
        + "".join(f"<li><small>{html.escape(x)}</small></li>" for x in lines)
        + "</ul></details>"
    )


def _short_source(an: Analysis) -> str:
    src = set(an.backends.energy_source) - {""}
    return src.pop() if len(src) == 1 else "measured or estimated, see tables"


def _whole_time_note(an: Analysis) -> str:
    """Beside each time figure: where the time to target was unknown and whole runs used."""
    ok = an.runs[(an.runs.status == "ok") & an.runs.success]
    unknown = ok[~ok.ttt_known.astype(bool)]
    if not len(ok):
        return ""
    if not len(unknown):
        return "Every time is the time to target (when the run first held its answer)."
    names = ", ".join(sorted(unknown.backend.unique()))
    return (
        f"For {len(unknown)} of {len(ok)} successful runs ({names}) the time to target is "
        "unknown — the backend does not report when it found its answer, or returns all its "
        "answers at the end — and the run's whole time is used instead."
    )


def _energy_sources(an: Analysis) -> str:
    src = set(an.backends.energy_source) - {""}
    if src == {"measured"}:
        return "measured (RAPL energy counters, idle power subtracted)"
    if src == {"estimated"}:
        return "estimated from a power model (no readable energy counter on this machine)"
    return "measured where a RAPL counter was readable, else estimated (see each figure)"


def _indicator_note(an: Analysis) -> str:
    return (
        f"* TTS99 from the whole run time for some runs (time to target unknown). Money and "
        f"CO2 per solved instance = one run's × the runs TTS99 implies. Yearly figures at "
        f"{an.runs_per_day:,.0f} runs a day. Energy and CO2: {_energy_sources(an)}, grid "
        f"{an.accounting.get('grid', '')}. Projections onto real machines use catalog list "
        "prices and power figures, not measurements."
    )


def _provenance(an: Analysis) -> dict[str, Any]:
    runs = an.runs
    vers = (
        json.loads(runs.versions_json.dropna().iloc[-1]) if runs.versions_json.notna().any() else {}
    )
    return {
        "first run": str(runs.started_at.min()),
        "last run": str(runs.finished_at.max()),
        "runs stored": len(runs),
        "seeds": f"{runs.seed.nunique()} distinct, stored per run",
        "versions": ", ".join(f"{k} {v}" for k, v in sorted(vers.items())),
    }


# ---------------------------------------------------------------------- writers
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;
margin:1em auto;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0 1.2em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.summary{background:#f7faf7;border-left:4px solid #1b9e77;padding:.6em 1em}
.verdict{background:#eef5fb;border-left:5px solid #1f78b4;padding:.3em 1em;font-size:1.02em}
.verdict p{margin:.45em 0}.indicators td,.indicators th{text-align:left}
h1{margin:.2em 0 .3em}
.warn{background:#fff8e6;border-left:4px solid #e6ab02;padding:.4em 1em}
img.chart{max-width:100%;border:1px solid #eee;margin:.5em 0}
small{color:#666}
"""

_CHECK_SCRIPT = """
<script>
// lets a headless browser (and a curious reader) confirm every chart decoded and rendered
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll('img.chart'));
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-charts-total', imgs.length);
  document.body.setAttribute('data-charts-rendered', ok);
});
</script>
"""


def write_report(an: Analysis, out: str | Path, *, title: str | None = None) -> dict[str, Path]:
    """Write ``out`` (.html) with ``.md``, ``.csv`` (per instance) and ``-runs.csv`` beside it.

    Example:
        >>> # see kakehashi.bench.compare.Comparison.report for a runnable example
    """
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        out = out.with_suffix(".html")
    out.parent.mkdir(parents=True, exist_ok=True)
    title = title or "kakehashi comparison"
    colors = _color_map(list(an.runs.backend.unique()))
    unknown_ttt = _whole_time_note(an)
    charts = [
        ("Time to target", "tts-curves", chart_time_to_target(an, colors),
         "Share of runs that reached the target within a given time (curves that rise earlier "
         "and higher are better). " + unknown_ttt),
        ("TTS99 per instance", "tts99", chart_tts(an, colors),
         "Expected time to reach the target with 99% confidence by repeating runs. "
         + unknown_ttt),
        ("Quality versus time", "quality-time", chart_quality_time(an, colors),
         "Each point is one instance on one backend; every point is drawn (answers at the "
         "target on the bottom line, runs with no feasible answer as × at the top)."),
        ("Instances solved, money and CO2", "pareto", chart_pareto(an, colors),
         "Energy and CO2 are " + _energy_sources(an) + ". Skipped instances count as not "
         "solved, never as quality 0. Ringed: the panel's Pareto front."),
    ]  # fmt: skip
    summary = summary_lines(an)
    verdict = verdict_lines(an)
    ihead, irows = indicator_rows(an)
    machine = "; ".join(machine_line(m) for m in an.machines)
    bhead, brows = _backend_rows(an)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<div class='verdict' id='verdict'>"
        + "".join(f"<p>{_md_inline_to_html(s)}</p>" for s in verdict)
        + "</div>",
        "<div class='indicators'>" + _html_table(ihead, irows) + "</div>",
        f"<p><small>{html.escape(_indicator_note(an))}</small></p>",
        _stand_in_html(an),
        "<h2>How each machine did</h2><div class='summary'>"
        + "".join(f"<p>{_md_inline_to_html(s)}</p>" for s in summary)
        + "</div>",
        f"<p><strong>Machine:</strong> {html.escape(machine)}</p>",
    ]
    if an.warnings or an.notes:
        parts.append("<div class='warn'><h3>Warnings and notes</h3><ul>")
        parts += [f"<li>{html.escape(w)}</li>" for w in [*an.warnings, *an.notes]]
        parts.append("</ul></div>")
    parts += ["<h2>Backends</h2>", _html_table(bhead, brows)]
    parts.append("<h2>Charts</h2>")
    for name, key, png, caption in charts:
        parts.append(
            f"<h3>{html.escape(name)}</h3><img class='chart' id='chart-{key}' "
            f"alt='{html.escape(name)}' "
            f"src='data:image/png;base64,{png}'><p><small>{html.escape(caption)}</small></p>"
        )
    parts.append("<h2>Per instance</h2>")
    for inst in sorted(an.table.instance.unique()):
        info = an.instances.get(inst, {})
        first = an.table[an.table.instance == inst].iloc[0]
        tgt = (
            "none"
            if first.target is None
            or (isinstance(first.target, float) and math.isnan(first.target))
            else f"{first.target:g}"
        )
        parts.append(
            f"<h3>{html.escape(inst)}</h3><p><small>{info.get('num_variables', '?')} variables, "
            f"{info.get('num_constraints', '?')} constraints, {first.sense}imise; target {tgt} "
            f"({html.escape(str(first.target_source))})</small></p>"
        )
        parts.append(_html_table(*_instance_rows(an, inst)))
    parts.append(
        "<h2>Method</h2><ul>"
        + "".join(f"<li>{html.escape(m)}</li>" for m in method_lines(an))
        + "</ul>"
    )
    parts.append(
        "<h2>Glossary</h2><dl>"
        + "".join(
            f"<dt><strong>{html.escape(k)}</strong></dt><dd>{html.escape(v)}</dd>"
            for k, v in GLOSSARY
        )
        + "</dl>"
    )
    parts.append("<h2>Provenance</h2><ul>")
    parts += [
        f"<li><strong>{html.escape(k)}:</strong> {html.escape(str(v))}</li>"
        for k, v in _provenance(an).items()
    ]
    parts.append("</ul><p><small>Generated by kakehashi. Every figure is recomputable from "
                 "the runs "
                 "store with <code>kakehashi report</code>.</small></p>")  # fmt: skip
    parts.append(_CHECK_SCRIPT + "</body></html>")
    out.write_text("".join(parts), encoding="utf-8")

    md = [f"# {title}", "", *[s + "\n" for s in verdict], _md_table(ihead, irows), "",
          _indicator_note(an), "", *[f"- {x}" for x in stand_in_lines(an)], "",
          "## How each machine did", "", *[s + "\n" for s in summary],
          f"**Machine:** {machine}", ""]  # fmt: skip
    if an.warnings or an.notes:
        md += ["## Warnings and notes", "", *[f"- {w}" for w in [*an.warnings, *an.notes]], ""]
    md += ["## Backends", "", _md_table(bhead, brows), "", "## Per instance", ""]
    for inst in sorted(an.table.instance.unique()):
        md += [f"### {inst}", "", _md_table(*_instance_rows(an, inst)), ""]
    md += ["## Method", "", *[f"- {m}" for m in method_lines(an)]]
    md += ["", "## Glossary", "", *[f"- **{k}:** {v}" for k, v in GLOSSARY]]
    md += ["", "## Provenance", ""]
    md += [f"- **{k}:** {v}" for k, v in _provenance(an).items()]
    md_path = out.with_suffix(".md")
    md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
    csv_path = out.with_suffix(".csv")
    an.table.to_csv(csv_path, index=False)
    runs_path = out.with_name(out.stem + "-runs.csv")
    an.runs.drop(columns=[c for c in an.runs.columns if c.endswith("_json")]).to_csv(
        runs_path, index=False
    )
    return {"html": out, "markdown": md_path, "csv": csv_path, "runs_csv": runs_path}
