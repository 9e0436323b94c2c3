"""Choosing backends for a comparison, and keeping a classical baseline in every one.

Honesty rule: a comparison that holds no classical backend is not a comparison. With
``baseline="auto"`` (the default) the strongest available classical backend is added and
the report says so; with ``baseline="require"`` the comparison refuses to run; with a
backend name, that backend is added if missing and named as the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kakehashi.backends.base import Backend, get_backend
from kakehashi.errors import KakehashiError

# What "auto" adds when a comparison has no classical backend: the strongest classical
# heuristics first (tabu search leads published QUBO comparisons), then exact MIP solvers.
BASELINE_PREFERENCE = ("tabu", "sa", "highs", "scip", "cpsat", "dwave-tabu", "reference-sa")


def is_classical(backend: Backend) -> bool:
    return str(getattr(backend.info, "modality", "")).startswith("classical")


def _lookup(name: str) -> tuple[Backend | None, str]:
    try:
        b = get_backend(name)
    except KakehashiError as exc:
        return None, str(exc)
    avail = b.available()
    if not avail:
        return None, f"{name}: {avail.reason}. {avail.fix}".strip()
    return b, ""


def resolve_backends(
    requested: Sequence[str | Backend] | None, groups: Sequence[Sequence[str]] = ()
) -> tuple[list[Backend], list[str]]:
    """The backends to run and notes on any left out.

    ``requested`` names are all used when available (each missing one is noted); without
    them each suite group contributes its first available alternative.

    Example:
        >>> bs, notes = resolve_backends(None, [["no-such-backend", "exact"]])
        >>> [b.name for b in bs]
        ['exact']
    """
    chosen: list[Backend] = []
    notes: list[str] = []
    if requested:
        for item in requested:
            if not isinstance(item, str):
                chosen.append(item)
                continue
            b, why = _lookup(item)
            if b is None:
                notes.append(f"backend {item} not run: {why}")
            else:
                chosen.append(b)
    else:
        for group in groups:
            for k, name in enumerate(group):
                b, why = _lookup(name)
                if b is not None:
                    if k:
                        notes.append(
                            f"{name} stands in for {', '.join(group[:k])} (not available here)"
                        )
                    chosen.append(b)
                    break
            else:
                notes.append(
                    f"no backend of {', '.join(group)} is available here; that slot is empty"
                )
    unique: dict[str, Backend] = {}
    for b in chosen:
        unique.setdefault(b.name, b)
    if not unique:
        raise KakehashiError(
            "none of the requested backends can run here: "
            + "; ".join(notes)
            + ". Run `kakehashi backends` to see what is available"
        )
    return list(unique.values()), notes


def ensure_baseline(
    backends: list[Backend], baseline: str = "auto"
) -> tuple[list[Backend], str | None, list[str]]:
    """Add a classical baseline when the comparison has none (or refuse).

    Returns the backends, the name of the baseline fixed by the caller (``None`` when the
    report should name the strongest classical backend), and notes for the report.

    Example:
        >>> bs, named, notes = ensure_baseline([get_backend("reference-sa")])
        >>> named is None and notes == []
        True
    """
    notes: list[str] = []
    if baseline not in ("auto", "require"):
        b, why = _lookup(baseline)
        if b is None:
            raise KakehashiError(f"the baseline backend cannot run here: {why}")
        if not is_classical(b):
            raise KakehashiError(
                f"{baseline!r} is a {b.info.modality} backend, not a classical one; name a "
                "classical baseline such as 'tabu', 'highs' or 'exact'"
            )
        if b.name not in [x.name for x in backends]:
            backends = [*backends, b]
            notes.append(f"{b.name} added as the classical baseline (requested)")
        return backends, b.name, notes
    if any(is_classical(b) for b in backends):
        return backends, None, notes
    if baseline == "require":
        raise KakehashiError(
            "this comparison has no classical baseline ("
            + ", ".join(f"{b.name}: {b.info.modality}" for b in backends)
            + "); add a classical backend such as 'tabu', 'highs' or 'exact', "
            "or use baseline='auto'"
        )
    for name in BASELINE_PREFERENCE:
        b, _ = _lookup(name)
        if b is not None and is_classical(b):
            notes.append(
                f"no classical backend was requested, so {name} ({b.info.modality}) was added as "
                "the classical baseline"
            )
            return [*backends, b], None, notes
    raise KakehashiError(
        "no classical backend is available to serve as the baseline; reinstall kakehashi"
    )


def backend_record(backend: Backend) -> dict[str, Any]:
    """The backend's catalog facts as a plain dict (stored with every run)."""
    import dataclasses

    info = backend.info
    return dataclasses.asdict(info) if dataclasses.is_dataclass(info) else dict(vars(info))
