"""Stand-ins and outlook: what a local stand-in for a quantum machine measures, what the real
machine would take and cost for the same run, and what its vendor says comes next.

A *stand-in* (``[stand_ins.*]`` in the backend catalog) runs a quantum machine's path here:
``dwave-mock`` (D-Wave's MockDWaveSampler), ``qaoa-aer`` (a circuit simulator), or a
quantum-inspired algorithm on this CPU (``sb``). Its measured time and price are this CPU's;
:func:`project_run` puts the same run (its reads, shots and circuit executions) through the
real machine's catalog timing, price and power models. The *outlook* (``[outlook.*]``) holds
the catalog's technology readiness and the vendor's published roadmap with source and date —
a projection, never a measurement.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
from typing import Any

from kakehashi.errors import KakehashiError


@dataclasses.dataclass(frozen=True)
class StandIn:
    """How a stand-in backend relates to the machine it stands for."""

    backend: str
    kind: str  # mock | simulator | quantum-inspired
    real: str | None  # the catalog backend it stands in for, if any
    what: str
    quality_basis: str
    timing_basis: str
    price_basis: str
    short: str = ""

    def label(self) -> str:
        """A one-line label for tables and the verdict.

        Example:
            >>> stand_in("dwave-mock").label().startswith("stand-in (mock)")
            True
        """
        return f"stand-in ({self.kind}): {self.what}"


@dataclasses.dataclass(frozen=True)
class Outlook:
    """A vendor's published plan for a family of backends (a projection)."""

    vendor: str
    trl: int | None
    trl_note: str
    roadmap: str
    source: str
    date: str
    milestone: str = ""
    brief_text: str = ""

    def brief(self) -> str:
        """A short clause for the verdict: vendor, TRL, roadmap in a few words, date."""
        trl = f" (TRL {self.trl})" if self.trl is not None else ""
        return f"{self.vendor}{trl}: {self.brief_text or self.roadmap} ({self.date})"

    def sentence(self) -> str:
        """The outlook in one sentence, labelled as the vendor's projection."""
        trl = f"TRL {self.trl}: " if self.trl is not None else ""
        return (
            f"{trl}{self.trl_note}. Vendor roadmap (projection, not measurement): "
            f"{self.roadmap} ({self.source}, {self.date}); {self.milestone}."
        )


def _catalog() -> dict[str, Any]:
    try:
        from kakehashi.backends.catalog import load_catalog

        return load_catalog()
    except (ImportError, KakehashiError):
        return {}


def stand_in(backend: str) -> StandIn | None:
    """The catalog's stand-in record for ``backend`` (``None`` when it is the machine itself).

    Example:
        >>> stand_in("qaoa-aer").real, stand_in("tabu")
        ('qaoa-ibm', None)
    """
    rec = _catalog().get("stand_ins", {}).get(backend)
    if not rec:
        return None
    real = rec.get("real")
    return StandIn(
        backend,
        str(rec.get("kind", "stand-in")),
        None if real in (None, "none") else str(real),
        str(rec.get("what", "")),
        str(rec.get("quality_basis", "")),
        str(rec.get("timing_basis", "")),
        str(rec.get("price_basis", "")),
        str(rec.get("short", rec.get("what", ""))),
    )


def outlook_for(backend: str) -> Outlook | None:
    """The vendor roadmap covering ``backend``, with the catalog's TRL for the real machine.

    Example:
        >>> o = outlook_for("dwave-mock")
        >>> o.vendor, o.trl, o.date
        ('D-Wave', 8, '2025-05-20')
    """
    cat = _catalog()
    for vendor, rec in cat.get("outlook", {}).items():
        if backend in rec.get("backends", []):
            s = stand_in(backend)
            machine = rec.get("trl_of") or (s.real if s and s.real else backend)
            entry = cat.get("backends", {}).get(machine) or cat.get("backends", {}).get(backend, {})
            trl = entry.get("trl")
            return Outlook(
                str(rec.get("vendor", vendor)),
                int(trl) if isinstance(trl, int) else None,
                str(rec.get("trl_note", "")),
                str(rec.get("roadmap", "")),
                str(rec.get("source", "")),
                str(rec.get("date", "")),
                str(rec.get("milestone", "")),
                str(rec.get("brief", "")),
            )
    return None


@dataclasses.dataclass(frozen=True)
class Projection:
    """One run of a stand-in, projected onto the real machine (catalog models only)."""

    machine: str
    device_seconds: float | None  # machine time the vendor would bill (queue excluded)
    money: float | None  # None: the vendor publishes no price
    currency: str
    energy_j: float | None  # the machine's system power × device time (client excluded)
    basis: str


def project_run(backend: str, result_info: dict[str, Any] | str | None) -> Projection | None:
    """What the real machine behind stand-in ``backend`` would bill for one stored run.

    ``result_info`` is the run's ``Result.info`` (a dict or its JSON): its penalty rounds
    give the reads/shots and circuit executions the run used.

    Example:
        >>> p = project_run("dwave-mock", {"rounds": [{"num_reads": 100}]})
        >>> round(p.device_seconds, 3), p.money, round(p.energy_j)
        (0.033, None, 825)
    """
    s = stand_in(backend)
    if s is None or s.real is None:
        return None
    entry = _catalog().get("backends", {}).get(s.real, {})
    timing = entry.get("timing", {}) or {}
    price_model = dict(entry.get("price", {}) or {})
    power = entry.get("power", {}) or {}
    info = json.loads(result_info) if isinstance(result_info, str) else dict(result_info or {})
    from kakehashi.bench.accounting import price, shots, tasks

    fake = types.SimpleNamespace(info=info, num_samples=0)
    n_shots, n_tasks = shots(fake), tasks(fake)
    per_task = float(timing.get("seconds_per_task", 0.0) or 0.0)
    per_shot = float(timing.get("seconds_per_shot", 0.0) or 0.0)
    device = per_task * n_tasks + per_shot * n_shots if (per_task or per_shot) else None
    money = (
        price(price_model, seconds=device or 0.0, shots=n_shots, tasks=n_tasks)
        if device is not None
        else None
    )
    watts = power.get("watts") if power.get("model") == "system" else None
    energy = float(watts) * device if isinstance(watts, (int, float)) and device else None
    basis = (
        f"{s.real} catalog models on this run's {n_tasks} task(s) and {n_shots} shot(s): "
        f"{per_task:g} s per task + {per_shot:g} s per shot"
        + (f" ({timing.get('source')})" if timing.get("source") else "")
        + (
            f"; price {price_model.get('source', '')}"
            if money is not None
            else f"; no list price ({price_model.get('source', 'unpublished')})"
        )
        + (f"; power {float(watts):g} W ({power.get('source', '')})" if energy else "")
    )
    cur = str(price_model.get("currency", "USD"))
    return Projection(s.real, device, money, cur, energy, basis)


def finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
