"""The plain-language summary at the top of every report: what ran, on what machine, under
what budget, how each backend did against the classical baseline — named every time."""

from __future__ import annotations

import math
from typing import Any

from kakehashi.bench import metrics
from kakehashi.bench.machine import machine_line


def fmt_seconds(s: float) -> str:
    if s is None or (isinstance(s, float) and math.isnan(s)):
        return "n/a"
    if math.isinf(s):
        return "never"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.0f} ms"
    if s < 120:
        return f"{s:.2f} s"
    return f"{s / 60:.1f} min"


def fmt_ratio(r: float) -> str:
    """``3.2×``, or ``1/1000`` for small ratios, so managers read it at a glance."""
    if r is None or math.isnan(r) or math.isinf(r):
        return "n/a"
    if r >= 1:
        return f"{r:.3g}×"
    return f"1/{1 / r:.3g}" if r > 0 else "0×"


def fmt_money(x: float, currency: str = "USD") -> str:
    if x is None or math.isnan(x):
        return "unknown"
    if x == 0:
        return f"0 {currency}"
    return f"{x:.3g} {currency}"


def _ratio(a: float, b: float) -> float:
    if a is None or b is None or math.isnan(a) or math.isnan(b) or b == 0:
        return math.nan
    return a / b


def summary_lines(an: Any) -> list[str]:
    """Markdown paragraphs (``**bold**`` allowed) summarising the comparison."""
    table, per_backend, runs = an.table, an.backends, an.runs
    lines: list[str] = []
    n_inst = table.instance.nunique()
    backends = list(per_backend.backend.unique())
    tls = sorted(runs.time_limit.unique())
    machine = "; ".join(machine_line(m) for m in an.machines) or "unknown machine"
    repeats = int(runs.groupby(["instance", "backend", "time_limit"]).size().max())
    lines.append(
        f"On these **{n_inst} instances**, {len(backends)} backends ({', '.join(backends)}) "
        "each ran "
        f"up to {repeats} times per instance with **the same time budget of "
        f"{', '.join(fmt_seconds(t) for t in tls)} per run**, one run at a time, on {machine}."
    )
    published = table.drop_duplicates("instance")
    n_pub = int((published.target_source != "best found in this comparison").sum())
    target_note = (
        f"{n_pub} of {n_inst} instances have a known optimum or published best-known value"
    )
    if n_pub < n_inst:
        target_note += "; for the others the target is the best answer found by any backend here"
    if an.target_gap:
        target_note += f"; a run counts as a success within {an.target_gap:.2%} of the target"
    lines.append(f"Targets: {target_note}.")
    base = an.baseline
    if base is None:
        lines.append(
            "**No classical backend produced results, so there is no classical baseline**: "
            "nothing here shows an advantage over classical tools."
        )
        return lines
    for tl in tls:
        pb = per_backend[per_backend.time_limit == tl].set_index("backend")
        tb = table[table.time_limit == tl]
        if base not in pb.index:
            continue
        b = pb.loc[base]
        prefix = f"At {fmt_seconds(tl)} per run, the" if len(tls) > 1 else "The"
        lines.append(
            f"{prefix} **classical baseline is {base}** ({b.modality}): it reached the target on "
            f"**{int(b.instances_solved)} of {int(b.instances)}** instances"
            + (
                f" (it ran on {int(b.instances_run)})"
                if int(b.instances_run) < int(b.instances)
                else ""
            )
            + f" (mean success "
            f"probability {b.mean_success_p:.0%}), run time median {fmt_seconds(b.time_median)} "
            f"(min {fmt_seconds(b.time_min)}, max {fmt_seconds(b.time_max)}), "
            f"{fmt_money(b.money_per_run)} and {b.co2_g_per_run:.3g} g CO2 per run "
            f"({b.get('energy_source') or 'estimated'})."
        )
        beats = []
        for other in pb.index:
            if other == base:
                continue
            o = pb.loc[other]
            lines.append(_versus(other, o, base, b, tb))
            if _beats(other, base, tb):
                beats.append(other)
        non_classical = [x for x in pb.index if not str(pb.loc[x].modality).startswith("classical")]
        if non_classical:
            winners = [x for x in beats if x in non_classical]
            if winners:
                lines.append(
                    f"**Verdict: {', '.join(winners)} beat the classical baseline {base}** on "
                    "time-to-target on most instances both solved — check the per-instance tables "
                    "and the money and CO2 columns before concluding."
                )
            else:
                lines.append(
                    f"**Verdict: no quantum or quantum-inspired backend beat the classical "
                    f"baseline {base}** on these instances under this budget."
                )
    return lines


def _common(tb: Any, a: str, b: str) -> Any:
    x = tb[(tb.backend == a) & (tb.status == "ok")].set_index("instance")
    y = tb[(tb.backend == b) & (tb.status == "ok")].set_index("instance")
    both = x.join(y, lsuffix="_a", rsuffix="_b", how="inner")
    return both


def _beats(a: str, base: str, tb: Any) -> bool:
    both = _common(tb, a, base)
    if not len(both):
        return False
    wins = sum(
        (ta < tbb) or (math.isfinite(ta) and not math.isfinite(tbb))
        for ta, tbb in zip(both.tts99_a, both.tts99_b, strict=True)
    )
    return wins > len(both) / 2


def _versus(name: str, o: Any, base: str, b: Any, tb: Any) -> str:
    head = (
        f"**{name}** ({o.modality}) reached the target on {int(o.instances_solved)} of "
        f"{int(o.instances)} instances"
    )
    if int(o.instances_run) < int(o.instances):
        head += f" (it ran on {int(o.instances_run)})"
    both = _common(tb, name, base)
    solved = both[(both.success_p_a > 0) & (both.success_p_b > 0)]
    parts = [head]
    if len(solved):
        r = metrics.geometric_mean((solved.tts99_a / solved.tts99_b).tolist())
        speed = (
            f"on the {_n(len(solved))} both solved it was {fmt_ratio(1 / r)} faster "
            f"to the target than {base}"
            if r < 1
            else f"on the {_n(len(solved))} both solved it was {fmt_ratio(r)} slower to "
            f"the target than {base}"
        )
        parts.append(speed + " (geometric mean of TTS99 ratios)")
    elif int(o.instances_solved) == 0 and int(b.instances_solved) > 0:
        parts.append(f"it never reached a target that {base} reached")
    # money and CO2 per run compared on the instances both ran, never across different sets
    cost = _ratio(both.money_a.mean(), both.money_b.mean()) if len(both) else math.nan
    co2 = _ratio(both.co2_g_a.mean(), both.co2_g_b.mean()) if len(both) else math.nan
    if not math.isnan(cost):
        parts.append(f"at {_share(cost)} the cost per run")
    if not math.isnan(co2):
        parts.append(f"and {_share(co2)} the CO2 ({o.get('energy_source') or 'estimated'})")
    feas = (
        ""
        if math.isnan(o.feasible_rate) or o.feasible_rate >= 1
        else f", feasible in {o.feasible_rate:.0%} of runs"
    )
    return ", ".join(parts) + f"; median gap {_pct(o.median_gap)}{feas}."


def _n(k: int) -> str:
    return "instance" if k == 1 else f"{k} instances"


def _share(r: float) -> str:
    """``3.2×`` or ``1/1000 of`` — how a ratio reads before "the cost"."""
    return f"{r:.2g}×" if r >= 0.5 else f"{fmt_ratio(r)} of"


def _pct(g: float) -> str:
    return "n/a (no feasible answer)" if g is None or math.isnan(g) else f"{g:.2%}"
