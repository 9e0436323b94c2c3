"""``kakehashi.compare``: the same problems on several backends, honestly compared.

Example:
    >>> import kakehashi
    >>> cmp = kakehashi.compare([kakehashi.examples.small_maxcut()], ["exact", "reference-sa"],
    ...                         repeats=2, time_limit=0.2, warmup=False)
    >>> sorted(cmp.table().backend)
    ['exact', 'reference-sa']
    >>> cmp.baseline
    'exact'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kakehashi.backends.base import Backend
from kakehashi.bench.accounting import AccountingConfig
from kakehashi.bench.baseline import ensure_baseline, resolve_backends
from kakehashi.bench.runner import BenchOutcome, BenchPlan, run_plan
from kakehashi.bench.store import RunStore
from kakehashi.bench.suite import InstanceSpec, Suite, load_suite
from kakehashi.errors import KakehashiError

# what a reader needs first; the rest stays available with table("all")
KEY_COLUMNS = ("instance", "backend", "time_limit", "success_p", "tts99", "median_gap", "money",
               "co2_g")  # fmt: skip


@dataclasses.dataclass
class Comparison:
    """The runs of a comparison and everything computed from them.

    ``table()`` is one row per (instance, backend, budget); ``backends_table()`` one row per
    backend; ``runs()`` one row per run; ``summary()`` the plain-language verdict naming the
    classical baseline; ``report(path)`` writes the HTML page with Markdown and CSV beside it.
    """

    store: RunStore
    outcome: BenchOutcome = dataclasses.field(default_factory=BenchOutcome)
    requested_baseline: str | None = None
    target_gap: float = 0.0
    notes: list[str] = dataclasses.field(default_factory=list)
    _analysis: Any = None

    @classmethod
    def from_store(cls, path: str | Path, **kwargs: Any) -> Comparison:
        """Reopen the comparison held in a runs store (``runs.sqlite`` or its folder)."""
        return cls(RunStore.open_existing(path), **kwargs)

    def analysis(self, **overrides: Any) -> Any:
        from kakehashi.bench.analysis import analyse

        if overrides or self._analysis is None:
            kwargs = {
                "target_gap": self.target_gap,
                "baseline": self.requested_baseline,
                **overrides,
            }
            an = analyse(self.store, **kwargs)  # notes come from the store
            if overrides:
                return an
            self._analysis = an
        return self._analysis

    @property
    def baseline(self) -> str | None:
        """The classical baseline the report names."""
        return self.analysis().baseline

    def table(self, columns: str | Sequence[str] = "key") -> Any:
        """Per (instance, backend, budget), a pandas DataFrame. By default the key columns —
        instance, backend, budget, success probability, TTS99, median gap, money and CO2 per
        run —; ``columns="all"`` gives every column (intervals, time spread, energy, sources,
        projections onto real machines …), or pass a list of names.

        Example:
            >>> import kakehashi
            >>> cmp = kakehashi.compare(kakehashi.examples.small_maxcut(), ["exact"],
            ...                         repeats=1, time_limit=0.1, warmup=False)
            >>> list(cmp.table().columns)  # doctest: +NORMALIZE_WHITESPACE
            ['instance', 'backend', 'time_limit', 'success_p', 'tts99', 'median_gap',
             'money', 'co2_g']
            >>> len(cmp.table("all").columns) > 30
            True
        """
        full = self.analysis().table
        if isinstance(columns, str) and columns == "all":
            return full
        names = list(KEY_COLUMNS) if isinstance(columns, str) and columns == "key" else columns
        if isinstance(names, str):
            raise KakehashiError(f"columns={columns!r}: use 'key', 'all' or a list of names")
        missing = [c for c in names if c not in full.columns]
        if missing:
            raise KakehashiError(
                f"no column(s) {missing} in the comparison table; it has {list(full.columns)}"
            )
        return full[[c for c in names if c in full.columns]]

    def backends_table(self) -> Any:
        """Per backend: instances solved, mean success, TTS99 geo-mean, costs, Pareto flag."""
        return self.analysis().backends

    def runs(self) -> Any:
        """Every run with its derived columns (target, gap, success, overran)."""
        return self.analysis().runs

    def summary(self) -> str:
        """The verdict (use X, the best quantum machine, break-even, outlook), then how each
        machine did against the classical baseline."""
        from kakehashi.bench.summary import summary_lines
        from kakehashi.bench.verdict import verdict_lines

        an = self.analysis()
        return "\n\n".join([*verdict_lines(an), *summary_lines(an)])

    def report(self, path: str | Path, *, title: str | None = None) -> dict[str, Path]:
        """Write the HTML report at ``path`` plus ``.md``, ``.csv`` and ``-runs.csv`` beside it."""
        from kakehashi.bench.report import write_report

        return write_report(self.analysis(), path, title=title)

    def __repr__(self) -> str:
        return f"Comparison({self.store.count()} runs in {self.store.path})"


def _as_instances(problems: Any, best_known: Any) -> list[InstanceSpec]:
    from kakehashi.solve import as_problem

    if isinstance(problems, Mapping):
        items = list(problems.items())
    else:
        seq = (
            problems
            if isinstance(problems, Sequence) and not isinstance(problems, (str, bytes))
            else [problems]
        )
        items = [(None, p) for p in seq]
    if not items:
        raise KakehashiError("compare() needs at least one problem")
    if isinstance(best_known, Mapping):
        bk_map = dict(best_known)
    elif best_known is None:
        bk_map = {}
    else:
        bks = list(best_known) if isinstance(best_known, Sequence) else [best_known]
        if len(bks) != len(items):
            raise KakehashiError(
                f"best_known has {len(bks)} values for {len(items)} problems; give one per problem"
            )
        bk_map = {k: v for k, v in enumerate(bks)}
    out, seen = [], set()
    for k, (name, obj) in enumerate(items):
        prob = as_problem(obj)
        base = str(name or prob.name or f"problem{k}")
        label, j = base, 2
        while label in seen:
            label, j = f"{base}-{j}", j + 1
        seen.add(label)
        bk = bk_map.get(label, bk_map.get(k, bk_map.get(base)))
        out.append(
            InstanceSpec(
                label,
                "python",
                {"python": "in-memory"},
                best_known=bk,
                source="given",
                problem=prob,
            )
        )
    return out


def compare(
    problems: Any,
    backends: Sequence[str | Backend] | None = None,
    *,
    repeats: int = 3,
    time_limit: float | Sequence[float] = 1.0,
    seed: int = 0,
    best_known: Any = None,
    baseline: str = "auto",
    target_gap: float = 0.0,
    store: str | Path | None = None,
    accounting: AccountingConfig | None = None,
    progress: bool = False,
    warmup: bool = True,
) -> Comparison:
    """Run every problem on every backend ``repeats`` times with the same ``time_limit``.

    ``problems``: a problem, a list, or ``{name: problem}`` (anything :func:`kakehashi.solve`
    accepts). ``backends``: names or Backend objects; by default the quick suite's choice
    (an exact solver and the best heuristics available). ``best_known``: target values in
    each problem's own objective (a dict by name, or a list), else the best found by any
    backend. ``baseline``: ``"auto"`` adds a classical backend when none is listed,
    ``"require"`` refuses instead, a name adds and names that one. ``store``: a SQLite path
    to keep (and resume) the runs; in memory by default.

    Example:
        >>> import kakehashi
        >>> cmp = kakehashi.compare(kakehashi.examples.knapsack(10), ["reference-sa", "exact"],
        ...                         repeats=2, time_limit=0.2, warmup=False)
        >>> bool(cmp.table().success_p.max() > 0)
        True
    """
    instances = _as_instances(problems, best_known)
    groups = load_suite("quick").backends if not backends else ()
    chosen, notes = resolve_backends(backends, groups)
    chosen, named, more = ensure_baseline(chosen, baseline)
    notes += more
    limits = (
        (float(time_limit),)
        if isinstance(time_limit, (int, float))
        else tuple(float(t) for t in time_limit)
    )
    plan = BenchPlan(
        instances=instances,
        backends=chosen,
        repeats=repeats,
        time_limits=limits,
        seed=seed,
        suite="compare",
        accounting=accounting or AccountingConfig(),
        warmup=warmup,
    )
    return _run(plan, store, notes, progress, named, target_gap)


def compare_suite(
    suite: str | Path | Suite,
    backends: Sequence[str | Backend] | None = None,
    *,
    instances: Sequence[str] | None = None,
    repeats: int | None = None,
    time_limit: float | Sequence[float] | None = None,
    seed: int | None = None,
    baseline: str = "auto",
    target_gap: float = 0.0,
    store: str | Path | None = None,
    accounting: AccountingConfig | None = None,
    progress: bool = False,
    warmup: bool = True,
) -> Comparison:
    """A benchmark suite run as ``kakehashi bench`` runs it, returned as a :class:`Comparison`.

    ``suite``: a shipped suite's name (``"quick"``, ``"standard"``), a suite file, or a
    :class:`~kakehashi.bench.suite.Suite`. Unlike :func:`compare`, the suite's own settings
    apply: its published best-known values are the targets, its ``max_variables`` skips
    runs it marks as hopeless, its ``backend_options`` are passed on, and without
    ``backends`` each of its backend groups gives its first available alternative.
    ``instances``: names, glob patterns or tags (as ``kakehashi bench --instances``);
    ``repeats``, ``time_limit`` and ``seed`` default to the suite's.

    Example:
        >>> from kakehashi.bench.compare import compare_suite
        >>> cmp = compare_suite("quick", ["exact"], instances=["maxcut-g16"], repeats=1,
        ...                     time_limit=0.2, warmup=False)
        >>> list(cmp.table().instance), cmp.baseline
        (['maxcut-g16'], 'exact')
    """
    from kakehashi.bench.runner import plan_from_suite

    chosen_suite = (suite if isinstance(suite, Suite) else load_suite(suite)).select(
        list(instances) if instances else None
    )
    chosen, notes = resolve_backends(backends, chosen_suite.backends)
    chosen, named, more = ensure_baseline(chosen, baseline)
    notes += more
    limits = (
        None
        if time_limit is None
        else (float(time_limit),)
        if isinstance(time_limit, (int, float))
        else tuple(float(t) for t in time_limit)
    )
    plan = plan_from_suite(
        chosen_suite,
        chosen,
        repeats=repeats,
        time_limits=limits,
        seed=seed,
        accounting=accounting,
        warmup=warmup,
    )
    return _run(plan, store, notes, progress, named, target_gap)


def _run(plan, store, notes: list[str], progress, named, target_gap) -> Comparison:
    """Run ``plan`` into ``store`` (in memory when None) and wrap what it gave; Ctrl-C
    interrupts as ``KeyboardInterrupt``. The tail of :func:`compare` and
    :func:`compare_suite`."""
    run_store = RunStore(store if store is not None else ":memory:")
    run_store.add_notes(notes)
    outcome = run_plan(plan, run_store, progress=progress)
    run_store.add_notes(outcome.notes)
    if outcome.interrupted:
        raise KeyboardInterrupt
    return Comparison(
        run_store, outcome, requested_baseline=named, target_gap=target_gap, notes=notes
    )
