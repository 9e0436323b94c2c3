"""`Problem` ↔ dimod (Ocean): ``BinaryQuadraticModel``, ``QuadraticModel``,
``ConstrainedQuadraticModel`` and ``BinaryPolynomial``.

What maps to what
-----------------
* Labels: variable ``x[3,4]`` of the array ``x`` is labelled ``"x[3,4]"`` (a scalar array
  ``y`` is ``"y"``); :func:`from_dimod` groups labels back into arrays (``"x[3,4]"`` strings,
  integers ``0..n-1`` → ``x``, tuples ``("x", 3, 4)``), other labels become scalar arrays
  named by the label text. Constraints are labelled by their row name (``"cap[2]"``).
* Sense: dimod models are minimised, so a ``"max"`` problem is written with its objective
  negated (the minimiser is the same; energies are the negated objective values).
* BQM: unconstrained, all-binary or all-spin, degree ≤ 2. ``x_i²`` folds to ``x_i`` and
  ``s_i²`` to 1. A problem mixing spins and binaries needs ``vartype=`` (the spins or the
  binaries are then rewritten by ``s = 2b − 1``).
* CQM: binary, spin, integer and continuous (REAL) variables, degree ≤ 2 objective, linear
  constraints. A ranged row ``l ≤ a·x ≤ u`` becomes ``"<name>"`` (≤ u) and
  ``"<name>#lower"`` (≥ l), merged again on the way back. Infinite bounds are clipped to
  dimod's ±1e30.
* Not expressible, so :class:`UnsupportedError` naming the item: constraints in a BQM,
  integer/continuous variables in a BQM, higher-order terms in a BQM/CQM (use a
  ``BinaryPolynomial`` or kakehashi's compiler), quadratic constraints and soft
  constraints from a CQM, discrete quadratic models.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.errors import UnsupportedError
from kakehashi.model.affine import spin_to_binary
from kakehashi.model.io._layout import infer_blocks, split_label
from kakehashi.model.io.readers_common import mark_one_hot
from kakehashi.model.problem import (
    BINARY,
    CONTINUOUS,
    INTEGER,
    SPIN,
    ConstraintGroup,
    Problem,
    VarArray,
)

DIMOD_INFINITY = 1e30
LOWER_SUFFIX = "#lower"
_VARTYPE_NAME = {BINARY: "BINARY", SPIN: "SPIN", INTEGER: "INTEGER", CONTINUOUS: "REAL"}


# ---------------------------------------------------------------------- Problem → dimod
def _objective_sign(problem: Problem) -> float:
    return -1.0 if problem.sense == "max" else 1.0


def _folded_objective(problem: Problem) -> tuple[np.ndarray, sp.coo_matrix, float]:
    """Linear terms, off-diagonal pairs and offset in the minimisation sense, with
    ``x² = x`` (binary) and ``s² = 1`` (spin) folded; integer/continuous squares are left
    out (see :func:`to_cqm`)."""
    sign = _objective_sign(problem)
    q = problem.quadratic.tocoo()
    diag = q.row == q.col
    vt = problem.vtype[q.row]
    fold_binary = diag & (vt == BINARY)
    fold_spin = diag & (vt == SPIN)
    linear = problem.linear.copy()
    np.add.at(linear, q.row[fold_binary], q.data[fold_binary])
    offset = problem.constant + float(q.data[fold_spin].sum())
    off = ~diag
    pairs = sp.coo_matrix((sign * q.data[off], (q.row[off], q.col[off])), shape=q.shape)
    return sign * linear, pairs, sign * offset


def to_bqm(problem: Problem, *, vartype: str | None = None):
    """The problem as a ``dimod.BinaryQuadraticModel`` labelled by variable names.

    Example:
        >>> from kakehashi.model.problem import Problem
        >>> bqm = to_bqm(Problem.from_arrays(linear=[1.0, -1.0], quadratic=[[0, 2], [0, 0]]))
        >>> float(bqm.energy({"x[0]": 1, "x[1]": 1}))
        2.0
    """
    import dimod

    name = problem.name
    if problem.num_constraints:
        raise UnsupportedError(
            f"problem {name!r} has {problem.num_constraints} constraints, which a BQM cannot hold; "
            "use to_cqm(), or compile it to a penalised QUBO with kakehashi.compile first"
        )
    codes = set(np.unique(problem.vtype).tolist())
    if codes - {BINARY, SPIN}:
        raise UnsupportedError(
            f"problem {name!r} has integer or continuous variables, which a BQM cannot hold; "
            "use to_cqm(), or encode them in binaries with kakehashi.compile first"
        )
    if problem.higher_order:
        raise UnsupportedError(
            f"problem {name!r} has terms of degree {max(problem.higher_order)}; a BQM is "
            "quadratic: "
            "reduce them with kakehashi.compile (or dimod.make_quadratic on a BinaryPolynomial)"
        )
    target = None if vartype is None else dimod.as_vartype(vartype)
    if len(codes) > 1 and target is None:
        raise UnsupportedError(
            f"problem {name!r} mixes spin and binary variables, which one BQM cannot; pass "
            "vartype='BINARY' or 'SPIN' to rewrite the others (s = 2b − 1), or use to_cqm()"
        )
    source = problem
    if len(codes) > 1:
        source, _ = spin_to_binary(problem)
        own = dimod.BINARY
    else:
        own = dimod.SPIN if codes == {SPIN} else dimod.BINARY
    linear, pairs, offset = _folded_objective(source)
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(
        linear,
        (pairs.row, pairs.col, pairs.data),
        offset,
        own,
        variable_order=problem.variable_names(),
    )
    if target is not None and target is not own:
        bqm.change_vartype(target, inplace=True)
    return bqm


def to_cqm(problem: Problem):
    """The problem as a ``dimod.ConstrainedQuadraticModel`` (objective negated for ``max``).

    Example:
        >>> import numpy as np, scipy.sparse as sp
        >>> from kakehashi.model.problem import Problem
        >>> A = sp.csr_matrix([[1.0, 1.0]])
        >>> p = Problem.from_arrays(linear=[1.0, 2.0], A=A, lo=[1.0], hi=[1.0])
        >>> cqm = to_cqm(p)
        >>> list(cqm.constraints), cqm.check_feasible({"x[0]": 1, "x[1]": 0})
        (['c[0]'], True)
    """
    import dimod

    if problem.higher_order:
        raise UnsupportedError(
            f"problem {problem.name!r} has terms of degree {max(problem.higher_order)}; a CQM "
            "objective is quadratic: reduce them with kakehashi.compile first"
        )
    labels = problem.variable_names()
    q_all = problem.quadratic.tocoo()
    real_pairs = (problem.vtype[q_all.row] == CONTINUOUS) | (problem.vtype[q_all.col] == CONTINUOUS)
    if real_pairs.any() and not getattr(
        dimod.ConstrainedQuadraticModel, "REAL_INTERACTIONS", False
    ):
        k = int(np.flatnonzero(real_pairs)[0])
        raise UnsupportedError(
            f"problem {problem.name!r} has the quadratic term {labels[q_all.row[k]]}·"
            f"{labels[q_all.col[k]]} on a continuous variable, which this dimod version's CQM "
            "cannot hold (REAL variables have no interactions); save it as .ommx instead"
        )
    vt = problem.vtype.tolist()
    lower = np.clip(problem.lower, -DIMOD_INFINITY, DIMOD_INFINITY).tolist()
    upper = np.clip(problem.upper, -DIMOD_INFINITY, DIMOD_INFINITY).tolist()

    objective = dimod.QuadraticModel()
    for i, label in enumerate(labels):
        if vt[i] in (BINARY, SPIN):
            objective.add_variable(_VARTYPE_NAME[vt[i]], label)
        else:
            objective.add_variable(
                _VARTYPE_NAME[vt[i]], label, lower_bound=lower[i], upper_bound=upper[i]
            )
    linear, pairs, offset = _folded_objective(problem)
    # integer/continuous squares stay quadratic (x² ≠ x for them)
    sign = _objective_sign(problem)
    q = problem.quadratic.tocoo()
    diag = (q.row == q.col) & np.isin(problem.vtype[q.row], (INTEGER, CONTINUOUS))
    objective.add_linear_from(zip(labels, linear.tolist(), strict=True))
    objective.add_quadratic_from(
        (labels[i], labels[j], v)
        for i, j, v in zip(pairs.row.tolist(), pairs.col.tolist(), pairs.data.tolist(), strict=True)
    )
    objective.add_quadratic_from(
        (labels[i], labels[i], sign * v)
        for i, v in zip(q.row[diag].tolist(), q.data[diag].tolist(), strict=True)
    )
    objective.offset = offset

    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(objective)
    A = problem.A
    names = problem.constraint_names()
    lo, hi = problem.lo.tolist(), problem.hi.tolist()
    for r, label in enumerate(names):
        terms = [
            (labels[j], c)
            for j, c in zip(
                A.indices[A.indptr[r] : A.indptr[r + 1]].tolist(),
                A.data[A.indptr[r] : A.indptr[r + 1]].tolist(),
                strict=True,
            )
        ]
        if lo[r] == hi[r]:
            cqm.add_constraint_from_iterable(terms, "==", hi[r], label=label)
            continue
        if np.isfinite(hi[r]):
            cqm.add_constraint_from_iterable(terms, "<=", hi[r], label=label)
        if np.isfinite(lo[r]):
            cqm.add_constraint_from_iterable(
                terms, ">=", lo[r], label=label + LOWER_SUFFIX if np.isfinite(hi[r]) else label
            )
    return cqm


# ---------------------------------------------------------------------- dimod → Problem
def from_dimod(model: Any, *, name: str = "dimod") -> Problem:
    """A Problem from a dimod BQM, QuadraticModel, CQM or BinaryPolynomial.

    Example:
        >>> import dimod
        >>> h, J = {"x[0]": 1.0, "x[1]": -1.0}, {("x[0]", "x[1]"): 2.0}
        >>> bqm = dimod.BinaryQuadraticModel(h, J, 0.5, "SPIN")
        >>> p = from_dimod(bqm)
        >>> p.var_arrays[0].name, p.var_arrays[0].shape, float(p.objective_values([[1, -1]])[0])
        ('x', (2,), 0.5)
    """
    import dimod

    if isinstance(model, dimod.BinaryQuadraticModel):
        return _from_quadratic(model, name)
    if isinstance(model, dimod.ConstrainedQuadraticModel):
        return _from_cqm(model, name)
    if isinstance(model, dimod.QuadraticModel):
        return _from_quadratic(model, name)
    if isinstance(model, dimod.BinaryPolynomial):
        return _from_polynomial(model, name)
    raise UnsupportedError(
        f"from_dimod cannot convert a {type(model).__name__}; pass a BinaryQuadraticModel, "
        "QuadraticModel, ConstrainedQuadraticModel or BinaryPolynomial"
    )


class _Vars:
    """dimod variables (labels, types, bounds) reordered into kakehashi arrays."""

    def __init__(
        self, labels: list[Hashable], codes: np.ndarray, lower: np.ndarray, upper: np.ndarray
    ):
        split = [split_label(v) for v in labels]
        blocks = infer_blocks([s[0] for s in split], [s[1] for s in split], codes)
        order = np.concatenate([b.members for b in blocks]) if blocks else np.zeros(0, np.int64)
        n = len(labels)
        flat = np.empty(n, dtype=np.int64)
        flat[order] = np.arange(n)
        self.flat_of = {label: int(flat[k]) for k, label in enumerate(labels)}
        self.n = n
        self.arrays, start = [], 0
        for b in blocks:
            self.arrays.append(VarArray(b.name, b.shape, start, int(codes[b.members[0]])))
            start += b.members.size
        self.codes = codes[order]
        lower, upper = lower[order], upper[order]
        self.lower = np.where(lower <= -DIMOD_INFINITY, -np.inf, lower)
        self.upper = np.where(upper >= DIMOD_INFINITY, np.inf, upper)


def _vartype_code(vartype) -> int:
    import dimod

    return {
        dimod.BINARY: BINARY,
        dimod.SPIN: SPIN,
        dimod.INTEGER: INTEGER,
        dimod.REAL: CONTINUOUS,
    }[vartype]


def _variables(model, labels: list[Hashable]) -> _Vars:
    codes = np.array([_vartype_code(model.vartype(v)) for v in labels], dtype=np.int8)
    lower = np.empty(len(labels))
    upper = np.empty(len(labels))
    for k, v in enumerate(labels):
        if codes[k] == BINARY:
            lower[k], upper[k] = 0.0, 1.0
        elif codes[k] == SPIN:
            lower[k], upper[k] = -1.0, 1.0
        else:
            lower[k], upper[k] = model.lower_bound(v), model.upper_bound(v)
    return _Vars(labels, codes, lower, upper)


def _objective_arrays(qm, variables: _Vars):
    import dimod

    n = variables.n
    flat = variables.flat_of
    if isinstance(qm, dimod.BinaryQuadraticModel):  # vectorised path for big BQMs
        labels = list(qm.variables)
        lin, (irow, icol, qdata), offset = qm.to_numpy_vectors(variable_order=labels)
        where = np.array([flat[v] for v in labels], dtype=np.int64)
        linear = np.zeros(n)
        linear[where] = lin
        quadratic = sp.csr_matrix((qdata, (where[irow], where[icol])), shape=(n, n))
        return float(offset), linear, quadratic
    linear = np.zeros(n)
    for v, bias in qm.iter_linear():
        linear[flat[v]] += bias
    rows, cols, vals = [], [], []
    for u, v, bias in qm.iter_quadratic():
        rows.append(flat[u])
        cols.append(flat[v])
        vals.append(bias)
    quadratic = sp.csr_matrix((vals, (rows, cols)), shape=(n, n)) if vals else sp.csr_matrix((n, n))
    return float(qm.offset), linear, quadratic


def _problem(
    variables: _Vars, constant, linear, quadratic, higher, A, lo, hi, groups, name, kind
) -> Problem:
    problem = Problem(
        var_arrays=variables.arrays,
        lower=variables.lower,
        upper=variables.upper,
        vtype=variables.codes,
        constant=constant,
        linear=linear,
        quadratic=quadratic,
        higher_order=higher,
        A=A,
        lo=lo,
        hi=hi,
        constraint_groups=groups,
        sense="min",
        name=name,
        metadata={"format": f"dimod.{kind}"},
    )
    return mark_one_hot(problem) if groups else problem


def _from_quadratic(model, name: str) -> Problem:
    labels = list(model.variables)
    variables = _variables(model, labels)
    constant, linear, quadratic = _objective_arrays(model, variables)
    n = variables.n
    return _problem(
        variables,
        constant,
        linear,
        quadratic,
        {},
        sp.csr_matrix((0, n)),
        np.zeros(0),
        np.zeros(0),
        [],
        name,
        type(model).__name__,
    )


def _from_cqm(cqm, name: str) -> Problem:
    import dimod

    soft = getattr(cqm, "_soft", {}) or {}
    if soft:
        raise UnsupportedError(
            f"the CQM has soft constraints ({', '.join(map(str, list(soft)[:3]))}); kakehashi "
            "constraints are hard: make them hard or move them into the objective as penalties"
        )
    labels = list(cqm.variables)
    variables = _variables(cqm, labels)
    constant, linear, quadratic = _objective_arrays(cqm.objective, variables)
    flat = variables.flat_of

    rows: list[tuple[np.ndarray, np.ndarray]] = []
    lo: list[float] = []
    hi: list[float] = []
    row_labels: list[Hashable] = []
    position: dict[Hashable, int] = {}
    lower_rows: list[tuple[str, np.ndarray, np.ndarray, float]] = []
    for label, comparison in cqm.constraints.items():
        lhs = comparison.lhs
        if not lhs.is_linear():
            raise UnsupportedError(
                f"CQM constraint {label!r} is quadratic; kakehashi holds linear constraints only: "
                "linearise it or move it into the objective as a penalty"
            )
        terms = {}
        for v, bias in lhs.iter_linear():
            if bias:
                terms[flat[v]] = terms.get(flat[v], 0.0) + bias
        idx = np.array(sorted(terms), dtype=np.int64)
        coef = np.array([terms[i] for i in idx.tolist()], dtype=np.float64)
        rhs = float(comparison.rhs) - float(lhs.offset)
        sense = comparison.sense
        if isinstance(label, str) and label.endswith(LOWER_SUFFIX) and sense is dimod.sym.Sense.Ge:
            lower_rows.append((label, idx, coef, rhs))
            continue
        position[label] = len(rows)
        rows.append((idx, coef))
        row_labels.append(label)
        lo.append(rhs if sense in (dimod.sym.Sense.Ge, dimod.sym.Sense.Eq) else -np.inf)
        hi.append(rhs if sense in (dimod.sym.Sense.Le, dimod.sym.Sense.Eq) else np.inf)
    for label, idx, coef, rhs in lower_rows:
        base = position.get(label[: -len(LOWER_SUFFIX)])
        if (
            base is not None
            and np.array_equal(rows[base][0], idx)
            and np.array_equal(rows[base][1], coef)
        ):
            lo[base] = max(lo[base], rhs)
            continue
        position[label] = len(rows)
        rows.append((idx, coef))
        row_labels.append(label)
        lo.append(rhs)
        hi.append(np.inf)

    split = [split_label(lab, default_name="c") for lab in row_labels]
    blocks = infer_blocks([s[0] for s in split], [s[1] for s in split], default_name="c")
    order = np.concatenate([b.members for b in blocks]) if blocks else np.zeros(0, np.int64)
    groups, start = [], 0
    for b in blocks:
        groups.append(ConstraintGroup(b.name, b.shape, start))
        start += b.members.size
    n = variables.n
    if rows:
        lengths = np.array([rows[r][0].size for r in order], dtype=np.int64)
        A = sp.csr_matrix(
            (
                np.concatenate([rows[r][1] for r in order]),
                np.concatenate([rows[r][0] for r in order]),
                np.concatenate([[0], np.cumsum(lengths)]),
            ),
            shape=(len(rows), n),
        )
        lo_arr, hi_arr = np.asarray(lo)[order], np.asarray(hi)[order]
    else:
        A, lo_arr, hi_arr = sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0)
    return _problem(
        variables,
        constant,
        linear,
        quadratic,
        {},
        A,
        lo_arr,
        hi_arr,
        groups,
        name,
        "ConstrainedQuadraticModel",
    )


def _from_polynomial(poly, name: str) -> Problem:
    import dimod

    code = SPIN if poly.vartype is dimod.SPIN else BINARY
    labels = list(poly.variables)
    n = len(labels)
    codes = np.full(n, code, dtype=np.int8)
    bound = (-1.0, 1.0) if code == SPIN else (0.0, 1.0)
    variables = _Vars(labels, codes, np.full(n, bound[0]), np.full(n, bound[1]))
    flat = variables.flat_of
    constant = 0.0
    linear = np.zeros(n)
    rows, cols, vals = [], [], []
    higher: dict[int, tuple[list, list]] = {}
    for term, bias in poly.items():
        ids = sorted(flat[v] for v in term)
        if len(ids) == 0:
            constant += bias
        elif len(ids) == 1:
            linear[ids[0]] += bias
        elif len(ids) == 2:
            rows.append(ids[0])
            cols.append(ids[1])
            vals.append(bias)
        else:
            entry = higher.setdefault(len(ids), ([], []))
            entry[0].append(ids)
            entry[1].append(bias)
    quadratic = sp.csr_matrix((vals, (rows, cols)), shape=(n, n)) if vals else sp.csr_matrix((n, n))
    higher_order = {
        d: (np.array(i, np.int64), np.array(c, np.float64)) for d, (i, c) in higher.items()
    }
    return _problem(
        variables,
        constant,
        linear,
        quadratic,
        higher_order,
        sp.csr_matrix((0, n)),
        np.zeros(0),
        np.zeros(0),
        [],
        name,
        "BinaryPolynomial",
    )
