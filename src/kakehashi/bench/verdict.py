"""The verdict a manager reads first: which machine to use for this workload and budget and
why; the best quantum machine against the classical baseline on quality, time, money and
CO2; the break-even (how much better, faster or cheaper it would have to become); and the
outlook from the catalog's technology readiness and the vendor's published roadmap.

Every figure comes from :class:`~kakehashi.bench.analysis.Analysis`; stand-ins (a mock or a
simulator of a quantum machine) are labelled, and their projection onto the real machine
uses that machine's catalog timing, price and power models only.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from kakehashi.bench import metrics
from kakehashi.bench.outlook import outlook_for, stand_in
from kakehashi.bench.summary import fmt_seconds


def is_classical(modality: Any) -> bool:
    return str(modality).startswith("classical")


def _ok(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def rank_key(row: Any) -> tuple[float, float, float]:
    """Most instances solved, then fastest to the target, then cheapest per solved instance."""
    tts = row.tts99_geomean if _ok(row.tts99_geomean) else math.inf
    money = row.money_per_solved if _ok(row.money_per_solved) else math.inf
    return (-float(row.instances_solved), tts, money)


@dataclasses.dataclass
class Versus:
    """A machine against the baseline on the instances both solved."""

    name: str
    base: str
    common: int  # instances both solved
    solved: int
    base_solved: int
    instances: int
    time_ratio: float  # TTS99 geo-mean ratio (machine / baseline) on common instances
    money_ratio: float  # money per solved instance ratio
    co2_ratio: float
    proj_time_ratio: float = math.nan  # same, with the real machine's projected device time
    proj_money_ratio: float = math.nan
    proj_co2_ratio: float = math.nan
    break_even_price: float = math.nan  # price per device-second that matches the baseline
    real: str = ""


def versus(an: Any, name: str, base: str, tl: float) -> Versus:
    """``name`` against ``base`` at budget ``tl``: ratios over the instances both solved.

    Example:
        >>> # see kakehashi.bench.verdict.verdict_lines
    """
    t = an.table[(an.table.time_limit == tl) & (an.table.status == "ok")]
    a = t[t.backend == name].set_index("instance")
    b = t[t.backend == base].set_index("instance")
    both = a.join(b, lsuffix="_q", rsuffix="_b", how="inner")
    both = both[(both.success_p_q > 0) & (both.success_p_b > 0)]
    pb = an.backends[an.backends.time_limit == tl].set_index("backend")
    v = Versus(
        name,
        base,
        len(both),
        int(pb.loc[name].instances_solved),
        int(pb.loc[base].instances_solved),
        int(pb.loc[name].instances),
        math.nan,
        math.nan,
        math.nan,
        real=str(pb.loc[name].get("real_machine", "") or ""),
    )
    if not len(both):
        return v
    v.time_ratio = metrics.geometric_mean((both.tts99_q / both.tts99_b).tolist())
    base_money = both.money_to_target_b
    v.money_ratio = _mean_ratio(both.money_to_target_q, base_money)
    v.co2_ratio = _mean_ratio(
        both.co2_g_q * both.runs_to_target_q, both.co2_g_b * both.runs_to_target_b
    )
    if v.real:
        proj_tts = both.proj_device_s_q * both.runs_to_target_q
        v.proj_time_ratio = metrics.geometric_mean((proj_tts / both.tts99_b).tolist())
        v.proj_money_ratio = _mean_ratio(both.proj_money_q * both.runs_to_target_q, base_money)
        co2_per_j = an.accounting.get("grid_g_per_kwh", 421.0) / 3.6e6
        v.proj_co2_ratio = _mean_ratio(
            both.proj_energy_j_q * co2_per_j * both.runs_to_target_q,
            both.co2_g_b * both.runs_to_target_b,
        )
        device = float(proj_tts.mean())
        if device > 0:
            v.break_even_price = float(base_money.mean()) / device
    return v


def _mean_ratio(a: Any, b: Any) -> float:
    x, y = float(a.astype(float).mean()), float(b.astype(float).mean())
    return x / y if _ok(x) and _ok(y) and y > 0 else math.nan


def _num(x: float) -> str:
    """2 significant digits without scientific notation (``0.00012``, ``120``, ``4.1``)."""
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.2g}" if x < 10 else f"{x:.0f}"
    digits = max(2, 1 - math.floor(math.log10(x))) if x > 0 else 2
    return f"{x:.{digits}f}".rstrip("0").rstrip(".")


def _times(r: float) -> str:
    return f"{_num(r)}×" if _ok(r) else "n/a"


# ratios within 10% of 1 are read as a tie: run-to-run noise on a shared machine is larger
TIE = 1.1


def _tie(r: float) -> bool:
    return 1 / TIE <= r <= TIE


def _faster(r: float) -> str:
    """``4.1× slower`` or ``3× faster`` for a time ratio machine/baseline."""
    if not _ok(r):
        return "n/a"
    if _tie(r):
        return "as fast (within 10%)"
    return f"{_times(r)} slower" if r >= 1 else f"{_times(1 / r)} faster"


def _cheaper(r: float, what: str = "cost") -> str:
    if not _ok(r):
        return f"{what} n/a"
    if _tie(r):
        return f"the same {what} (within 10%)"
    return f"{_times(r)} the {what}" if r >= 1 else f"1/{_num(1 / r)} of the {what}"


def verdict_lines(an: Any) -> list[str]:
    """The verdict paragraphs (Markdown ``**bold**``), for the largest budget compared."""
    tl = sorted(an.backends.time_limit.unique())[-1]
    pb = an.backends[an.backends.time_limit == tl]
    n = int(pb.instances.max()) if len(pb) else 0
    lines: list[str] = []
    if not len(pb):
        return ["No runs to judge."]
    rows = sorted(pb.itertuples(), key=rank_key)
    # a mock or a simulator is not a machine to use: its answers are this CPU's stand-in
    usable = [r for r in rows if _usable(r.backend)] or rows
    best = usable[0]
    base = an.baseline if an.baseline in set(pb.backend) else None
    why = (
        f"it reached the target on the most instances ({int(best.instances_solved)} of {n})"
        if all(int(r.instances_solved) < int(best.instances_solved) for r in usable[1:])
        else f"it reached the target on {int(best.instances_solved)} of {n} instances, as "
        "many as any machine, and was the fastest of those to get there"
    )
    lines.append(
        f"**Use {best.backend}** ({best.modality}) for this workload at "
        f"{fmt_seconds(tl)} per run: {why}; it needs about {fmt_seconds(best.tts99_geomean)} "
        "per instance to be 99% sure of reaching the target (TTS99, typical over the instances "
        f"it solved), at {per_solved(best.money_per_solved)}."
        + ("" if base is None or base == best.backend else f" The classical baseline is {base}.")
        + (" It is the classical baseline." if base == best.backend else "")
        + (
            f" ({rows[0].backend} ranked higher, but it is a stand-in run on this CPU: its "
            "answers are not the real machine's.)"
            if rows[0].backend != best.backend
            else ""
        )
    )
    quantum = [r for r in rows if not is_classical(r.modality)]
    if not quantum:
        lines.append(
            "No quantum or quantum-inspired machine was in this comparison: add one with "
            "`-b dwave-mock,sb,qaoa-aer` to see how far it is from paying off."
        )
        return lines
    if base is None:
        lines.append("No classical baseline produced results: no quantum machine can be judged.")
        return lines
    q = quantum[0]
    v = versus(an, q.backend, base, tl)
    s = stand_in(q.backend)
    head = (
        f"**Best quantum machine: {q.backend}** ({q.modality}"
        + (f"; {s.short}" if s else "")
        + f"): target reached on {v.solved} of {n} instances, against {v.base_solved} for "
        f"{base}"
    )
    if v.common:
        head += (
            f"; on the {_n(v.common)} both solved it was {_faster(v.time_ratio)} to the target, "
            f"at {_cheaper(v.money_ratio)} and {_cheaper(v.co2_ratio, 'CO2')} per solved instance"
        )
    elif v.solved == 0:
        head += "; it never reached a target"
    lines.append(head + ".")
    costs = [_real_cost(an, r) for r in quantum if _ok(r.proj_device_s) and r.real_machine]
    if costs:
        lines.append(
            "**What the real quantum machines would cost** for these runs (catalog list prices "
            "and power, projected — not measured): " + "; ".join(costs) + "."
        )
    clauses = [_break_even_clause(r, versus(an, r.backend, base, tl)) for r in quantum]
    lines.append(f"**Break-even — to match {base} on this workload:** " + "; ".join(clauses) + ".")
    outlooks: list[str] = []
    seen: set[str] = set()
    for r in quantum:
        out = outlook_for(r.backend)
        if out is not None and out.vendor not in seen:
            seen.add(out.vendor)
            outlooks.append(out.brief())
    if outlooks:
        lines.append(
            "**Outlook** (vendors' published roadmaps — projections, not measurements): "
            + "; ".join(outlooks)
            + "."
        )
    return lines


def _real_cost(an: Any, r: Any) -> str:
    money = f"{money_plain(r.proj_money)} per run" if _ok(r.proj_money) else "no published price"
    co2 = f", {_grams(_co2(an, r.proj_energy_j))} CO2" if _ok(r.proj_energy_j) else ""
    return (
        f"{r.real_machine} (for {r.backend}'s runs) {fmt_seconds(r.proj_device_s)} of machine "
        f"time per run, {money}{co2}"
    )


def _usable(backend: str) -> bool:
    """Whether a backend's runs are the machine itself (a quantum-inspired algorithm is; a
    mock or a simulator of a QPU is not)."""
    s = stand_in(backend)
    return s is None or s.kind == "quantum-inspired"


def _n(k: int) -> str:
    return "instance" if k == 1 else f"{k} instances"


def _break_even_clause(q: Any, v: Versus) -> str:
    """What ``q`` (as its real machine, when it is a stand-in) would need to match the baseline."""
    who = f"{v.real} (projected from {q.backend})" if v.real else q.backend
    if v.solved == 0:
        return f"{who} must first reach a target at all (it reached none of the {v.instances})"
    needs: list[str] = []
    if v.solved < v.base_solved:
        needs.append(f"solve {v.base_solved - v.solved} more instance(s)")
    t = v.proj_time_ratio if _ok(v.proj_time_ratio) else v.time_ratio
    m = v.proj_money_ratio if _ok(v.proj_money_ratio) else v.money_ratio
    c = v.proj_co2_ratio if _ok(v.proj_co2_ratio) else v.co2_ratio
    if _ok(t) and t > TIE:
        needs.append(f"be {_times(t)} faster")
    if _ok(m) and m > TIE:
        needs.append(f"{_times(m)} cheaper")
    if _ok(c) and c > TIE:
        needs.append(f"emit {_times(c)} less CO2")
    if v.real and not _ok(q.proj_money) and _ok(v.break_even_price):
        needs.append(
            f"cost under {money_plain(v.break_even_price * 3600)} per hour of machine time "
            "(no list price is published)"
        )
    if not needs:
        return f"{who} already matches it on the instances both solved"
    return f"{who} would have to " + ", ".join(needs)


def per_solved(x: float) -> str:
    """``USD 5.3 per million solved instances`` or ``USD 7.20 per solved instance``.

    Example:
        >>> per_solved(5.3e-6), per_solved(7.2)
        ('USD 5.3 per million solved instances', 'USD 7.20 per solved instance')
    """
    text = money_plain(x)
    if text.endswith(" per million"):
        return text + " solved instances"
    return text + " per solved instance"


def money_plain(x: float, currency: str = "USD") -> str:
    """Money a manager reads at a glance: ``USD 7.20``, ``USD 8.6 per million``.

    Example:
        >>> money_plain(7.2), money_plain(8.58e-06), money_plain(1e-4), money_plain(float("nan"))
        ('USD 7.20', 'USD 8.6 per million', 'USD 100 per million', 'unknown')
    """
    if not _ok(x):
        return "unknown"
    if x == 0:
        return f"{currency} 0"
    if x >= 0.01:
        return f"{currency} {x:,.2f}" if x < 1000 else f"{currency} {x:,.0f}"
    return f"{currency} {_num(x * 1e6)} per million"


def indicator_rows(an: Any) -> tuple[list[str], list[list[str]]]:
    """The managers' table: one row per machine (baseline first), plain units."""
    tl = sorted(an.backends.time_limit.unique())[-1]
    pb = an.backends[an.backends.time_limit == tl]
    rows = sorted(pb.itertuples(), key=lambda r: (r.backend != an.baseline, rank_key(r)))
    per_day = f"{an.runs_per_day:,.0f}"
    head = [
        "machine",
        "what it is",
        "instances solved",
        "time to target (TTS99, its solved instances)",
        "cost per solved instance",
        "CO2 per solved instance",
        f"energy / CO2 per year at {per_day} runs a day",
        "against the baseline (instances both solved)",
    ]
    out = []
    for r in rows:
        solved = f"{int(r.instances_solved)} of {int(r.instances)}"
        if int(r.instances_skipped):
            solved += f" ({int(r.instances_skipped)} skipped)"
        src = r.energy_source or "estimated"
        year = (
            f"{_num(r.kwh_per_year)} kWh / {_num(r.co2_kg_per_year)} kg ({src})"
            if _ok(r.kwh_per_year)
            else "n/a"
        )
        against = "baseline"
        if r.backend != an.baseline and an.baseline in set(pb.backend):
            v = versus(an, r.backend, an.baseline, tl)
            against = (
                f"{_faster(v.time_ratio)}, {_cheaper(v.money_ratio)}"
                if v.common
                else "solved nothing the baseline solved"
                if v.solved == 0
                else "no instance solved by both"
            )
        s = stand_in(r.backend)
        what = r.modality + (f"; {s.short}" if s else "")
        tts = fmt_seconds(r.tts99_geomean)
        if r.tts_basis in ("whole run time", "mixed"):
            tts += " *"
        out.append(
            [
                r.backend + (" (baseline)" if r.backend == an.baseline else ""),
                what,
                solved,
                tts,
                money_plain(r.money_per_solved),
                _grams(r.co2_g_per_solved) + f" ({src})",
                year,
                against,
            ]
        )
        if s is not None and s.real and r.real_machine:
            out.append(
                [
                    f"↳ on the real {r.real_machine}",
                    "projected from catalog models",
                    "(answers as above)",
                    fmt_seconds(r.proj_tts99_geomean),
                    money_plain(r.proj_money_per_solved)
                    if _ok(r.proj_money_per_solved)
                    else f"{money_plain(r.proj_money)} per run"
                    if _ok(r.proj_money)
                    else "no list price",
                    _grams(_co2(an, r.proj_energy_j)) + " per run (estimated)"
                    if _ok(r.proj_energy_j)
                    else "unknown",
                    f"{_num(r.proj_kwh_per_year)} kWh / "
                    f"{_num(_co2(an, r.proj_energy_j) * an.runs_per_day * 0.365)} kg (estimated)"
                    if _ok(r.proj_kwh_per_year)
                    else "unknown",
                    _projected_against(an, r, tl),
                ]
            )
    return head, out


def _projected_against(an: Any, r: Any, tl: float) -> str:
    """The real machine's projected time and money against the baseline, in plain words."""
    if an.baseline not in set(an.backends.backend) or r.backend == an.baseline:
        return ""
    v = versus(an, r.backend, an.baseline, tl)
    if not v.common:
        return ""
    money = (
        _cheaper(v.proj_money_ratio)
        if _ok(v.proj_money_ratio)
        else f"no price (break-even {money_plain(v.break_even_price * 3600)} per hour)"
        if _ok(v.break_even_price)
        else "no price"
    )
    return f"{_faster(v.proj_time_ratio)}, {money} (projected)"


def _co2(an: Any, joules: float) -> float:
    return joules / 3.6e6 * float(an.accounting.get("grid_g_per_kwh", 421.0))


def _grams(g: float) -> str:
    if not _ok(g):
        return "n/a"
    return f"{_num(g / 1000)} kg" if g >= 1000 else f"{_num(g)} g"


GLOSSARY: list[tuple[str, str]] = [
    ("TTS99", "time to solution at 99%: how long you must keep re-running a machine to be 99% "
     "sure of hitting the target at least once — t · ln(0.01)/ln(1 − p), t the time a run takes "
     "to reach the target (or its whole time when that is unknown) and p its success rate."),
    ("target", "the best-known (usually proven optimal) answer of an instance, or the best any "
     "machine found here when none is published."),
    ("success probability p", "the share of runs whose answer is feasible and reaches the target."),
    ("gap", "how far an answer is from the target, in percent of the target (0 = reached)."),
    ("time to target", "seconds from the call until a run first held the answer that reached "
     "the target, from the solver's own clock; marked * where unknown and the whole run "
     "time was used instead."),
    ("cost per solved instance", "money for one run × the runs TTS99 implies, averaged over the "
     "instances the machine solved."),
    ("stand-in", "a local mock or simulator of a quantum machine: its answers, time and price "
     "are this computer's; 'on the real …' rows project the same runs onto the real machine "
     "with the catalog's timing, price and power models."),
    ("TRL", "technology readiness level, 1 (idea) to 9 (proven in routine use), from the "
     "backend catalog."),
    ("Pareto front", "the machines no other machine beats on both axes of a chart at once."),
    ("estimated / measured energy", "measured: the CPU's RAPL energy counters, idle power "
     "subtracted; estimated: a power model (watts per busy core × CPU-seconds, memory, PUE)."),
    ("geometric mean", "the average of ratios that treats 10× faster and 10× slower alike."),
    ("bootstrap interval", "a 95% range from re-sampling the runs; printed only from "
     "10 runs up."),
]  # fmt: skip
