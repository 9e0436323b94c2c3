"""``kakehashi apps``: list the use cases; run one on a backend beside its classical baseline.

Example:
    $ kakehashi apps list
    $ kakehashi apps run tsp --instance burma14 --backend tabu --time-limit 10
    $ kakehashi apps run knapsack --size 40 --seed 3 --backend exact
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kakehashi.cli_support import literal, seed_option, time_limit_option
from kakehashi.errors import KakehashiError

apps_app = typer.Typer(
    no_args_is_help=True,
    help="Use cases: domain data in, a checked domain answer out, beside a classical baseline.",
)
console = Console()


@apps_app.command("list")
def list_use_cases(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """List every use case, its baseline tool and its shipped instances."""
    from kakehashi.apps import use_cases

    rows = [
        {
            "name": uc.name,
            "title": uc.title,
            "domain": uc.domain,
            "size": uc.size_meaning,
            "baseline": uc.baseline_tool,
            "instances": uc.instances(),
        }
        for uc in use_cases()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="kakehashi use cases")
    for col in ("name", "title", "domain", "--size means", "baseline", "shipped instances"):
        table.add_column(col)
    for r in rows:
        cells = (r["name"], r["title"], r["domain"], r["size"], r["baseline"])
        table.add_row(*map(literal, cells), literal(", ".join(r["instances"])))
    console.print(table)


@apps_app.command("run")
def run_use_case(
    name: Annotated[str, typer.Argument(help="Use case, e.g. tsp (see `kakehashi apps list`)")],
    instance: Annotated[
        str | None,
        typer.Option("--instance", "-i", help="A shipped instance name (burma14) or a file path"),
    ] = None,
    size: Annotated[
        int | None, typer.Option("--size", "-n", help="Generate an instance of this size")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed for the generator and the solver", callback=seed_option),
    ] = None,
    backend: Annotated[str, typer.Option("--backend", "-b", help="Backend, or 'auto'")] = "auto",
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", "-t", help="Seconds for the backend", callback=time_limit_option
        ),
    ] = None,
    baseline_time_limit: Annotated[
        float | None,
        typer.Option(
            "--baseline-time-limit",
            help="Seconds for the baseline (default: same)",
            callback=time_limit_option,
        ),
    ] = None,
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="Skip the classical baseline")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON")] = False,
) -> None:
    """Solve a use case on a backend; print the answer, its check, and the baseline's answer."""
    from kakehashi.apps import get_use_case

    uc = get_use_case(name)
    if (instance is None) == (size is None):
        shipped = ", ".join(uc.instances()) or "none shipped"
        raise KakehashiError(
            f"give either --instance (a file, or one of: {shipped}) or --size N [--seed S] "
            f"to generate a {uc.title.lower()} instance ({uc.size_meaning})"
        )
    if size is not None:
        uc.check_size(size)
    data = uc.load(instance) if instance is not None else uc.generate(size, seed=seed)
    run = uc.run(
        data,
        backend=backend,
        time_limit=time_limit,
        seed=seed,
        baseline=not no_baseline,
        baseline_time_limit=baseline_time_limit,
    )
    if as_json:
        typer.echo(json.dumps(_run_dict(run), indent=2))
    else:
        console.print(run.summary(), soft_wrap=True, highlight=False, markup=False)


def _run_dict(run) -> dict:
    b = run.baseline
    return {
        "use_case": run.use_case,
        "instance": getattr(run.data, "name", None),
        "backend": run.result.backend,
        "seconds": run.result.timing.total,
        "answer": run.answer.to_dict(),
        "valid": run.validation.valid,
        "errors": run.validation.errors,
        "checked_objective": run.validation.objective,
        "baseline": None
        if b is None
        else {
            "tool": b.tool,
            "status": b.status,
            "seconds": b.seconds,
            "bound": b.bound,
            "answer": b.answer.to_dict(),
        },
        "baseline_error": run.baseline_error,
        "gap": run.gap,
        "result": run.result.to_dict(),
    }
