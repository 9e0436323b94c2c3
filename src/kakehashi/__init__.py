"""kakehashi (架け橋, "bridge"): one optimisation problem, many machines, honest comparison.

Example:
    >>> import kakehashi
    >>> result = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="exact")
    >>> result.objective, result.feasible
    (-5.0, True)
"""

from __future__ import annotations

from typing import Any

from kakehashi import examples
from kakehashi.backends import backend_names, get_backend
from kakehashi.errors import KakehashiError
from kakehashi.model.problem import Problem
from kakehashi.result import Result
from kakehashi.solve import solve

__version__ = "0.1.0"

__all__ = [
    "Client",
    "KakehashiError",
    "Model",
    "Problem",
    "Result",
    "backend_names",
    "compare",
    "examples",
    "get_backend",
    "load",
    "save",
    "solve",
]


def load(path: Any, **options: Any) -> Problem:
    """Read a problem file (.mps, .qplib, .ommx, .opb, Gset, bqp, JSON QUBO) into a Problem."""
    from kakehashi.model.io import load as _load

    return _load(path, **options)


def save(problem: Problem, path: Any, **options: Any) -> None:
    """Write a problem to .ommx, .mps or .json (chosen by the file's suffix)."""
    from kakehashi.model.io import save as _save

    _save(problem, path, **options)


def __getattr__(name: str) -> Any:
    # Imported lazily so that `import kakehashi` stays fast and light.
    if name == "Model":
        from kakehashi.model.model import Model

        return Model
    if name == "Client":
        from kakehashi.client import Client

        return Client
    if name == "compare":
        from kakehashi.bench.compare import compare

        return compare
    raise AttributeError(f"module 'kakehashi' has no attribute {name!r}")
