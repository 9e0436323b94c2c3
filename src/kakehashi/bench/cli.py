"""`kakehashi bench` and `kakehashi report` (registered in kakehashi/cli.py)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kakehashi.backends.arguments import check_time_limit
from kakehashi.cli_support import non_negative_option, positive_option, print_line, seed_option
from kakehashi.errors import KakehashiError

console = Console()
# more repeats than this is a typo, not a benchmark (each repeat is a full run)
MAX_REPEATS = 10_000


def _csv(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def _floats(text: str | None, what: str) -> list[float] | None:
    items = _csv(text)
    if items is None:
        return None
    try:
        values = [float(t) for t in items]
    except ValueError:
        raise KakehashiError(
            f"{what} must be numbers (seconds), comma-separated; got {text!r}"
        ) from None
    for value in values:
        try:
            check_time_limit(value)
        except KakehashiError as exc:
            raise KakehashiError(f"{what}: {exc}") from None
    return values


def _repeats_option(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_REPEATS:
        raise typer.BadParameter(
            f"expected a whole number of runs in [1, {MAX_REPEATS}], got {value}"
        )
    return value


def _out_folder(out: Path) -> Path:
    """``out`` as a folder to write into: a clear error when it names an existing file."""
    if out.exists() and not out.is_dir():
        raise KakehashiError(
            f"--out {out} is a file, not a folder; give a folder for runs.sqlite and the report "
            "(it is created when missing)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KakehashiError(
            f"cannot create the --out folder {out}: {exc.strerror or exc}; give a writable folder"
        ) from None
    return out


def _report_file(out: Path) -> Path:
    """``out`` as the report's file: a clear error when it names a folder."""
    if out.is_dir():
        raise KakehashiError(
            f"--out {out} is a folder; give the report's file name, e.g. {out / 'report.html'}"
        )
    return out


def _accounting(grid_intensity, watts_per_core, pue, cpu_price):
    from kakehashi.bench.accounting import AccountingConfig, GridIntensity

    cfg = AccountingConfig()
    if grid_intensity is not None:
        cfg.grid = GridIntensity(grid_intensity, "custom", "given on the command line")
    if watts_per_core is not None:
        cfg.watts_per_core = watts_per_core
    if pue is not None:
        cfg.pue = pue
    if cpu_price is not None:
        cfg.cpu_price_per_hour = cpu_price
        cfg.cpu_price_source = "given on the command line"
    cfg.__post_init__()
    return cfg


def bench(
    suite: Annotated[
        str, typer.Argument(help="Shipped suite (quick, standard) or a .toml/.yaml suite file")
    ],
    backends: Annotated[
        str | None,
        typer.Option(
            "--backends", "-b", help="Comma-separated backend names (default: the suite's)"
        ),
    ] = None,
    repeats: Annotated[
        int | None,
        typer.Option(
            "--repeats", "-r", help="Runs per instance and backend", callback=_repeats_option
        ),
    ] = None,
    time_limit: Annotated[
        str | None,
        typer.Option(
            "--time-limit",
            "-t",
            help="Seconds per run, the same for every backend (comma list for several)",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for runs.sqlite and the report")
    ] = Path("bench-out"),
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Base seed (each run's seed is derived and stored)",
            callback=seed_option,
        ),
    ] = None,
    instances: Annotated[
        str | None,
        typer.Option(
            "--instances", "-i", help="Only these instances (comma-separated names, globs or tags)"
        ),
    ] = None,
    baseline: Annotated[
        str,
        typer.Option(
            "--baseline",
            help="'auto' adds a classical baseline if none is listed, 'require' refuses, "
            "or a backend name",
        ),
    ] = "auto",
    target_gap: Annotated[
        float,
        typer.Option(
            "--target-gap",
            help="Count a run as a success within this relative gap",
            callback=non_negative_option("--target-gap"),
        ),
    ] = 0.0,
    grid_intensity: Annotated[
        float | None,
        typer.Option(
            "--grid-intensity",
            help="g-CO2 per kWh (default: Japan, 421)",
            callback=non_negative_option("--grid-intensity"),
        ),
    ] = None,
    watts_per_core: Annotated[
        float | None,
        typer.Option(
            "--watts-per-core",
            help="Power model: W per core in use",
            callback=non_negative_option("--watts-per-core"),
        ),
    ] = None,
    pue: Annotated[
        float | None,
        typer.Option(
            "--pue",
            help="Power usage effectiveness (default 1.58)",
            callback=positive_option("--pue"),
        ),
    ] = None,
    cpu_price: Annotated[
        float | None,
        typer.Option(
            "--cpu-price",
            help="USD per vCPU-hour for local runs",
            callback=non_negative_option("--cpu-price"),
        ),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write the report when done")
    ] = True,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", help="Runs at once, each on its own pinned core(s) (1: one by one)"
        ),
    ] = 1,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            help="Where runs go: 'process' (local workers, default with --jobs) or 'ray'",
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Ray cluster for --executor ray ('auto', ray://host:port)"),
    ] = None,
) -> None:
    """Run a benchmark suite: instances × backends × repeats under one time budget.

    Runs are stored in OUT/runs.sqlite as they finish; running the same command again
    resumes where it stopped. The report goes to OUT/report.html (.md, .csv beside it).
    """
    from kakehashi.bench.baseline import ensure_baseline, resolve_backends
    from kakehashi.bench.runner import plan_from_suite, run_plan
    from kakehashi.bench.store import RunStore
    from kakehashi.bench.suite import load_suite

    s = load_suite(suite).select(_csv(instances))
    chosen, notes = resolve_backends(_csv(backends), s.backends)
    chosen, named, more = ensure_baseline(chosen, baseline)
    notes += more
    cfg = _accounting(grid_intensity, watts_per_core, pue, cpu_price)
    limits = _floats(time_limit, "--time-limit")
    plan = plan_from_suite(s, chosen, repeats=repeats, time_limits=limits,
                           seed=seed, accounting=cfg)  # fmt: skip
    for note in notes:
        print_line(console, "note", "yellow", note)
    print_line(
        console,
        f"suite {s.name}",
        "bold",
        f"{len(plan.instances)} instances × {len(plan.backends)} backends "
        f"({', '.join(b.name for b in plan.backends)}) × {plan.repeats} repeats × "
        f"{', '.join(f'{t:g} s' for t in plan.time_limits)}",
    )
    store = RunStore(_out_folder(out) / "runs.sqlite")
    with store.writing():  # refused here, before any work, when another bench writes there
        store.add_notes(notes)
        with _executor(executor, jobs, address) as ex:
            outcome = run_plan(plan, store, progress=True, executor=ex)
        store.add_notes(outcome.notes)
    for note in outcome.notes:
        print_line(console, "note", "yellow", note)
    console.print(
        f"{outcome.new_runs} new runs, {outcome.skipped_done} already stored, "
        f"{outcome.errors} errors "
        f"→ {store.path}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if outcome.interrupted:
        # SystemExit, not KeyboardInterrupt: typer turns the latter into a return value
        console.print("interrupted")
        sys.exit(130)
    if report:
        _write(store, out / "report.html", named, target_gap, None, s.name)


@contextlib.contextmanager
def _executor(name: str | None, jobs: int, address: str | None):
    """The executor for ``--jobs``/``--executor``/``--address``; None: one run at a time here."""
    if jobs < 1:
        raise KakehashiError(f"--jobs must be ≥ 1, got {jobs}")
    if address is not None and name != "ray":
        raise KakehashiError("--address names a Ray cluster; add --executor ray")
    if name is None and jobs == 1:
        yield None
        return
    from kakehashi.executors import get_executor

    name = name or "process"
    if name == "process":
        ex = get_executor("process", max_workers=jobs, cores_per_run=1, reuse=True)
    elif name == "ray":
        ex = get_executor("ray", address=address, max_in_flight=jobs if jobs > 1 else None)
    else:
        raise KakehashiError(f"--executor must be 'process' or 'ray', got {name!r}")
    with ex:
        yield ex


def report(
    runs: Annotated[
        Path, typer.Argument(help="runs.sqlite written by `kakehashi bench` (or its folder)")
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The HTML report (.md and .csv are written beside it)"),
    ] = Path("report.html"),
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="Name this backend as the classical baseline")
    ] = None,
    target_gap: Annotated[
        float,
        typer.Option(
            "--target-gap",
            help="Count a run as a success within this relative gap",
            callback=non_negative_option("--target-gap"),
        ),
    ] = 0.0,
    grid_intensity: Annotated[
        float | None,
        typer.Option(
            "--grid-intensity",
            help="Recompute CO2 at this g-CO2/kWh",
            callback=non_negative_option("--grid-intensity"),
        ),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Report title")] = None,
    runs_per_day: Annotated[
        float,
        typer.Option(
            "--runs-per-day",
            help="Run rate behind the yearly energy and CO2",
            callback=positive_option("--runs-per-day"),
        ),
    ] = 1000.0,
    qoblib: Annotated[
        Path | None,
        typer.Option("--qoblib", help="Also write QOBLIB submission CSVs and solutions here"),
    ] = None,
    submitter: Annotated[
        str, typer.Option("--submitter", help="Submitter named in the QOBLIB CSV")
    ] = "kakehashi user",
) -> None:
    """Write the comparison report (HTML + Markdown + CSV) from a runs store."""
    from kakehashi.bench.store import RunStore

    store = RunStore.open_existing(runs)
    an = _write(store, _report_file(out), baseline, target_gap, grid_intensity, title,
                runs_per_day)  # fmt: skip
    if qoblib is not None:
        from kakehashi.bench.qoblib_export import write_qoblib

        files = write_qoblib(an, qoblib, submitter=submitter)
        print_line(console, "QOBLIB submission", "", f"{len(files)} files in {qoblib}")


def _write(store, out: Path, baseline, target_gap, grid, title, runs_per_day=1000.0):
    from kakehashi.bench.analysis import analyse
    from kakehashi.bench.report import write_report
    from kakehashi.bench.verdict import verdict_lines

    an = analyse(store, target_gap=target_gap, baseline=baseline, grid_g_per_kwh=grid,
                 runs_per_day=runs_per_day)  # fmt: skip
    paths = write_report(an, out, title=f"kakehashi benchmark: {title}" if title else None)
    from kakehashi.bench.summary import summary_lines

    console.rule("verdict")
    for line in verdict_lines(an):
        console.print(line.replace("**", ""), soft_wrap=True, markup=False, highlight=False)
    console.rule("how each machine did")
    for line in summary_lines(an):
        console.print(line.replace("**", ""), soft_wrap=True, markup=False, highlight=False)
    for w in an.warnings:
        print_line(console, "warning", "yellow", w)
    print_line(console, "report", "", ", ".join(str(p) for p in paths.values()))
    return an
