"""`Problem` ↔ qiskit-optimization ``QuadraticProgram`` (the ``[qiskit]`` extra).

Binary, integer and continuous variables with bounds, a linear + quadratic objective with
its sense, and linear constraints (``<=``, ``>=``, ``==``) map one to one. Variable names
``x[3,4]`` are grouped back into arrays as everywhere else; other names become scalar arrays.
Not expressible, so :class:`UnsupportedError`: quadratic constraints (from a program), and
spins or higher-order terms (to a program; qiskit-optimization has neither).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.errors import BackendUnavailableError, UnsupportedError
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


def _qiskit_optimization():
    try:
        import qiskit_optimization
    except ImportError:
        raise BackendUnavailableError(
            "qiskit-optimization is not installed; install the extra: "
            "pip install 'kakehashi[qiskit]'"
        ) from None
    return qiskit_optimization


def from_quadratic_program(qp: Any) -> Problem:
    """A Problem from a qiskit-optimization ``QuadraticProgram``.

    Example:
        >>> from qiskit_optimization import QuadraticProgram  # doctest: +SKIP
        >>> qp = QuadraticProgram("demo")  # doctest: +SKIP
        >>> _ = qp.binary_var("x[0]"), qp.binary_var("x[1]")  # doctest: +SKIP
        >>> qp.maximize(linear={"x[0]": 1}, quadratic={("x[0]", "x[1]"): -2})  # doctest: +SKIP
        >>> from_quadratic_program(qp).var_arrays  # doctest: +SKIP
        [VarArray(name='x', shape=(2,), start=0, vtype=0)]
    """
    qo = _qiskit_optimization()
    from qiskit_optimization.problems import Constraint, VarType

    if not isinstance(qp, qo.QuadraticProgram):
        raise UnsupportedError(
            f"expected a qiskit_optimization.QuadraticProgram, got {type(qp).__name__}"
        )
    if qp.quadratic_constraints:
        c = qp.quadratic_constraints[0]
        raise UnsupportedError(
            f"quadratic constraint {c.name!r} cannot be held: kakehashi constraints are linear; "
            "linearise it or move it into the objective as a penalty"
        )
    code_of = {VarType.BINARY: BINARY, VarType.INTEGER: INTEGER, VarType.CONTINUOUS: CONTINUOUS}
    variables = qp.variables
    n = len(variables)
    codes = np.array([code_of[v.vartype] for v in variables], dtype=np.int8)
    lower = np.array([v.lowerbound for v in variables], dtype=np.float64)
    upper = np.array([v.upperbound for v in variables], dtype=np.float64)
    split = [split_label(v.name) for v in variables]
    blocks = infer_blocks([s[0] for s in split], [s[1] for s in split], codes)
    order = np.concatenate([b.members for b in blocks]) if blocks else np.zeros(0, np.int64)
    flat = np.empty(n, dtype=np.int64)
    flat[order] = np.arange(n)
    arrays, start = [], 0
    for b in blocks:
        arrays.append(VarArray(b.name, b.shape, start, int(codes[b.members[0]])))
        start += b.members.size

    obj = qp.objective
    lin = sp.coo_matrix(obj.linear.coefficients)
    linear = np.zeros(n)
    np.add.at(linear, flat[lin.col], lin.data)
    quad = sp.coo_matrix(obj.quadratic.coefficients)
    quadratic = sp.csr_matrix((quad.data, (flat[quad.row], flat[quad.col])), shape=(n, n))

    rows, lo, hi, names = [], [], [], []
    for c in qp.linear_constraints:
        coo = sp.coo_matrix(c.linear.coefficients)
        rows.append((flat[coo.col], coo.data))
        rhs = float(c.rhs)
        lo.append(rhs if c.sense in (Constraint.Sense.GE, Constraint.Sense.EQ) else -np.inf)
        hi.append(rhs if c.sense in (Constraint.Sense.LE, Constraint.Sense.EQ) else np.inf)
        names.append(c.name)
    # a ranged row written by to_quadratic_program as "<name>" (≤) and "<name>#lower" (≥)
    position = {nm: r for r, nm in enumerate(names)}
    for r in reversed(range(len(names))):
        base = (
            position.get(names[r].removesuffix("#lower")) if names[r].endswith("#lower") else None
        )
        if (
            base is not None
            and hi[r] == np.inf
            and np.array_equal(np.sort(rows[r][0]), np.sort(rows[base][0]))
            and np.allclose(
                rows[r][1][np.argsort(rows[r][0])],
                rows[base][1][np.argsort(rows[base][0])],
                rtol=0,
                atol=0,
            )
        ):
            lo[base] = max(lo[base], lo[r])
            for seq in (rows, lo, hi, names):
                del seq[r]
    csplit = [split_label(nm, default_name="c") for nm in names]
    cblocks = infer_blocks([s[0] for s in csplit], [s[1] for s in csplit], default_name="c")
    corder = np.concatenate([b.members for b in cblocks]) if cblocks else np.zeros(0, np.int64)
    groups, start = [], 0
    for b in cblocks:
        groups.append(ConstraintGroup(b.name, b.shape, start))
        start += b.members.size
    m = len(rows)
    if m:
        A = sp.csr_matrix(
            (
                np.concatenate([rows[r][1] for r in corder]),
                (
                    np.repeat(np.arange(m), [rows[r][0].size for r in corder]),
                    np.concatenate([rows[r][0] for r in corder]),
                ),
            ),
            shape=(m, n),
        )
        lo_arr, hi_arr = np.asarray(lo)[corder], np.asarray(hi)[corder]
    else:
        A, lo_arr, hi_arr = sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0)

    problem = Problem(
        var_arrays=arrays,
        lower=lower[order],
        upper=upper[order],
        vtype=codes[order],
        constant=float(obj.constant),
        linear=linear,
        quadratic=quadratic,
        higher_order={},
        A=A,
        lo=lo_arr,
        hi=hi_arr,
        constraint_groups=groups,
        sense="max" if obj.sense == obj.sense.MAXIMIZE else "min",
        name=qp.name or "quadratic_program",
        metadata={"format": "qiskit_optimization.QuadraticProgram"},
    )
    return mark_one_hot(problem)


def to_quadratic_program(problem: Problem) -> Any:
    """The problem as a qiskit-optimization ``QuadraticProgram`` (variables named ``x[i,j]``).

    Example:
        >>> from kakehashi.model.problem import Problem  # doctest: +SKIP
        >>> qp = to_quadratic_program(Problem.from_arrays(linear=[1.0, -1.0]))  # doctest: +SKIP
        >>> [v.name for v in qp.variables]  # doctest: +SKIP
        ['x[0]', 'x[1]']
    """
    qo = _qiskit_optimization()
    if np.any(problem.vtype == SPIN):
        raise UnsupportedError(
            f"problem {problem.name!r} has spin variables, which a QuadraticProgram cannot hold; "
            "use binaries (s = 2b − 1)"
        )
    if problem.higher_order:
        raise UnsupportedError(
            f"problem {problem.name!r} has terms of degree {max(problem.higher_order)}; a "
            "QuadraticProgram is quadratic: reduce them with kakehashi.compile first"
        )
    qp = qo.QuadraticProgram(problem.name)
    labels = problem.variable_names()
    for i, label in enumerate(labels):
        code = int(problem.vtype[i])
        if code == BINARY:
            qp.binary_var(label)
        elif code == INTEGER:
            qp.integer_var(lowerbound=problem.lower[i], upperbound=problem.upper[i], name=label)
        else:
            qp.continuous_var(lowerbound=problem.lower[i], upperbound=problem.upper[i], name=label)
    q = problem.quadratic.tocoo()
    quadratic = {
        (labels[i], labels[j]): v
        for i, j, v in zip(q.row.tolist(), q.col.tolist(), q.data.tolist(), strict=True)
    }
    linear = {labels[i]: float(problem.linear[i]) for i in np.flatnonzero(problem.linear).tolist()}
    if problem.sense == "max":
        qp.maximize(constant=problem.constant, linear=linear, quadratic=quadratic)
    else:
        qp.minimize(constant=problem.constant, linear=linear, quadratic=quadratic)
    A = problem.A
    names = problem.constraint_names()
    for r, name in enumerate(names):
        row = A.getrow(r)
        coeffs = {
            labels[j]: v for j, v in zip(row.indices.tolist(), row.data.tolist(), strict=True)
        }
        lo, hi = problem.lo[r], problem.hi[r]
        if lo == hi:
            qp.linear_constraint(coeffs, "==", hi, name)
            continue
        if np.isfinite(hi):
            qp.linear_constraint(coeffs, "<=", hi, name)
        if np.isfinite(lo):
            qp.linear_constraint(coeffs, ">=", lo, f"{name}#lower" if np.isfinite(hi) else name)
    return qp
