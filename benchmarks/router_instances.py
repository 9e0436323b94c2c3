"""The instances behind the router's training runs and its benchmark, grouped into families.

A *family* is one generator (or one library's generator) at one size class: G1, G2 and G3
(800-vertex random rudy graphs) are one family, bqp100-1..10 another. The benchmark splits
train and test by family, so no family appears on both sides.

Each entry is a suite ``[[instance]]`` table (see ``kakehashi.bench.suite``) with a
``family`` tag (``family=...``); :func:`suite_document` wraps them in a suite that
``kakehashi.bench`` runs.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from kakehashi.bench.suite import shared_data_dir

# backends the router is trained on: exact enumeration, a MIP and a CP-SAT solver, two of
# kakehashi's heuristics, a quantum-inspired engine and the D-Wave annealer stand-in
TRAIN_BACKENDS = ("exact", "sa", "tabu", "sb", "highs", "cpsat", "dwave-mock")
TRAIN_BUDGETS = (0.3, 1.0)
MAX_VARIABLES = {"exact": 20, "dwave-mock": 150}

# families held out for the test split (never trained on in the benchmark)
TEST_FAMILIES = (
    "gset-800-random",
    "gset-800-toroidal",
    "bqp100",
    "maxcut-random-n150",
    "qubo-random-n60",
    "sk-n40",
    "knapsack-n30",
    "labs-medium",
    "mis-small",
    "rostering-8",
    "qaplib-12",
    "tsp-gen-6",
    "binpacking-6",
    "frequency-10",
    "assignment-n6",
    "qplib-qbb-small",
)


def _inst(name: str, family: str, kind_tags: tuple[str, ...], **spec: Any) -> dict[str, Any]:
    return {"name": name, **spec, "tags": [*kind_tags, f"family={family}"]}


def _generated() -> list[dict[str, Any]]:
    out = []
    sizes = ((20, 0.5, (1, 2)), (60, 0.3, (1, 2)), (150, 0.1, (1, 2)), (400, 0.02, (1,)))
    for n, p, seeds in sizes:
        for s in seeds:
            out.append(
                _inst(
                    f"maxcut-r{n}-s{s}",
                    f"maxcut-random-n{n}",
                    ("maxcut", "generated"),
                    generator="maxcut-random",
                    params={"n": n, "p": p, "seed": s},
                )
            )
    for n, p in ((80, 0.1),):
        out.append(
            _inst(
                f"maxcut-pm{n}",
                f"maxcut-pm1-n{n}",
                ("maxcut", "generated"),
                generator="maxcut-random",
                params={"n": n, "p": p, "seed": 3, "weights": "pm1"},
            )
        )
    for n, d, seeds in ((18, 0.5, (1,)), (60, 0.3, (1, 2)), (150, 0.1, (1,))):
        for s in seeds:
            out.append(
                _inst(
                    f"qubo-r{n}-s{s}",
                    f"qubo-random-n{n}",
                    ("qubo", "generated"),
                    generator="qubo-random",
                    params={"n": n, "density": d, "seed": s},
                )
            )
    for n, seeds in ((16, (1,)), (40, (1, 2)), (100, (1,))):
        for s in seeds:
            out.append(
                _inst(
                    f"sk-{n}-s{s}",
                    f"sk-n{n}",
                    ("ising", "generated"),
                    generator="sk",
                    params={"n": n, "seed": s},
                )
            )
    for n, seeds in ((16, (1,)), (30, (1, 2)), (60, (1,))):
        for s in seeds:
            out.append(
                _inst(
                    f"knapsack-{n}-s{s}",
                    f"knapsack-n{n}",
                    ("constrained", "generated"),
                    generator="knapsack",
                    params={"n": n, "seed": s},
                )
            )
    for n in (4, 6, 8):
        out.append(
            _inst(
                f"assignment-{n}",
                f"assignment-n{n}",
                ("constrained", "generated"),
                generator="assignment",
                params={"n": n, "seed": 1},
            )
        )
    return out


def _apps() -> list[dict[str, Any]]:
    plan = [
        ("rostering", 6, (1,)), ("rostering", 8, (1, 2)), ("binpacking", 6, (1, 2)),
        ("binpacking", 9, (1,)), ("frequency", 6, (1,)), ("frequency", 10, (1, 2)),
        ("portfolio", 12, (1,)), ("knapsack", 25, (1,)), ("tsp", 6, (1, 2)), ("tsp", 9, (1,)),
        ("qap", 6, (1,)), ("partition", 20, (1,)), ("unit_commitment", 3, (1,)),
    ]  # fmt: skip
    out = []
    for app, size, seeds in plan:
        fam = f"{app}-{size}" if app not in ("tsp", "qap") else f"{app}-gen-{size}"
        for s in seeds:
            out.append(
                _inst(
                    f"{app}-{size}-s{s}",
                    fam,
                    ("constrained", "app"),
                    app=app,
                    params={"size": size, "seed": s},
                )
            )
    return out


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _shared(root: Path) -> list[dict[str, Any]]:
    out = []
    gset_family = {
        "G1": "gset-800-random", "G2": "gset-800-random", "G3": "gset-800-random",
        "G11": "gset-800-toroidal", "G12": "gset-800-toroidal",
        "G14": "gset-800-planar", "G15": "gset-800-planar",
        "G43": "gset-1000-random", "G22": "gset-2000-random",
    }  # fmt: skip
    for row in _read_csv(root / "gset" / "best_known.csv"):
        if row["instance"] in gset_family:
            out.append(
                _inst(
                    row["instance"],
                    gset_family[row["instance"]],
                    ("maxcut", "gset"),
                    file=f"shared:gset/{row['instance']}.txt",
                    best_known=float(row["best_known"]),
                    best_known_sense="max",
                    source="Gset best-known (shared/data/gset)",
                )
            )
    for size, picks in ((50, (1, 2, 3, 4)), (100, (1, 2, 3, 4, 5)), (250, (1, 2))):
        rows = {r["instance"]: r for r in _read_csv(root / "beasley_bqp" / "best_known.csv")}
        for k in picks:
            name = f"bqp{size}-{k}"
            out.append(
                _inst(
                    name,
                    f"bqp{size}",
                    ("qubo", "beasley"),
                    file=f"shared:beasley_bqp/bqp{size}.txt",
                    options={"index": k},
                    best_known=float(rows[name]["best_known"]),
                    best_known_sense="max",
                    source="OR-Library bqp, proven optimum",
                )
            )
    for row in _read_csv(root / "qplib" / "best_known.csv"):
        n = int(row["n_vars"])
        fam = f"qplib-{row['qplib_type'].lower()}-{'small' if n <= 200 else 'large'}"
        out.append(
            _inst(
                row["instance"],
                fam,
                ("qplib",),
                file=f"shared:qplib/{row['opb_file']}",
                options={"pb_info": True},
                best_known=float(row["best_known"]),
                best_known_sense=row["qplib_sense"],
                source="QPLIB via QPLIB-PB",
            )
        )
    for row in _read_csv(root / "qoblib" / "best_known.csv"):
        cls, name, n = row["problem_class"], row["instance"], int(row["n_vars"])
        if cls == "LABS":
            fam = "labs-small" if n <= 80 else ("labs-medium" if n <= 250 else "labs-large")
            fmt, sense = "qoblib-labs", "min"
        elif cls == "MarketSplit":
            if name not in (
                "ms_03_050_002",
                "ms_03_100_012",
                "ms_04_050_001",
                "ms_04_100_003",
                "ms_05_050_001",
                "ms_05_100_003",
            ):
                continue
            fam, fmt, sense = f"marketsplit-{n}", "qoblib-marketsplit", "min"
        else:
            if n > 130 or name in ("football", "johnson8-2-4", "hamming6-4"):
                continue
            fam = "mis-small" if n <= 60 else "mis-medium"
            fmt, sense = "qoblib-mis", "max"
        out.append(
            _inst(
                name,
                fam,
                ("qoblib",),
                file=f"shared:qoblib/{row['file']}",
                format=fmt,
                best_known=float(row["best_known"]),
                best_known_sense=sense,
                source="QOBLIB",
            )
        )
    for row in _read_csv(root / "qaplib" / "best_known.csv"):
        n = int(row["n"])
        if n > 12:
            continue
        out.append(
            _inst(
                row["instance"],
                f"qaplib-{n}",
                ("qaplib", "app"),
                app="qap",
                data=f"shared:qaplib/{row['instance']}.dat",
                best_known=float(row["optimal_value"]),
                best_known_sense="min",
                source="QAPLIB proven optimum",
            )
        )
    for row in _read_csv(root / "tsplib" / "best_known.csv"):
        n = int(row["n_cities"])
        if n > 17:
            continue
        out.append(
            _inst(
                row["instance"],
                f"tsplib-{n}",
                ("tsplib", "app"),
                app="tsp",
                instance=row["instance"],
                best_known=float(row["optimal_tour_length"]),
                best_known_sense="min",
                source="TSPLIB95 optimum",
            )
        )
    return out


def all_instances() -> list[dict[str, Any]]:
    """Every instance of the router's collection (shared ones only when ../shared/data is here)."""
    out = _generated() + _apps()
    root = shared_data_dir()
    if root is not None:
        out += _shared(root)
    return out


def family_of(instance: dict[str, Any]) -> str:
    for tag in instance.get("tags", ()):
        if tag.startswith("family="):
            return tag[len("family=") :]
    return instance["name"]


def suite_document(instances: list[dict[str, Any]], budgets=TRAIN_BUDGETS) -> dict[str, Any]:
    """A suite (as ``kakehashi.bench.suite.parse_suite`` reads it) running every instance."""
    return {
        "suite": {
            "name": "router",
            "repeats": 1,
            "time_limit": list(budgets),
            "seed": 0,
            "backends": [[b] for b in TRAIN_BACKENDS],
            "max_variables": dict(MAX_VARIABLES),
        },
        "instance": instances,
    }
