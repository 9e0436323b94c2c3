"""Choose a backend for a problem: candidates, predictions, preferences, caps, a reason.

:func:`route` looks at every registered backend: whether it can run here (``available``),
whether it takes this problem (``check``: variable types, constraints, size limits),
whether the catalog says it fits the budget (enumeration time) and ``max_cost``. For the
ones left it predicts, with the learned model, the gap to the best known value at the
user's budget, the chance of reaching it, and the wall time; money and CO2 follow from the
catalog's prices and power draw over that time. ``prefer`` then picks:

* ``"quality"`` — the smallest predicted gap (the fastest among equals);
* ``"time"``, ``"cost"``, ``"co2"`` — the fastest / cheapest / least CO2 among those
  predicted within 1% of the best predicted gap;
* ``"quantum"`` — the best quantum machine (annealing or gate) available, even when a
  classical one is predicted to beat it.

Without a usable model (``router="rule"``, or a model file that cannot be read) the fixed
rule :func:`kakehashi.solve.choose_backend` decides, and the explanation says so.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from kakehashi.errors import KakehashiError, UnsupportedError
from kakehashi.model.problem import CONTINUOUS, Problem
from kakehashi.router.features import features, vector
from kakehashi.router.model import RouterModelError, gap_from_score, load_model, model_source

PREFERENCES = ("quality", "time", "cost", "co2", "quantum")
QUANTUM_MODALITIES = ("quantum annealing", "quantum gate")
DEFAULT_BUDGET = 10.0  # seconds assumed when time_limit is None (QUBO samplers' default)
NEAR_BEST = 0.01  # "as good as the best" for prefer=time/cost/co2: within 1% predicted gap
TIE = 1e-3  # predicted gaps closer than 0.1% are a tie on quality


@dataclasses.dataclass
class Candidate:
    """One backend as the router saw it."""

    name: str
    modality: str
    available: bool = True
    applicable: bool = True
    excluded: str = ""  # why it was not a candidate (unavailable, not applicable, over cap)
    gap: float | None = None  # predicted relative gap to the best known value
    p_reach: float | None = None  # predicted chance of reaching it
    seconds: float | None = None  # predicted wall time
    money: float | None = None
    currency: str = "USD"
    co2_grams: float | None = None
    upper_bound: bool = False  # the catalog's price assumes the whole budget is used

    @property
    def eligible(self) -> bool:
        return not self.excluded

    @property
    def predicted(self) -> bool:
        return self.gap is not None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Decision:
    """What the router chose and why (``info["router"]`` holds :meth:`to_dict`)."""

    choice: str
    reason: str
    prefer: str
    budget: float
    method: str  # "model" or "rule"
    model: str | None
    candidates: list[Candidate]
    features: dict[str, float]
    seconds: float = 0.0  # time the routing took

    def ranking(self) -> list[Candidate]:
        return [c for c in self.candidates if c.eligible]

    def top(self, k: int) -> list[str]:
        return [c.name for c in self.ranking()[:k]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "choice": self.choice,
            "reason": self.reason,
            "prefer": self.prefer,
            "budget_seconds": self.budget,
            "method": self.method,
            "model": self.model,
            "routing_seconds": self.seconds,
            "features": {k: _finite(v) for k, v in self.features.items()},
            "candidates": [c.to_dict() for c in self.candidates],
        }


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def route(
    problem: Problem,
    *,
    time_limit: float | None = None,
    prefer: str = "quality",
    max_cost: float | None = None,
    router: str | None = None,
    backends: list[str] | None = None,
    options: dict[str, Any] | None = None,
) -> Decision:
    """Rank the backends for ``problem`` and choose one (nothing is solved).

    Example:
        >>> import kakehashi
        >>> d = route(kakehashi.examples.small_maxcut(), time_limit=1.0)
        >>> d.choice in d.top(3), d.reason.startswith("auto chose")
        (True, True)
    """
    t0 = time.perf_counter()
    if prefer not in PREFERENCES:
        raise KakehashiError(f"prefer must be one of {', '.join(PREFERENCES)}; got {prefer!r}")
    budget = DEFAULT_BUDGET if time_limit is None else float(time_limit)
    feats = features(problem)
    source = model_source(router)
    model, why_rule = None, ""
    if source == "rule":
        why_rule = "router='rule' asked for it"
    elif source is not None:
        model = load_model(source)  # a model the user named must load: errors are theirs
    else:
        try:
            model = load_model()
        except RouterModelError as exc:  # the shipped model is missing from this install
            why_rule = f"no usable model ({exc})"
    cands = _candidates(problem, feats, budget, max_cost, backends, options or {})
    if model is not None:
        _predict(model, cands, feats, budget)
        ranked = _rank(cands, prefer)
        decision = Decision(
            ranked[0].name if ranked and ranked[0].eligible else "",
            "", prefer, budget, "model", model.path, ranked, feats,
        )  # fmt: skip
    else:
        decision = _rule_decision(problem, cands, feats, budget, prefer, why_rule)
    if not decision.choice:
        raise UnsupportedError(_nothing_fits(cands, prefer))
    decision.reason = explain_choice(decision)
    decision.seconds = time.perf_counter() - t0
    return decision


# ---------------------------------------------------------------------- candidates
def _candidates(
    problem: Problem,
    feats: dict[str, float],
    budget: float,
    max_cost: float | None,
    names: list[str] | None,
    options: dict[str, Any],
) -> list[Candidate]:
    from kakehashi.backends.base import backend_names, get_backend

    out = []
    for name in names or backend_names():
        b = get_backend(name)
        c = Candidate(name, b.info.modality)
        out.append(c)
        # applicability first (the catalog's word, no SDK needed): an unavailable machine
        # is worth naming only when it could have taken the problem
        try:
            reasons = applicability(b, problem, feats)
        except KakehashiError as exc:
            reasons = [str(exc)]
        avail = _available(b)
        c.available = bool(avail)
        if reasons:
            c.applicable = False
            c.excluded = "not applicable: " + "; ".join(reasons)
        elif not avail:
            c.excluded = f"unavailable: {avail.reason}"
        else:
            _price(c, b, problem, budget, max_cost, options)
    return out


_AVAILABILITY: dict[tuple[Any, ...], Any] = {}


def _available(backend: Any) -> Any:
    """``backend.available()``, remembered while nothing it depends on changes: installed
    packages do not change within a process, credentials (environment variables) may."""
    import os

    from kakehashi.backends.catalog import CatalogError, entry

    try:
        creds = tuple(entry(backend.name).get("credentials", ()))
    except CatalogError:
        return backend.available()
    key = (backend.name, id(backend), os.environ.get("KAKEHASHI_CATALOG"),
           *(os.environ.get(v) for v in creds))  # fmt: skip
    if key not in _AVAILABILITY:
        _AVAILABILITY[key] = backend.available()
    return _AVAILABILITY[key]


def applicability(backend: Any, problem: Problem, feats: dict[str, float]) -> list[str]:
    """Why ``backend`` cannot take ``problem`` (empty when it can).

    Uses ``backend.check(problem)`` where the backend has it (the backend contract), and
    otherwise the catalog's ``accepts`` and ``max_variables`` against the problem's
    variable types, constraints and compiled QUBO size.
    """
    check = getattr(backend, "check", None)
    if callable(check):
        verdict = check(problem)
        if not verdict:
            return list(getattr(verdict, "reasons", ["not applicable"]))
        return _qubo_size_reasons(backend, feats)
    info = backend.info
    reasons = []
    continuous = bool((problem.vtype == CONTINUOUS).any())
    if continuous and "mip" not in info.accepts:
        reasons.append("it takes no continuous variables")
    if problem.num_constraints and not ({"constrained", "mip"} & set(info.accepts)):
        reasons.append("it takes no constraints")
    limit = info.max_variables
    if backend.name == "exact" and limit is not None:
        if feats["assignments_log2"] > limit:
            size = feats["assignments_log2"]
            reasons.append(f"2^{size:.0f} assignments exceed its limit of 2^{limit}")
    elif not continuous:
        reasons += _qubo_size_reasons(backend, feats)
    return reasons


def _qubo_size_reasons(backend: Any, feats: dict[str, float]) -> list[str]:
    """A QUBO sampler's variable limit against the compiled size (encoding and slack bits
    included), which ``check`` — counting the problem's own variables — cannot see."""
    info = backend.info
    limit = info.max_variables
    if limit is None or "mip" in info.accepts or backend.name == "exact":
        return []
    size = feats["qubo_variables"]
    if size > limit:
        return [f"about {size:.0f} binary variables after compilation, it takes {limit}"]
    return []


def _price(c: Candidate, backend: Any, problem: Problem, budget: float, cap, options) -> None:
    """Money and CO2 at the full budget (for caps); enumeration time against the budget."""
    from kakehashi.backends.catalog import CatalogError

    try:
        est = _estimate(backend, problem, budget, options)
    except (CatalogError, UnsupportedError) as exc:
        c.excluded = f"cannot be priced: {exc}"
        return
    c.currency = est.currency
    c.money = est.money
    c.co2_grams = None if est.energy_joules is None else est.energy_joules / 3.6e6 * _grid()
    if not est.upper_bound and est.seconds is not None and est.seconds > 1.5 * budget:
        c.excluded = f"the catalog expects {est.seconds:.3g} s, beyond the {budget:g} s budget"
        c.seconds = est.seconds
    if cap is not None:
        if est.money is None:
            c.excluded = f"cannot be priced before the run, so max_cost={cap:g} is not guaranteed"
        elif est.money > cap:
            c.excluded = f"would cost about {est.money:.3g} {est.currency} > max_cost={cap:g}"
    c.upper_bound = est.upper_bound


_ESTIMATES: dict[tuple[Any, ...], Any] = {}


def _estimate(backend: Any, problem: Problem, budget: float, options: dict[str, Any]) -> Any:
    """``estimate_run`` at the full budget, remembered per process: the catalog's estimates
    depend on the problem only through its size, variable domains and whether it has
    constraints, all in the key (a catalog override via the environment is in it too)."""
    import os

    from kakehashi.backends.catalog import estimate_run

    n = problem.num_variables
    spans = float(np.sum(np.log2(np.maximum(problem.upper - problem.lower + 1.0, 1.0))))
    key = (
        backend.name, id(backend), budget, repr(sorted(options.items())), n,
        problem.num_constraints, spans, os.environ.get("KAKEHASHI_CATALOG"),
        os.environ.get("KAKEHASHI_CPU_USD_PER_VCPU_HOUR"),
        os.environ.get("KAKEHASHI_CPU_WATTS_PER_CORE"),
    )  # fmt: skip
    if key not in _ESTIMATES:
        if len(_ESTIMATES) > 4096:
            _ESTIMATES.clear()
        _ESTIMATES[key] = estimate_run(backend, problem, time_limit=budget, **options)
    return dataclasses.replace(_ESTIMATES[key])


# g-CO2 per kWh for CO2 predictions: Japan's grid, the figure and source of
# kakehashi.bench.accounting.JAPAN_GRID (ELCS FY2023), kept here so that routing does not
# import the bench layer (tests check the two agree)
GRID_G_PER_KWH = 421.0


def _grid() -> float:
    return GRID_G_PER_KWH


# ---------------------------------------------------------------------- prediction
def _predict(model: Any, cands: list[Candidate], feats: dict[str, float], budget: float) -> None:
    known = [c for c in cands if c.eligible and c.name in model.backends]
    if not known:
        return
    out = model.predict(model.rows(vector(feats), budget, [c.name for c in known]))
    for c, (score, log_s, reached) in zip(known, out, strict=True):
        c.gap = gap_from_score(float(score))
        c.p_reach = float(min(max(reached, 0.0), 1.0))
        seconds = float(min(10.0**log_s, budget * 1.2))
        # a run that stops early (an exact solver proving optimality) costs only its time
        if c.upper_bound and c.money is not None and budget > 0:
            scale = min(seconds / budget, 1.0)
            c.money *= scale
            c.co2_grams = None if c.co2_grams is None else c.co2_grams * scale
        c.seconds = seconds


def _rank(cands: list[Candidate], prefer: str) -> list[Candidate]:
    """Eligible predicted candidates best first, then eligible unpredicted, then the rest."""
    if prefer == "quantum":
        for c in cands:
            if c.eligible and c.modality not in QUANTUM_MODALITIES:
                c.excluded = "not a quantum machine (prefer='quantum')"
    pool = [c for c in cands if c.eligible and c.predicted]
    ranked = sorted(pool, key=_quality_key)
    if prefer in ("time", "cost", "co2") and ranked:
        best = ranked[0].gap or 0.0
        near = [c for c in ranked if (c.gap or 0.0) <= best + NEAR_BEST]
        far = [c for c in ranked if c not in near]
        key = {
            "time": lambda c: c.seconds or math.inf,
            "cost": lambda c: math.inf if c.money is None else c.money,
            "co2": lambda c: math.inf if c.co2_grams is None else c.co2_grams,
        }[prefer]
        ranked = sorted(near, key=lambda c: (key(c), _quality_key(c))) + far
    unpredicted = [c for c in cands if c.eligible and not c.predicted]
    return ranked + unpredicted + [c for c in cands if not c.eligible]


def _quality_key(c: Candidate) -> tuple[float, float, float]:
    # gaps within TIE of each other count as equal; then likelier to reach, then faster
    return (round((c.gap or 0.0) / TIE), -(c.p_reach or 0.0), c.seconds or math.inf)


def _rule_decision(problem, cands, feats, budget, prefer, why) -> Decision:
    from kakehashi.solve import choose_backend

    chosen = choose_backend(problem).name
    first = [c for c in cands if c.name == chosen]
    rest = [c for c in cands if c.name != chosen]
    return Decision(chosen, "", prefer, budget, "rule", why, first + rest, feats)


def _nothing_fits(cands: list[Candidate], prefer: str) -> str:
    if prefer == "quantum":
        cands = [c for c in cands if c.modality in QUANTUM_MODALITIES]
    lines = "; ".join(f"{c.name} {c.excluded}" for c in cands if c.excluded)[:800]
    what = "quantum machine" if prefer == "quantum" else "backend"
    return f"no {what} can take this problem here ({lines}). Relax max_cost or install one"


# ---------------------------------------------------------------------- explanation
def explain_choice(d: Decision) -> str:
    """The one-sentence reason: the choice's prediction, the runners-up's, and what was
    left out ("auto chose cpsat: predicted optimal in 0.1 s; tabu predicted +30%; ...")."""
    if d.method == "rule":
        return (
            f"auto chose {d.choice} by the fixed rule (exact when tiny, MIP when continuous, "
            f"else the first available heuristic): {d.model}"
        )
    ranked = d.ranking()
    chosen = ranked[0]
    parts = [f"auto chose {d.choice}: predicted {_quality_text(chosen)}"]
    if d.prefer != "quality":
        parts[0] += f" (prefer={d.prefer})"
    runners = [c for c in ranked[1:] if c.predicted][:2]
    parts += [f"{c.name} predicted {_quality_text(c, short=True)}" for c in runners]
    if chosen.modality not in QUANTUM_MODALITIES:
        quantum = [c for c in ranked if c.modality in QUANTUM_MODALITIES and c.predicted]
        if quantum and quantum[0] not in runners:
            q = quantum[0]
            parts.append(f"quantum {q.name} predicted to lose ({_quality_text(q, short=True)})")
    elif d.prefer == "quantum" and chosen.predicted:
        classical = sorted(
            (c for c in d.candidates if c.predicted and c.modality not in QUANTUM_MODALITIES
             and c.excluded.startswith("not a quantum machine")),
            key=_quality_key,
        )  # fmt: skip
        if classical and (classical[0].gap or 0.0) < (chosen.gap or 0.0) - TIE:
            c = classical[0]
            parts.append(
                f"classical {c.name} predicted better ({_quality_text(c, short=True)}): "
                "chosen anyway because prefer='quantum'"
            )
    missing = [
        c for c in d.candidates
        if not c.available and c.applicable and c.modality in QUANTUM_MODALITIES
    ]  # fmt: skip
    if missing:
        parts.append(f"{missing[0].name} {missing[0].excluded}")
    return "; ".join(parts)


def _quality_text(c: Candidate, short: bool = False) -> str:
    if c.gap is None:
        return "no prediction (no training runs)"
    if c.gap > 1.0:
        text = "no feasible answer"
    elif c.gap < 5e-4:
        text = "optimal" if not short else "best known"
    else:
        text = f"+{c.gap:.1%}"
    if short:
        return text
    return f"{text} in {_secs(c.seconds)}"


def _secs(s: float | None) -> str:
    if s is None:
        return "? s"
    return f"{s:.2g} s" if s < 10 else f"{s:.0f} s"
