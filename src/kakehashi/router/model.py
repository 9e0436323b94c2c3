"""The router's model file: a random forest trained by scikit-learn, stored as plain arrays.

Training needs scikit-learn (the ``[router]`` extra); prediction does not. The forest's
trees are saved as numpy arrays in one ``.npz`` (no pickle: a model file is data, safe to
load from anyone, and readable by any numpy), and :meth:`RouterModel.predict` walks all
trees at once in numpy in well under a millisecond — importing scikit-learn alone takes
about 1.3 s here, far more than the router may spend on a 1 s budget.

One forest predicts, for one (instance features, log budget, backend) row, three outputs:

* ``gap_score`` = log10(min(gap, 1) + 1e-4), gap relative to the best known value (2 when
  the run found nothing feasible);
* ``log_seconds`` = log10 of the run's wall time;
* ``reached`` = 1 when the run reached the best known value (its mean over a leaf is the
  chance of reaching it).
"""

from __future__ import annotations

import dataclasses
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.errors import KakehashiError

MODEL_ENV = "KAKEHASHI_ROUTER_MODEL"
DEFAULT_MODEL_FILE = "default_model.npz"
OUTPUTS = ("gap_score", "log_seconds", "reached")
GAP_FLOOR = 1e-4
INFEASIBLE_GAP = 2.0
FORMAT = 1


class RouterModelError(KakehashiError):
    """A router model file cannot be read (missing, corrupt, or from another format)."""


def gap_score(gap: float | None) -> float:
    """The model's quality target for a relative gap (``None``: nothing feasible found).

    Example:
        >>> round(gap_score(0.0), 3), round(gap_score(None), 3)
        (-4.0, 0.301)
    """
    g = INFEASIBLE_GAP if gap is None else min(max(gap, 0.0), 1.0)
    return float(np.log10(g + GAP_FLOOR))


def gap_from_score(score: float) -> float:
    """Inverse of :func:`gap_score` (values above 1 mean "likely infeasible")."""
    return float(max(10.0**score - GAP_FLOOR, 0.0))


@dataclasses.dataclass
class RouterModel:
    """A trained forest over ``feature_names + ["log_budget"] + one-hot backends``."""

    feature_names: tuple[str, ...]
    backends: tuple[str, ...]
    left: np.ndarray  # int32 (nodes,), -1 at leaves; indices are global over all trees
    right: np.ndarray
    feature: np.ndarray  # int32 (nodes,)
    threshold: np.ndarray  # float64 (nodes,)
    value: np.ndarray  # float32 (nodes, outputs), already un-scaled
    roots: np.ndarray  # int32 (trees,)
    depth: int
    meta: dict[str, Any]
    path: str = ""

    @property
    def num_inputs(self) -> int:
        return len(self.feature_names) + 1 + len(self.backends)

    def rows(self, feats: np.ndarray, budget: float, backends: list[str]) -> np.ndarray:
        """Model inputs: one row per backend (all must be in :attr:`backends`)."""
        X = np.zeros((len(backends), self.num_inputs))
        X[:, : len(self.feature_names)] = feats
        X[:, len(self.feature_names)] = np.log10(budget)
        for r, name in enumerate(backends):
            X[r, len(self.feature_names) + 1 + self.backends.index(name)] = 1.0
        return X

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Mean over trees of the leaf values for each row of ``X``: shape (rows, outputs).

        Example:
            >>> m = load_model()
            >>> m.predict(np.zeros((1, m.num_inputs))).shape
            (1, 3)
        """
        # scikit-learn's trees compare float32 inputs with their thresholds: so do we
        X = np.atleast_2d(np.asarray(X, dtype=np.float32)).astype(np.float64)
        node = np.broadcast_to(self.roots, (X.shape[0], self.roots.size)).copy()
        rows = np.arange(X.shape[0])[:, None]
        for _ in range(self.depth):
            left = self.left[node]
            inner = left >= 0
            if not inner.any():
                break
            go_left = X[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, left, self.right[node]), node)
        return self.value[node].mean(axis=1, dtype=np.float64)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            left=self.left, right=self.right, feature=self.feature,
            threshold=self.threshold, value=self.value, roots=self.roots,
            depth=np.array(self.depth),
            header=np.array(json.dumps({
                "format": FORMAT, "feature_names": list(self.feature_names),
                "backends": list(self.backends), "outputs": list(OUTPUTS), "meta": self.meta,
            })),
        )  # fmt: skip
        return path


def from_sklearn_forest(
    forest: Any, feature_names: tuple[str, ...], backends: tuple[str, ...],
    y_mean: np.ndarray, y_std: np.ndarray, meta: dict[str, Any],
) -> RouterModel:  # fmt: skip
    """Flatten a fitted ``RandomForestRegressor`` (outputs standardised by ``y_mean``,
    ``y_std``) into a :class:`RouterModel`."""
    lefts, rights, feats, thrs, vals, roots = [], [], [], [], [], []
    offset, depth = 0, 0
    for est in forest.estimators_:
        t = est.tree_
        roots.append(offset)
        leaf = t.children_left < 0
        lefts.append(np.where(leaf, -1, t.children_left + offset))
        rights.append(np.where(leaf, -1, t.children_right + offset))
        feats.append(np.where(leaf, 0, t.feature))
        thrs.append(t.threshold)
        vals.append(t.value[:, :, 0] * y_std + y_mean)
        offset += t.node_count
        depth = max(depth, int(t.max_depth))
    return RouterModel(
        feature_names=tuple(feature_names),
        backends=tuple(backends),
        left=np.concatenate(lefts).astype(np.int32),
        right=np.concatenate(rights).astype(np.int32),
        feature=np.concatenate(feats).astype(np.int32),
        threshold=np.concatenate(thrs).astype(np.float64),
        value=np.concatenate(vals).astype(np.float32),  # leaf means: float32 is plenty
        roots=np.array(roots, dtype=np.int32),
        depth=depth + 1,
        meta=meta,
    )


def default_model_path() -> Path:
    return Path(str(resources.files("kakehashi.router"))) / DEFAULT_MODEL_FILE


def model_source(router: str | os.PathLike | None = None) -> str | None:
    """Which model to use: ``router=`` first, then ``$KAKEHASHI_ROUTER_MODEL``, else the
    shipped default; ``"rule"`` (either place) means no model, the fixed rule."""
    if router is not None:
        return str(router)
    env = os.environ.get(MODEL_ENV)
    return env if env else None


_CACHE: dict[tuple[str, float], RouterModel] = {}


def load_model(path: str | os.PathLike | None = None) -> RouterModel:
    """Read a router model (``None``: the one shipped in the package), cached by mtime.

    Example:
        >>> "tabu" in load_model().backends
        True
    """
    p = Path(path) if path is not None else default_model_path()
    try:
        key = (str(p), os.stat(p).st_mtime)
    except OSError:
        raise RouterModelError(
            f"no router model at {p}; give an existing model file (router=, --router or "
            f"${MODEL_ENV}), or train one with `kakehashi router train RUNS --out {p}`"
        ) from None
    if key in _CACHE:
        return _CACHE[key]
    try:
        with np.load(p, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            model = RouterModel(
                feature_names=tuple(header["feature_names"]),
                backends=tuple(header["backends"]),
                left=z["left"], right=z["right"], feature=z["feature"],
                threshold=z["threshold"], value=z["value"], roots=z["roots"],
                depth=int(z["depth"]), meta=dict(header.get("meta", {})), path=str(p),
            )  # fmt: skip
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise RouterModelError(
            f"{p} is not a kakehashi router model ({type(exc).__name__}: {exc}); retrain it "
            "with `kakehashi router train`"
        ) from None
    if header.get("format") != FORMAT:
        raise RouterModelError(
            f"{p} has router model format {header.get('format')}, this kakehashi reads "
            f"{FORMAT}; retrain it with `kakehashi router train`"
        )
    _CACHE[key] = model
    return model
