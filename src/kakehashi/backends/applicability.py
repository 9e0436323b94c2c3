"""Whether a backend can take a problem, and why not: ``backend.check(problem)``.

The report is built from what the catalog says a backend accepts (``accepts``: ``qubo``,
``constrained``, ``mip``) and its limits (``max_variables``, ``connectivity``), before any
compilation or network call. ``kakehashi.solve`` refuses early with its reasons; the router
ranks backends by it.

Forms, from the problem's point of view:

* continuous variables need ``mip`` (a solver that takes them natively);
* constraints need ``constrained`` (penalties, or native constraints) or ``mip``;
* anything discrete and unconstrained is a ``qubo`` (integers are encoded in binaries, so
  QUBO backends need them bounded).

Example:
    >>> import kakehashi
    >>> from kakehashi.backends.catalog import info_for
    >>> report = check_applicability("exact", info_for("exact"), kakehashi.examples.knapsack(8))
    >>> bool(report), report.forms
    (True, ['constrained'])
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from kakehashi.model.problem import CONTINUOUS, INTEGER, Problem


@dataclasses.dataclass
class Applicability:
    """``ok`` (also the truth value) and, when not, the ``reasons`` in words.

    ``forms`` are the forms the problem needs; ``notes`` say what may still fail at run
    time (an embedding that does not fit a sparse graph, a device's own limit).
    """

    ok: bool
    reasons: list[str] = dataclasses.field(default_factory=list)
    forms: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def message(self, backend: str) -> str:
        """One line for an error: what is wrong and what to do."""
        if self.ok:
            return f"backend {backend!r} can take this problem"
        return f"backend {backend!r} cannot take this problem: " + "; ".join(self.reasons)


def problem_forms(problem: Problem) -> list[str]:
    """The forms ``problem`` needs: some of ``mip``, ``constrained``, ``qubo``.

    Example:
        >>> import kakehashi
        >>> problem_forms(kakehashi.examples.small_maxcut())
        ['qubo']
    """
    forms = []
    if np.any(problem.vtype == CONTINUOUS):
        forms.append("mip")
    if problem.num_constraints:
        forms.append("constrained")
    return forms or ["qubo"]


def check_applicability(
    name: str,
    info: Any,
    problem: Problem,
    *,
    variable_limit: int | None = None,
    encodes_integers: bool = True,
) -> Applicability:
    """The report for ``problem`` on the backend ``name`` described by ``info``.

    ``variable_limit`` is the size the backend refuses beyond (each variable takes at least
    one binary, so a problem with more variables than that never fits); ``encodes_integers``
    says the backend works on binaries, so integers need finite bounds.
    """
    accepts = set(getattr(info, "accepts", ("qubo",)))
    forms = problem_forms(problem)
    reasons: list[str] = []
    notes: list[str] = []
    cont = np.flatnonzero(problem.vtype == CONTINUOUS)
    if cont.size and "mip" not in accepts:
        reasons.append(
            f"it takes no continuous variables and {problem.flat_name(int(cont[0]))} is "
            "continuous (use a MIP backend such as 'highs' or 'scip')"
        )
    if problem.num_constraints and not ({"constrained", "mip"} & accepts):
        reasons.append(
            f"it takes unconstrained problems only and this one has {problem.num_constraints} "
            "constraint row(s) (use a backend that accepts 'constrained')"
        )
    if encodes_integers and "mip" not in accepts:
        ints = problem.vtype == INTEGER
        unbounded = np.flatnonzero(
            ints & ~(np.isfinite(problem.lower) & np.isfinite(problem.upper))
        )
        if unbounded.size:
            reasons.append(
                f"integer {problem.flat_name(int(unbounded[0]))} has no finite bounds, so it "
                "cannot be encoded in binaries (give it bounds or use a MIP backend)"
            )
    if variable_limit is not None and problem.num_variables > variable_limit:
        reasons.append(
            f"it takes at most {variable_limit} variables and this problem has "
            f"{problem.num_variables} (reduce it or use a classical heuristic such as 'tabu')"
        )
    connectivity = getattr(info, "connectivity", "all-to-all")
    if connectivity != "all-to-all":
        notes.append(
            f"the hardware graph is {connectivity}: the problem must be embedded, which may "
            "fail for dense problems"
        )
    return Applicability(ok=not reasons, reasons=reasons, forms=forms, notes=notes)
