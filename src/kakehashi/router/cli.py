"""`kakehashi router train` and `kakehashi explain` (registered in kakehashi/cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kakehashi.cli_support import non_negative_option, print_line, seed_option, time_limit_option

console = Console()
router_app = typer.Typer(no_args_is_help=True, help="Train and inspect the backend='auto' router.")


@router_app.command("train")
def train(
    runs: Annotated[
        list[Path], typer.Argument(help="runs.sqlite files from `kakehashi bench` (or folders)")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The model file to write (.npz)")],
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the random forest", callback=seed_option)
    ] = 0,
) -> None:
    """Train the router on your own runs; use it with router=MODEL or KAKEHASHI_ROUTER_MODEL."""
    from kakehashi.router.train import train as train_model

    path, model, data = train_model(runs, out, seed=seed)
    for note in data.notes:
        print_line(console, "note", "yellow", note)
    console.print(
        f"trained on {model.meta['runs']} runs of {len(data.features)} instances, backends "
        f"{', '.join(model.backends)}, budgets {', '.join(f'{b:g} s' for b in data.budgets)} "
        f"→ {path}",
        soft_wrap=True,
        markup=False,
    )


@router_app.command("info")
def info(
    model: Annotated[
        Path | None, typer.Argument(help="A model file (default: the one shipped)")
    ] = None,
) -> None:
    """Say what a router model was trained on: backends, budgets, runs, instances."""
    from kakehashi.router.model import load_model

    m = load_model(model)
    meta = m.meta
    console.print(f"model      {m.path}", soft_wrap=True, markup=False)
    console.print(f"backends   {', '.join(m.backends)}", soft_wrap=True)
    console.print(f"budgets    {', '.join(f'{b:g} s' for b in meta.get('budgets', []))}")
    console.print(f"runs       {meta.get('runs')} ({meta.get('trees')} trees, scikit-learn "
                  f"{meta.get('sklearn')}, {meta.get('trained_at')})")  # fmt: skip
    names = meta.get("instances", [])
    console.print(f"instances  {len(names)}: {', '.join(names)}", soft_wrap=True, markup=False)


_KIND = {
    "classical exact": "exact",
    "classical heuristic": "heuristic",
    "quantum-inspired": "q-inspired",
    "quantum annealing": "annealer",
    "quantum gate": "gate",
}


def explain(
    file: Annotated[Path, typer.Argument(help="Problem file (any format `kakehashi solve` reads)")],
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", "-t", help="The budget to route for (s)", callback=time_limit_option
        ),
    ] = None,
    prefer: Annotated[
        str, typer.Option("--prefer", help="quality, time, cost, co2 or quantum")
    ] = "quality",
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            help="Leave out backends that may cost more",
            callback=non_negative_option("--max-cost"),
        ),
    ] = None,
    router: Annotated[
        str | None, typer.Option("--router", help="Model file, or 'rule' (default: shipped model)")
    ] = None,
    features: Annotated[bool, typer.Option("--features", help="Print the features too")] = False,
) -> None:
    """Print how backend='auto' would rank the backends for FILE, without solving."""
    import kakehashi
    from kakehashi.router.selector import route

    problem = kakehashi.load(file)
    d = route(problem, time_limit=time_limit, prefer=prefer, max_cost=max_cost, router=router)
    console.print(d.reason, soft_wrap=True, markup=False)
    console.print(
        f"budget {d.budget:g} s, prefer={d.prefer}, method {d.method} "
        f"({d.model or 'shipped model'}), routing took {d.seconds * 1000:.1f} ms",
        soft_wrap=True,
    )
    table = Table(title=f"ranking for {problem.name or file.name} (predicted; money in USD)")
    for col in ("#", "backend", "kind", "gap", "P(best)", "seconds", "money", "CO2 g"):
        table.add_column(col)
    rank = 0
    for c in d.candidates:
        if not c.eligible:
            continue
        rank += 1
        table.add_row(
            str(rank), c.name, _KIND.get(c.modality, c.modality),
            "—" if c.gap is None else ("infeasible" if c.gap > 1 else f"{c.gap:.2%}"),
            "—" if c.p_reach is None else f"{c.p_reach:.0%}",
            "—" if c.seconds is None else f"{c.seconds:.3g}",
            "?" if c.money is None else f"{c.money:.2g}",
            "?" if c.co2_grams is None else f"{c.co2_grams:.2g}",
        )  # fmt: skip
    console.print(table)
    for c in d.candidates:
        if not c.eligible:
            print_line(console, c.name, "dim", c.excluded)
    if features:
        for k, v in d.features.items():
            console.print(f"  {k:<24} {v:.4g}")
