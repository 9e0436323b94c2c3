"""Train the router from run stores that ``kakehashi bench`` wrote.

Every stored run of status ``ok`` becomes one training row: the instance's features (the
instance is rebuilt from the suite entry stored with it), the run's budget and backend,
and what happened — the gap to the best value known for the instance (the suite's
best-known value or the best any stored run found, whichever is better), its wall time,
and whether it reached that value. Training needs scikit-learn (``pip install
'kakehashi[router]'``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.errors import KakehashiError
from kakehashi.router.features import FEATURE_NAMES, features, vector
from kakehashi.router.model import OUTPUTS, RouterModel, from_sklearn_forest, gap_score

REACHED_TOL = 1e-6
N_TREES = 40
MAX_DEPTH = 12


@dataclasses.dataclass
class Run:
    """One stored run, reduced to what the router learns from."""

    instance: str
    backend: str
    budget: float
    gap: float | None  # None: nothing feasible
    seconds: float


@dataclasses.dataclass
class Dataset:
    """Runs with the features of their instances."""

    runs: list[Run]
    features: dict[str, dict[str, float]]  # instance -> feature dict
    tags: dict[str, list[str]]
    notes: list[str]
    attempted: dict[str, set[str]] = dataclasses.field(default_factory=dict)  # backend -> inst

    @property
    def backends(self) -> list[str]:
        return sorted({r.backend for r in self.runs})

    @property
    def budgets(self) -> list[float]:
        return sorted({r.budget for r in self.runs})

    def restricted(self, instances: Iterable[str]) -> Dataset:
        keep = set(instances)
        return Dataset(
            [r for r in self.runs if r.instance in keep],
            {k: v for k, v in self.features.items() if k in keep},
            {k: v for k, v in self.tags.items() if k in keep},
            list(self.notes),
            {b: s & keep for b, s in self.attempted.items()},
        )


def relative_gap(objective: float, reference: float, sense: str) -> float:
    """How far ``objective`` is from ``reference`` (≥ 0 when no better), relative to
    max(|reference|, 1).

    Example:
        >>> relative_gap(90.0, 100.0, "max"), relative_gap(110.0, 100.0, "min")
        (0.1, 0.1)
    """
    diff = reference - objective if sense == "max" else objective - reference
    return max(diff, 0.0) / max(abs(reference), 1.0)


def load_runs(paths: Sequence[str | Path]) -> Dataset:
    """Read every ``ok`` run of the stores at ``paths`` and the features of their instances.

    Example:
        >>> load_runs([]).runs
        []
    """
    from kakehashi.bench.store import RunStore

    runs: list[Run] = []
    feats: dict[str, dict[str, float]] = {}
    tags: dict[str, list[str]] = {}
    notes: list[str] = []
    attempted: dict[str, set[str]] = {}
    for path in paths:
        store = RunStore.open_existing(path)
        try:
            instances = store.instances()
            every = store.runs()
        finally:
            store.close()
        for r in every:
            attempted.setdefault(r["backend"], set()).add(r["instance"])
        rows = [r for r in every if r["status"] == "ok"]
        base = Path(path).parent if Path(path).is_file() else Path(path)
        for name, inst in instances.items():
            if name in feats:
                continue
            try:
                problem = _rebuild(inst, base)
            except KakehashiError as exc:
                notes.append(f"instance {name} left out: {exc}")
                continue
            feats[name] = features(problem)
            tags[name] = [t for t in (inst.get("tags") or "").split(",") if t]
        runs += _runs_of(rows, instances, feats)
    return Dataset(runs, feats, tags, notes, attempted)


def _rebuild(inst: dict[str, Any], base: Path) -> Any:
    from kakehashi.bench.suite import _parse_instance

    spec = json.loads(inst.get("spec_json") or "{}")
    if not spec:
        raise KakehashiError("the store holds no suite entry to rebuild it from")
    spec.setdefault("name", inst["name"])
    spec.pop("best_known", None)
    return _parse_instance(spec, 0, "run store", base).build()


def _runs_of(rows: list[dict[str, Any]], instances: dict[str, Any], feats: dict) -> list[Run]:
    by_instance: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["instance"] in feats:
            by_instance.setdefault(r["instance"], []).append(r)
    out = []
    for name, rs in by_instance.items():
        sense = instances[name].get("sense") or "min"
        values = [r["objective"] for r in rs if r["feasible"] and r["objective"] is not None]
        known = instances[name].get("best_known")
        if known is not None and math.isfinite(known):
            values.append(float(known))
        if not values:
            continue
        ref = max(values) if sense == "max" else min(values)
        for r in rs:
            ok = bool(r["feasible"]) and r["objective"] is not None
            gap = relative_gap(float(r["objective"]), ref, sense) if ok else None
            secs = r["wall_seconds"] or r["total_seconds"] or r["time_limit"]
            out.append(Run(name, r["backend"], float(r["time_limit"]), gap, float(secs)))
    return out


MIN_COVERAGE = 0.5


def well_covered(data: Dataset) -> list[str]:
    """Backends the stores tried (ran, or skipped as too large) on at least half of the
    instances: one tried on a few instances only would be predicted from too little."""
    seen = {b: s for b, s in data.attempted.items() if any(r.backend == b for r in data.runs)}
    total = len({r.instance for r in data.runs})
    keep = [b for b in sorted(seen) if len(seen[b]) >= MIN_COVERAGE * total]
    for b in sorted(set(seen) - set(keep)):
        data.notes.append(
            f"backend {b} left out: it ran on {len(seen[b])} of {total} instances "
            f"(the router needs {MIN_COVERAGE:.0%})"
        )
    return keep


def design(data: Dataset, backends: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of every run whose backend is in ``backends``."""
    names = list(backends)
    nf = len(FEATURE_NAMES)
    runs = [r for r in data.runs if r.backend in names]
    X = np.zeros((len(runs), nf + 1 + len(names)))
    Y = np.zeros((len(runs), len(OUTPUTS)))
    for k, r in enumerate(runs):
        X[k, :nf] = vector(data.features[r.instance])
        X[k, nf] = math.log10(r.budget)
        X[k, nf + 1 + names.index(r.backend)] = 1.0
        Y[k] = (
            gap_score(r.gap),
            math.log10(max(r.seconds, 1e-4)),
            float(r.gap is not None and r.gap <= REACHED_TOL),
        )
    return X, Y


def fit(data: Dataset, *, seed: int = 0, n_trees: int = N_TREES) -> RouterModel:
    """Fit the router's forest on ``data`` (needs scikit-learn).

    Example:
        >>> fit(Dataset([], {}, {}, []))
        Traceback (most recent call last):
        ...
        kakehashi.errors.KakehashiError: no usable runs to train on; ...
    """
    if not data.runs:
        raise KakehashiError(
            "no usable runs to train on; pass run stores written by `kakehashi bench` whose "
            "instances can be rebuilt here (status ok)"
        )
    RandomForestRegressor = _sklearn_forest()
    backends = tuple(well_covered(data))
    X, Y = design(data, backends)
    y_mean, y_std = Y.mean(axis=0), Y.std(axis=0)
    y_std[y_std == 0] = 1.0
    forest = RandomForestRegressor(
        n_estimators=n_trees,
        min_samples_leaf=2,
        max_depth=MAX_DEPTH,
        max_features=0.6,
        random_state=seed,
    )
    forest.fit(X, (Y - y_mean) / y_std)
    import sklearn

    meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sklearn": sklearn.__version__,
        "runs": sum(r.backend in backends for r in data.runs),
        "instances": sorted(data.features),
        "budgets": data.budgets,
        "trees": n_trees,
    }
    return from_sklearn_forest(forest, FEATURE_NAMES, backends, y_mean, y_std, meta)


def _sklearn_forest() -> Any:
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        raise KakehashiError(
            "training the router needs scikit-learn: pip install 'kakehashi[router]' "
            "(solving with backend='auto' does not)"
        ) from None
    return RandomForestRegressor


def train(
    paths: Sequence[str | Path], out: str | Path, *, seed: int = 0
) -> tuple[Path, RouterModel, Dataset]:
    """Train on the run stores at ``paths`` and write the model to ``out`` (.npz).

    Example (``kakehashi router train`` does this)::

        path, model, data = train(["bench-out/runs.sqlite"], "my-router.npz")
    """
    data = load_runs(paths)
    model = fit(data, seed=seed)
    return model.save(out), model, data
