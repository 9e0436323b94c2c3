"""Benchmark suites: which instances to run, where they come from, and their best-known values.

A suite is a TOML (or YAML, with the ``[bench]`` extra) file; see ``docs/benchmarking.md``
for the full schema and ``kakehashi/bench/suites/quick.toml`` for an example::

    [suite]
    name = "quick"
    repeats = 3
    time_limit = 0.5                      # seconds, the same for every backend
    backends = [["exact"], ["highs", "scip"], ["tabu", "reference-sa"], ["sa", "reference-sa"]]
    [suite.max_variables]
    exact = 16                            # skip exact enumeration above 16 variables

    [[instance]]
    name = "bqp50-1"
    file = "data:bqp50.txt"               # data: = kakehashi/data, shared: = ../shared/data
    options = { index = 1 }
    best_known = 2098
    best_known_sense = "max"
    source = "OR-Library (Beasley 1990)"

Each backend group lists alternatives; the first available one is used.

An instance is one of: ``file`` (read by :func:`kakehashi.load`, or by a QOBLIB reader when
``format = "qoblib-labs" | "qoblib-marketsplit" | "qoblib-mis"``), ``generator`` (a seeded
generator, :mod:`kakehashi.bench.generators`), ``app`` (a use-case template of
:mod:`kakehashi.apps` with ``instance``, ``data`` or ``params = {size, seed}``), or
``python = "module:function"`` (called with ``params``).
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from kakehashi.errors import InputFormatError, KakehashiError
from kakehashi.model.problem import Problem

SHIPPED_SUITES = ("quick", "standard")
SHARED_ENV = "KAKEHASHI_SHARED_DATA"
_KINDS = ("file", "generator", "app", "python")


class InstanceUnavailable(KakehashiError):
    """An instance of a suite cannot be built here (file absent, use case not installed)."""


def package_data_dir() -> Path:
    return Path(str(resources.files("kakehashi"))) / "data"


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the source tree, or ``$KAKEHASHI_SHARED_DATA``, if present."""
    env = os.environ.get(SHARED_ENV)
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    candidates += [
        here.parents[3] / ".." / "shared" / "data",
        Path.cwd() / ".." / "shared" / "data",
    ]
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    return None


def resolve_path(spec: str, base: Path | None = None) -> Path:
    """Turn ``data:…``, ``shared:…`` or a (suite-relative) path into a filesystem path.

    Example:
        >>> resolve_path("data:bqp50.txt").name
        'bqp50.txt'
    """
    if spec.startswith("data:"):
        return package_data_dir() / spec[5:]
    if spec.startswith("shared:"):
        root = shared_data_dir()
        if root is None:
            raise InstanceUnavailable(
                f"{spec}: the shared benchmark data (../shared/data) is not present; set "
                f"{SHARED_ENV}=/path/to/shared/data to run this instance"
            )
        return root / spec[7:]
    p = Path(spec).expanduser()
    return p if p.is_absolute() or base is None else base / p


@dataclasses.dataclass
class InstanceSpec:
    """One instance of a suite: how to build it, its best-known value, where that comes from.

    ``best_known`` is in ``best_known_sense`` (the published convention); it is converted to
    the built problem's objective by sign when the senses differ (max-cut published as a cut
    value, built as "minimise −cut"). ``"exact"`` asks for exhaustive enumeration (≤ 20
    variables).
    """

    name: str
    kind: str
    spec: dict[str, Any]
    best_known: float | str | None = None
    best_known_sense: str | None = None
    source: str = ""
    tags: tuple[str, ...] = ()
    base_dir: Path | None = None
    problem: Problem | None = None  # set for in-memory instances (kakehashi.compare)

    def build(self) -> Problem:
        """The instance as a Problem, named after the instance."""
        if self.problem is not None:
            return self.problem
        problem = _build(self)
        if not isinstance(problem, Problem):
            problem = problem.to_problem() if hasattr(problem, "to_problem") else problem
        problem.name = self.name
        return problem

    def target(self, problem: Problem) -> tuple[float | None, str]:
        """The best-known value in the problem's own objective, and its source."""
        if self.best_known is None:
            return None, ""
        if self.best_known == "exact":
            if problem.num_variables > 20:
                raise KakehashiError(
                    f"instance {self.name}: best_known = 'exact' needs ≤ 20 variables, it has "
                    f"{problem.num_variables}; give the value instead"
                )
            import kakehashi

            r = kakehashi.solve(problem, backend="exact", seed=0)
            return (r.objective if r.feasible else None), "exhaustive enumeration"
        value = float(self.best_known)
        sense = self.best_known_sense or problem.sense
        if sense not in ("min", "max"):
            raise KakehashiError(f"instance {self.name}: best_known_sense must be 'min' or 'max'")
        return (value if sense == problem.sense else -value), (self.source or "suite file")


@dataclasses.dataclass
class Suite:
    """A named list of instances with default backends, repeats and time budget."""

    name: str
    instances: list[InstanceSpec]
    description: str = ""
    repeats: int = 3
    time_limits: tuple[float, ...] = (1.0,)
    seed: int = 0
    backends: list[list[str]] = dataclasses.field(default_factory=list)
    max_variables: dict[str, int] = dataclasses.field(default_factory=dict)
    backend_options: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    path: Path | None = None

    def select(self, patterns: list[str] | None) -> Suite:
        """The suite restricted to instances matching any glob pattern (or tag)."""
        if not patterns:
            return self
        from fnmatch import fnmatch

        keep = [
            i for i in self.instances if any(fnmatch(i.name, p) or p in i.tags for p in patterns)
        ]
        if not keep:
            raise KakehashiError(
                f"no instance of suite {self.name!r} matches {', '.join(patterns)}; its instances "
                f"are {', '.join(i.name for i in self.instances)}"
            )
        return dataclasses.replace(self, instances=keep)


# ---------------------------------------------------------------------- loading suites
def shipped_suite_path(name: str) -> Path:
    return Path(str(resources.files("kakehashi.bench") / "suites" / f"{name}.toml"))


def load_suite(name_or_path: str | Path) -> Suite:
    """Read a shipped suite (``"quick"``, ``"standard"``) or a suite file (.toml/.yaml).

    Example:
        >>> s = load_suite("quick")
        >>> s.name, len(s.instances) > 3
        ('quick', True)
    """
    text_name = str(name_or_path)
    if text_name in SHIPPED_SUITES:
        path = shipped_suite_path(text_name)
    else:
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise KakehashiError(
                f"no suite named {text_name!r}: not a shipped suite ({', '.join(SHIPPED_SUITES)}) "
                "and not a file; give a suite name or the path of a .toml/.yaml suite file"
            )
    return parse_suite(_read_document(path), base_dir=path.parent, path=path)


def _read_document(path: Path) -> dict[str, Any]:
    from kakehashi.model.io.readers_common import read_bytes

    raw = read_bytes(path)  # bounded, like every reader
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise KakehashiError(
                "YAML suites need PyYAML: pip install 'kakehashi[bench]' "
                "(or write the suite in TOML)"
            ) from None
        try:
            doc = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise InputFormatError(f"{path}: not valid YAML ({exc})") from None
    else:
        try:
            doc = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise InputFormatError(
                f"{path}: not valid TOML ({exc}); fix the line it names"
            ) from None
    if not isinstance(doc, dict):
        raise InputFormatError(
            f"{path}: a suite file is a table with [suite] and [[instance]] entries"
        )
    return doc


def parse_suite(
    doc: dict[str, Any], *, base_dir: Path | None = None, path: Path | None = None
) -> Suite:
    """Build a :class:`Suite` from a parsed document, checking every field."""
    where = str(path or "suite")
    head = doc.get("suite", {})
    if not isinstance(head, dict):
        raise InputFormatError(f"{where}: [suite] must be a table of settings (name, backends …)")
    unknown = set(doc) - {"suite", "instance"}
    if unknown:
        raise InputFormatError(
            f"{where}: unknown top-level keys {sorted(unknown)}; use [suite] and [[instance]]"
        )
    raw_instances = doc.get("instance", [])
    if not isinstance(raw_instances, list) or not raw_instances:
        raise InputFormatError(f"{where}: the suite lists no [[instance]] entries")
    instances, seen = [], set()
    for k, raw in enumerate(raw_instances):
        inst = _parse_instance(raw, k, where, base_dir)
        if inst.name in seen:
            raise InputFormatError(
                f"{where}: instance name {inst.name!r} appears twice; names must be unique"
            )
        seen.add(inst.name)
        instances.append(inst)
    return Suite(
        name=_text(head, "name", path.stem if path else "suite", where),
        description=_text(head, "description", "", where),
        instances=instances,
        repeats=_repeats(head, where),
        time_limits=_time_limits(head, where),
        seed=_seed(head, where),
        backends=_backend_groups(head, where),
        max_variables=_max_variables(head, where),
        backend_options=_backend_options(head, where),
        path=path,
    )


# ------------------------------------------------------------------ [suite] values, checked
# each names the key and what it expects, so a typo in a suite file is one clear line
MAX_REPEATS = 10_000


def _bad(where: str, key: str, value: Any, expected: str) -> InputFormatError:
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return InputFormatError(f"{where}: [suite] {key} = {shown} is not valid; expected {expected}")


def _text(head: dict, key: str, default: str, where: str) -> str:
    value = head.get(key, default)
    if not isinstance(value, str):
        raise _bad(where, key, value, "a string")
    return value


def _time_limits(head: dict, where: str) -> tuple[float, ...]:
    from kakehashi.backends.arguments import MAX_TIME_LIMIT, check_time_limit

    raw = head.get("time_limit", 1.0)
    values = raw if isinstance(raw, list) else [raw]
    expected = (
        "positive seconds: a number or a list of numbers, each finite and "
        f"≤ {MAX_TIME_LIMIT:.0f} (one week)"
    )
    if not values:
        raise _bad(where, "time_limit", raw, expected)
    try:
        return tuple(check_time_limit(v) for v in values)
    except KakehashiError:
        raise _bad(where, "time_limit", raw, expected) from None


def _repeats(head: dict, where: str) -> int:
    value = head.get("repeats", 3)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REPEATS:
        raise _bad(where, "repeats", value, f"a whole number of runs in [1, {MAX_REPEATS}]")
    return value


def _seed(head: dict, where: str) -> int:
    from kakehashi.backends.arguments import MAX_SEED, check_seed

    value = head.get("seed", 0)
    try:
        return check_seed(value)
    except KakehashiError:
        raise _bad(where, "seed", value, f"a whole number in [0, {MAX_SEED}]") from None


def _backend_groups(head: dict, where: str) -> list[list[str]]:
    raw = head.get("backends", [])
    expected = 'a list of backend names, e.g. ["tabu", "sa"] (an inner list is a group)'
    if not isinstance(raw, list):
        raise _bad(where, "backends", raw, expected)
    groups = []
    for item in raw:
        group = [item] if isinstance(item, str) else item
        if not isinstance(group, list) or not group or not all(isinstance(g, str) for g in group):
            raise _bad(where, "backends", raw, expected)
        groups.append(list(group))
    return groups


def _max_variables(head: dict, where: str) -> dict[str, int]:
    raw = head.get("max_variables", {})
    expected = "a table {backend = whole number ≥ 1}, e.g. { exact = 20 }"
    if not isinstance(raw, dict):
        raise _bad(where, "max_variables", raw, expected)
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _bad(where, f"max_variables.{key}", value, "a whole number ≥ 1")
    return {str(k): int(v) for k, v in raw.items()}


def _backend_options(head: dict, where: str) -> dict[str, dict[str, Any]]:
    raw = head.get("backend_options", {})
    if not isinstance(raw, dict):
        raise _bad(
            where, "backend_options", raw, "a table of tables, e.g. [suite.backend_options.sa]"
        )
    for key, value in raw.items():
        if not isinstance(value, dict):
            raise _bad(where, f"backend_options.{key}", value, "a table {option = value}")
    return {str(k): dict(v) for k, v in raw.items()}


def _parse_instance(raw: Any, k: int, where: str, base_dir: Path | None) -> InstanceSpec:
    if not isinstance(raw, dict) or "name" not in raw:
        raise InputFormatError(
            f"{where}: instance #{k + 1} needs a name (and one of {', '.join(_KINDS)})"
        )
    name = str(raw["name"])
    kinds = [kd for kd in _KINDS if kd in raw]
    if "app" in kinds and "file" in kinds:
        kinds.remove("file")
    if len(kinds) != 1:
        raise InputFormatError(
            f"{where}: instance {name!r} must give exactly one of {', '.join(_KINDS)} "
            f"(got {kinds or 'none'})"
        )
    sense = raw.get("best_known_sense")
    if sense is not None and sense not in ("min", "max"):
        raise InputFormatError(
            f"{where}: instance {name!r}: best_known_sense must be 'min' or 'max'"
        )
    bk = raw.get("best_known")
    if bk is not None and not (
        (isinstance(bk, (int, float)) and not isinstance(bk, bool) and math.isfinite(bk))
        or bk == "exact"
    ):
        raise InputFormatError(
            f"{where}: instance {name!r}: best_known must be a number or 'exact'"
        )
    for key in ("params", "options"):
        if key in raw and not isinstance(raw[key], dict):
            raise InputFormatError(
                f"{where}: instance {name!r}: {key} = {raw[key]!r} is not valid; expected a "
                "table {key = value}"
            )
    tags = raw.get("tags", ())
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        raise InputFormatError(
            f"{where}: instance {name!r}: tags = {tags!r} is not valid; expected a list of strings"
        )
    return InstanceSpec(
        name=name,
        kind=kinds[0],
        spec=dict(raw),
        best_known=bk,
        best_known_sense=sense,
        source=str(raw.get("source", "")),
        tags=tuple(raw.get("tags", ())),
        base_dir=base_dir,
    )


# ---------------------------------------------------------------------- building instances
def _build(inst: InstanceSpec) -> Any:
    s = inst.spec
    if inst.kind == "file":
        path = resolve_path(str(s["file"]), inst.base_dir)
        if not path.is_file():
            raise InstanceUnavailable(f"instance {inst.name}: file {path} is not present")
        fmt = s.get("format")
        options = dict(s.get("options", {}))
        from kakehashi.bench.qoblib import READERS

        if fmt in READERS:
            return READERS[fmt](path, **options)
        from kakehashi.model.io import load

        return load(path, format=fmt, **options)
    if inst.kind == "generator":
        from kakehashi.bench.generators import generate

        return generate(str(s["generator"]), dict(s.get("params", {})))
    if inst.kind == "app":
        return _build_app(inst)
    module_name, _, func_name = str(s["python"]).partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise InstanceUnavailable(
            f"instance {inst.name}: cannot import {s['python']!r} ({exc})"
        ) from None
    return fn(**dict(s.get("params", {})))


def _build_app(inst: InstanceSpec) -> Any:
    s = inst.spec
    try:
        from kakehashi.apps import get_use_case

        use_case = get_use_case(str(s["app"]))
    except (ImportError, KakehashiError) as exc:
        raise InstanceUnavailable(
            f"instance {inst.name}: use case {s['app']!r} is not available ({exc})"
        ) from None
    if "data" in s or "file" in s:
        path = resolve_path(str(s.get("data", s.get("file"))), inst.base_dir)
        if not path.is_file():
            raise InstanceUnavailable(f"instance {inst.name}: file {path} is not present")
        data = use_case.read(path)
    elif "instance" in s:
        data = use_case.load(str(s["instance"]))
    else:
        params = dict(s.get("params", {}))
        data = use_case.generate(int(params.pop("size", 8)), seed=params.pop("seed", 0), **params)
    return use_case.build(data)
