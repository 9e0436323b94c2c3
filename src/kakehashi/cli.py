"""The `kakehashi` command line: solve, backends, demo (and the commands other modules add).

Every :class:`~kakehashi.errors.KakehashiError` is printed as one clear line and exits 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kakehashi.errors import KakehashiError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="kakehashi: one optimisation problem, many machines, honest comparison.",
)
console = Console()
err_console = Console(stderr=True)


@app.command()
def solve(
    file: Annotated[
        Path, typer.Argument(help="Problem file: .mps .qplib .ommx .opb .json, Gset or bqp")
    ],
    backend: Annotated[
        str, typer.Option("--backend", "-b", help="Backend name, or 'auto'")
    ] = "auto",
    time_limit: Annotated[float | None, typer.Option("--time-limit", "-t", help="Seconds")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (recorded)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    samples: Annotated[bool, typer.Option("--samples", help="Include all samples in JSON")] = False,
    max_cost: Annotated[
        float | None,
        typer.Option("--max-cost", help="Refuse the run if its estimated price exceeds this"),
    ] = None,
    prefer: Annotated[
        str | None,
        typer.Option("--prefer", help="With auto: quality, time, cost, co2 or quantum"),
    ] = None,
    router: Annotated[
        str | None, typer.Option("--router", help="With auto: a router model file, or 'rule'")
    ] = None,
) -> None:
    """Solve a problem file and print the best answer."""
    import kakehashi

    problem = kakehashi.load(file)
    extra = {} if max_cost is None else {"max_cost": max_cost}
    extra.update({k: v for k, v in (("prefer", prefer), ("router", router)) if v is not None})
    result = kakehashi.solve(problem, backend=backend, time_limit=time_limit, seed=seed, **extra)
    if as_json:
        typer.echo(result.to_json(include_samples=samples))
    else:
        console.print(result.summary())
        _print_solution(result)


@app.command()
def backends(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """List every backend, whether it can run here, and how to enable it if not."""
    from kakehashi.backends import backend_names, get_backend
    from kakehashi.backends.catalog import catalog_caption, catalog_row

    rows = []
    for name in backend_names():
        b = get_backend(name)
        avail = b.available()
        rows.append(
            {
                "name": name,
                "modality": b.info.modality,
                "vendor": b.info.vendor,
                "hardware": b.info.hardware,
                "available": bool(avail),
                "reason": avail.reason,
                "fix": avail.fix,
                **catalog_row(name),
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="kakehashi backends", caption=catalog_caption())
    for col in ("name", "modality", "technology", "price", "W", "TRL", "available"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"],
            r["modality"],
            r.get("technology", r["hardware"]),
            r["price"],
            "?" if r["power_watts"] is None else f"{r['power_watts']:g}",
            str(r["trl"]),
            "[green]yes[/]" if r["available"] else "[red]no[/]",
        )
    console.print(table)
    for r in rows:
        if not r["available"]:
            console.print(f"[red]{r['name']}[/]: {r['reason']} → {r['fix']}", soft_wrap=True)


@app.command()
def demo(
    backend: Annotated[str, typer.Option("--backend", "-b")] = "auto",
    time_limit: Annotated[float, typer.Option("--time-limit", "-t")] = 5.0,
    seed: Annotated[int, typer.Option("--seed")] = 7,
) -> None:
    """Solve the shipped example problems on embedded defaults (no servers, no credentials)."""
    import kakehashi

    for problem in kakehashi.examples.demo_problems():
        console.rule(f"[bold]{problem.name}")
        result = kakehashi.solve(problem, backend=backend, time_limit=time_limit, seed=seed)
        console.print(result.summary())
        if "auto_choice" in result.info:
            console.print(f"auto chose  {result.info['auto_choice']}")
        _print_solution(result)


def _print_solution(result) -> None:
    if not result.num_samples:
        return
    for name, values in result.solution.items():
        text = str(values.tolist()) if values.size <= 64 else f"array of shape {values.shape}"
        console.print(f"{name} = {text}", soft_wrap=True)


from kakehashi.bench import cli as _bench_cli  # noqa: E402  (bench, report)

app.command("bench")(_bench_cli.bench)
app.command("report")(_bench_cli.report)
from kakehashi.apps.cli import apps_app  # noqa: E402

app.add_typer(apps_app, name="apps")
from kakehashi.router import cli as _router_cli  # noqa: E402  (router train, explain)

app.add_typer(_router_cli.router_app, name="router")
app.command("explain")(_router_cli.explain)


def main() -> None:
    """Entry point: run the app, turning kakehashi errors into one line and exit status 2."""
    try:
        # without standalone mode, click returns (not raises) the exit code of an abort
        # such as Ctrl-C inside a command: pass it on instead of exiting 0
        code = app(standalone_mode=False)
    except KakehashiError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
