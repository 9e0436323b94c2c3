"""The `kakehashi` command line: solve, backends, demo (and the commands other modules add).

Every :class:`~kakehashi.errors.KakehashiError` is printed as one clear line and exits 2.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kakehashi.cli_support import (
    is_no_args_help,
    literal,
    no_args_help_text,
    non_negative_option,
    print_line,
    seed_option,
    time_limit_option,
    usage_error_types,
    usage_message,
)
from kakehashi.errors import KakehashiError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    # a bug that still escapes is printed by main() as one line, never as typer's traceback
    pretty_exceptions_enable=False,
    help="kakehashi: one optimisation problem, many machines, honest comparison.",
)
console = Console()
err_console = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from kakehashi import __version__

        typer.echo(f"kakehashi {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """kakehashi: one optimisation problem, many machines, honest comparison."""


@app.command()
def solve(
    file: Annotated[
        Path, typer.Argument(help="Problem file: .mps .qplib .ommx .opb .json, Gset or bqp")
    ],
    backend: Annotated[
        str, typer.Option("--backend", "-b", help="Backend name, or 'auto'")
    ] = "auto",
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", "-t", help="Seconds (0 < t ≤ one week)", callback=time_limit_option
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Random seed in [0, 2**63-1] (recorded)", callback=seed_option),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    samples: Annotated[bool, typer.Option("--samples", help="Include all samples in JSON")] = False,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            help="Refuse the run if its estimated price exceeds this",
            callback=non_negative_option("--max-cost"),
        ),
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
        console.print(result.summary(), markup=False, highlight=False, soft_wrap=True)
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
            literal(r["name"]),
            literal(r["modality"]),
            literal(r.get("technology", r["hardware"])),
            literal(r["price"]),
            "?" if r["power_watts"] is None else f"{r['power_watts']:g}",
            str(r["trl"]),
            "[green]yes[/]" if r["available"] else "[red]no[/]",
        )
    console.print(table)
    for r in rows:
        if not r["available"]:
            print_line(console, r["name"], "red", f"{r['reason']} → {r['fix']}")


@app.command()
def demo(
    backend: Annotated[str, typer.Option("--backend", "-b")] = "auto",
    time_limit: Annotated[
        float, typer.Option("--time-limit", "-t", callback=time_limit_option)
    ] = 5.0,
    seed: Annotated[int, typer.Option("--seed", callback=seed_option)] = 7,
) -> None:
    """Solve the shipped example problems on embedded defaults (no servers, no credentials)."""
    import kakehashi

    for problem in kakehashi.examples.demo_problems():
        console.rule(literal(problem.name))
        result = kakehashi.solve(problem, backend=backend, time_limit=time_limit, seed=seed)
        console.print(result.summary(), markup=False, highlight=False, soft_wrap=True)
        if "auto_choice" in result.info:
            console.print(f"auto chose  {result.info['auto_choice']}", markup=False)
        _print_solution(result)


def _print_solution(result) -> None:
    if not result.num_samples:
        return
    for name, values in result.solution.items():
        text = str(values.tolist()) if values.size <= 64 else f"array of shape {values.shape}"
        console.print(f"{name} = {text}", soft_wrap=True, markup=False, highlight=False)


from kakehashi.bench import cli as _bench_cli  # noqa: E402  (bench, report)

app.command("bench")(_bench_cli.bench)
app.command("report")(_bench_cli.report)
from kakehashi.apps.cli import apps_app  # noqa: E402

app.add_typer(apps_app, name="apps")
from kakehashi.router import cli as _router_cli  # noqa: E402  (router train, explain)

app.add_typer(_router_cli.router_app, name="router")
app.command("explain")(_router_cli.explain)
from kakehashi.service.cli import register as _register_service  # noqa: E402

_register_service(app)  # serve, submit, jobs, cancel


@functools.cache
def _command():
    # typer rebuilds its click command from the signatures on every call (~0.1 s); build once
    return typer.main.get_command(app)


def run(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``) and return its exit status.

    Never raises and never prints a traceback: a :class:`KakehashiError` or a usage error
    (unknown option or command, a missing or malformed argument) is one line on stderr and
    status 2; bare ``kakehashi`` prints the help and returns 2, as click does.

    Example:
        >>> run(["--version"])  # doctest: +SKIP
        kakehashi 0.1.0
        0
    """
    try:
        # without standalone mode, click returns (not raises) the exit code of an abort
        # such as Ctrl-C inside a command: pass it on instead of exiting 0
        code = _command()(args=argv, prog_name="kakehashi", standalone_mode=False)
    except KakehashiError as exc:
        print_line(err_console, "error", "bold red", exc)
        return 2
    except usage_error_types() as exc:
        if is_no_args_help(exc):
            help_text = no_args_help_text(exc)
            if help_text.strip():
                typer.echo(help_text, err=True)
            path = exc.ctx.command_path if getattr(exc, "ctx", None) else "kakehashi"
            print_line(
                err_console,
                "error",
                "bold red",
                f"missing a command: give one of the commands listed above (see '{path} --help')",
            )
            return 2
        print_line(err_console, "error", "bold red", usage_message(exc))
        return int(getattr(exc, "exit_code", 2) or 2)
    except (typer.Abort, KeyboardInterrupt):
        print_line(err_console, "aborted", "bold red", "interrupted by the user")
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except MemoryError:
        print_line(
            err_console,
            "error",
            "bold red",
            "out of memory: the problem is too large for this machine; try a smaller instance "
            "or a machine with more memory",
        )
        return 2
    except BrokenPipeError:  # `kakehashi backends | head`: the reader left, nothing to say
        return 1
    except Exception as exc:  # a bug: one line that says so, not a traceback
        print_line(
            err_console,
            "internal error",
            "bold red",
            f"{type(exc).__name__}: {exc} — this is a bug in kakehashi, please report it "
            "with the command that caused it",
        )
        return 1
    return code if isinstance(code, int) else 0


def main() -> None:
    """Entry point: :func:`run` on the process's arguments, exiting with its status."""
    sys.exit(run())


if __name__ == "__main__":
    main()
