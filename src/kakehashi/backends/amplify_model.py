"""A :class:`Problem` as an Amplify SDK model, keeping constraints as constraints.

The Amplify SDK converts a model for each machine itself: it sends linear inequalities and
one-hot groups to the Fujitsu Digital Annealer as native constraints (the DA4 request's
``inequalities`` and its penalty polynomial, which the machine weighs on its own), and turns
them into penalties for machines that take only an unconstrained polynomial. So the
translation keeps every constraint row as an Amplify constraint instead of folding it into
a QUBO here.

Variables go over as binaries ``z`` through kakehashi's own encoding (``x = E z + d``: spins
and integers exactly as the compiler encodes them, higher-order terms reduced the same way),
so that every machine's answer decodes through one map — :meth:`Compiled.decode` — and the
request's polynomial indices are kakehashi's bit indices.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.compile.compiler import Compiled, compile_problem
from kakehashi.model.problem import Problem


@dataclasses.dataclass
class AmplifyModel:
    """An ``amplify.Model`` over binaries ``z`` and the map back to the problem."""

    model: Any  # amplify.Model
    bits: Any  # amplify.PolyArray of the binaries z, in kakehashi's bit order
    compiled: Compiled  # the encoding (x = E z + d) and the constraint groups
    num_bits: int  # bits the model uses (encoded + reduction auxiliaries; no slack)
    weights: dict[str, float]  # constraint weight per group, as sent

    def decode(self, Z: np.ndarray) -> np.ndarray:
        """0/1 values of the model's bits (k, num_bits) → the problem's variables (k, n)."""
        Z = np.atleast_2d(np.asarray(Z, dtype=np.float64))
        padded = np.zeros((Z.shape[0], self.compiled.num_binaries))
        padded[:, : self.num_bits] = Z
        return self.compiled.decode(padded)


def to_amplify(
    problem: Problem,
    *,
    weights: dict[str, float] | None = None,
    integer_encoding: str = "log",
) -> AmplifyModel:
    """Translate ``problem`` into an Amplify model with native constraints.

    ``weights`` sets the Amplify constraint weight per constraint group (default: the
    compiler's automatic weights, bounded by the objective's own coefficients).

    Example:
        >>> import kakehashi
        >>> am = to_amplify(kakehashi.examples.knapsack(6))  # doctest: +SKIP
        >>> len(am.model.constraints)  # doctest: +SKIP
        1
    """
    import amplify

    compiled = compile_problem(problem, integer_encoding=integer_encoding)
    num_bits = compiled.num_encoded + compiled.num_aux
    gen = amplify.VariableGenerator()
    z = gen.array("Binary", max(num_bits, 1))
    terms = [z[i] for i in range(num_bits)]
    objective = _polynomial(
        terms, compiled.obj_h[:num_bits], compiled.obj_upper[:num_bits, :num_bits]
    )
    objective += float(compiled.obj_offset)
    auto = compiled.weight_map
    chosen = {g: float((weights or {}).get(g, w)) for g, w in auto.items()}
    constraints = _constraints(problem, compiled, terms, chosen)
    model = amplify.Model(objective, constraints) if constraints else amplify.Model(objective)
    return AmplifyModel(model=model, bits=z, compiled=compiled, num_bits=num_bits, weights=chosen)


def _polynomial(terms: list[Any], h: np.ndarray, upper: sp.spmatrix) -> Any:
    import amplify

    upper = sp.coo_matrix(upper)
    pieces = [float(c) * terms[i] for i, c in enumerate(h) if c != 0.0]
    pieces += [
        float(v) * terms[int(i)] * terms[int(j)]
        for i, j, v in zip(upper.row, upper.col, upper.data, strict=True)
        if v != 0.0
    ]
    # amplify.sum adds in C++: 20,000 terms in about 0.09 s here
    return amplify.sum(pieces) if pieces else amplify.Poly()


def _constraints(
    problem: Problem, compiled: Compiled, terms: list[Any], weights: dict[str, float]
) -> Any:
    """Each row ``lo ≤ A x ≤ hi`` as an Amplify constraint over z, weighted by its group."""
    import amplify

    if problem.A.shape[0] == 0:
        return None
    AE = (problem.A @ compiled.E).tocsr()  # rows over the encoded bits
    shift = problem.A @ compiled.d
    out = None
    for group in problem.constraint_groups:
        one_hot = group.kind == "one_hot"
        for r in range(group.start, group.stop):
            lo, hi = problem.lo[r] - shift[r], problem.hi[r] - shift[r]
            cols = AE.indices[AE.indptr[r] : AE.indptr[r + 1]]
            vals = AE.data[AE.indptr[r] : AE.indptr[r + 1]]
            poly = amplify.sum([float(v) * terms[int(c)] for c, v in zip(cols, vals, strict=True)])
            label = f"{group.name}[{r - group.start}]"
            if one_hot and lo == hi == 1 and np.all(vals == 1):
                c = amplify.one_hot(poly, label=label)
            elif lo == hi:
                c = amplify.equal_to(poly, float(lo), label=label)
            elif np.isinf(lo):
                c = amplify.less_equal(poly, float(hi), label=label)
            elif np.isinf(hi):
                c = amplify.greater_equal(poly, float(lo), label=label)
            else:
                c = amplify.clamp(poly, (float(lo), float(hi)), label=label)
            c = weights.get(group.name, 1.0) * c
            out = c if out is None else out + c
    return out
