"""The benchmark suites a comparison can name (``POST /v1/comparisons`` with ``suite=``).

Only the suites shipped with kakehashi (:data:`kakehashi.bench.suite.SHIPPED_SUITES`) are
offered, by name: a tenant never passes a path, so the server reads nothing of its disk but
the suites' own instances (shipped data, and ``../shared/data`` where the server has it).

Example:
    >>> s = named_suite("quick")
    >>> [i.name for i in select(s, ["maxcut-*", "bqp50-1"]).instances]
    ['maxcut-g16', 'bqp50-1']
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from kakehashi.bench.suite import (
    SHIPPED_SUITES,
    InstanceSpec,
    InstanceUnavailable,
    Suite,
    load_suite,
    resolve_path,
)
from kakehashi.errors import KakehashiError
from kakehashi.model.problem import Problem
from kakehashi.service.errors import BadRequestError

# a comparison runs at most this many problems, uploaded or from a suite
MAX_INSTANCES = 20
_MAX_PATTERN = 200


def suite_names() -> tuple[str, ...]:
    return tuple(SHIPPED_SUITES)


@functools.lru_cache(maxsize=len(SHIPPED_SUITES))
def _load(name: str) -> Suite:
    return load_suite(name)


def named_suite(name: str) -> Suite:
    """The suite called ``name``; a 400 listing the valid names otherwise."""
    name = name.strip()
    if name not in suite_names():
        raise BadRequestError(
            f"no suite named {name[:_MAX_PATTERN]!r}; this server offers "
            f"{', '.join(suite_names())}",
            fix=f"use suite={suite_names()[0]} (or another listed by GET /v1/suites), "
            "or upload the problems as files",
            code="unknown_suite",
        )
    return _load(name)


def select(suite: Suite, patterns: list[str] | None) -> Suite:
    """``suite`` restricted to the instances matching any name, glob or tag in ``patterns``
    (all of them when none), bounded to :data:`MAX_INSTANCES`."""
    patterns = [p.strip() for p in patterns or [] if p.strip()]
    if len(patterns) > MAX_INSTANCES or any(len(p) > _MAX_PATTERN for p in patterns):
        raise BadRequestError(
            f"instances= takes at most {MAX_INSTANCES} names of up to {_MAX_PATTERN} characters",
            fix="name fewer instances, or use a glob (maxcut-*) or a tag",
        )
    try:
        chosen = suite.select(patterns or None)
    except KakehashiError as exc:
        raise BadRequestError(
            str(exc), fix=f"see GET /v1/suites for suite {suite.name}'s instances"
        ) from exc
    if len(chosen.instances) > MAX_INSTANCES:
        raise BadRequestError(
            f"suite {suite.name} selects {len(chosen.instances)} instances; a comparison "
            f"runs at most {MAX_INSTANCES}",
            fix="choose some with instances= (names, globs such as maxcut-*, or tags)",
        )
    return chosen


def only(suite: Suite, names: list[str]) -> Suite:
    """``suite`` restricted to exactly the instances named (in the suite's order)."""
    wanted = set(names)
    return dataclasses.replace(suite, instances=[i for i in suite.instances if i.name in wanted])


def build(suite: Suite) -> tuple[list[tuple[InstanceSpec, Problem]], list[str]]:
    """Every instance of ``suite`` built here, and a note for each one this server cannot
    build (its data file absent or unreadable, its use case not installed)."""
    built, notes = [], []
    for inst in suite.instances:
        try:
            built.append((inst, inst.build()))
        except InstanceUnavailable as exc:
            notes.append(f"instance {inst.name} not run: {exc}")
        except KakehashiError as exc:  # a damaged data file: the others still run
            notes.append(f"instance {inst.name} not run: it could not be built ({exc})")
    if not built:
        raise BadRequestError(
            f"no instance of suite {suite.name} can be built on this server: " + "; ".join(notes),
            fix="choose other instances, or upload the problems as files",
        )
    return built, notes


def describe(suite: Suite) -> dict[str, Any]:
    """What GET /v1/suites says of a suite: its defaults and its instances."""
    return {
        "name": suite.name,
        "description": suite.description,
        "repeats": suite.repeats,
        "time_limit": suite.time_limits[0],
        "seed": suite.seed,
        "backends": [list(g) for g in suite.backends],
        "max_variables": dict(suite.max_variables),
        "instances": [_describe_instance(i) for i in suite.instances],
    }


def _describe_instance(inst: InstanceSpec) -> dict[str, Any]:
    available, reason = _data_present(inst)
    return {
        "name": inst.name,
        "kind": inst.kind,
        "tags": list(inst.tags),
        "best_known": inst.best_known,
        "best_known_sense": inst.best_known_sense,
        "source": inst.source,
        "available": available,
        "reason": reason,
    }


def _data_present(inst: InstanceSpec) -> tuple[bool, str]:
    """Whether an instance's data file is on this server (checked without building it)."""
    spec = inst.spec.get("data", inst.spec.get("file"))
    if spec is None:
        return True, ""
    try:
        path = resolve_path(str(spec), inst.base_dir)
    except InstanceUnavailable as exc:
        return False, str(exc)
    return (True, "") if path.is_file() else (False, f"file {path.name} is not on this server")


@functools.lru_cache(maxsize=1)
def listing() -> list[dict[str, Any]]:
    """Every suite this server offers, described (cached: the shipped suites do not change)."""
    return [describe(_load(name)) for name in suite_names()]
