"""Benchmarking and honest comparison: suites, runner, runs store, metrics, reports.

Example:
    >>> from kakehashi.bench import load_suite, tts99
    >>> load_suite("quick").name, tts99(1.0, 1.0)
    ('quick', 1.0)
"""

from kakehashi.bench.accounting import JAPAN_GRID, AccountingConfig, GridIntensity
from kakehashi.bench.metrics import bootstrap_ci, gap, pareto_front, tts, tts99, tts_with_ci
from kakehashi.bench.store import RunStore
from kakehashi.bench.suite import InstanceSpec, Suite, load_suite

__all__ = [
    "JAPAN_GRID",
    "AccountingConfig",
    "Comparison",
    "GridIntensity",
    "InstanceSpec",
    "RunStore",
    "Suite",
    "bootstrap_ci",
    "gap",
    "load_suite",
    "pareto_front",
    "tts",
    "tts99",
    "tts_with_ci",
]


def __getattr__(name: str):
    # Comparison pulls in the runner; keep `import kakehashi.bench` light (use kakehashi.compare)
    if name == "Comparison":
        from kakehashi.bench.compare import Comparison

        return Comparison
    raise AttributeError(f"module 'kakehashi.bench' has no attribute {name!r}")
