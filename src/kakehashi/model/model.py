"""`Model`: numpy-style modelling — arrays of variables, expressions, named constraints.

Everything is vectorised: a variable array is an :class:`~kakehashi.model.expr.Expr` whose
terms are numpy index arrays, and :meth:`Model.to_problem` sums them into the sparse
matrices of a :class:`~kakehashi.Problem` in a few scatter-adds.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.errors import ModelError
from kakehashi.model.expr import Constraint, Expr, _merge_terms
from kakehashi.model.problem import (
    BINARY,
    CONTINUOUS,
    INTEGER,
    SPIN,
    VTYPE_NAMES,
    ConstraintGroup,
    Problem,
    VarArray,
)

__all__ = ["Constraint", "Expr", "Model"]


@dataclasses.dataclass
class _Rows:
    """One named constraint group, kept as CSR pieces until the variable count is final."""

    name: str
    shape: tuple[int, ...]
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    kind: str


def _as_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise ModelError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ModelError(f"shape {shape} has a negative dimension")
    return shape


class Model:
    """A numpy-style optimisation model: variable arrays, an objective, named constraints.

    Variables are arrays (``m.binary("x", shape=(n, n))``); expressions are built from them
    with numpy operations (indexing, ``sum(axis=)``, ``@`` with coefficient arrays,
    broadcasting ``*``, products of variables); constraints are comparisons passed to
    :meth:`constrain`. :meth:`to_problem` gives the canonical :class:`~kakehashi.Problem`.

    Example — travelling salesman, ``x[k, i] = 1`` when city ``i`` is the ``k``-th visited:

        >>> import numpy as np
        >>> from kakehashi import Model
        >>> n = 4
        >>> d = np.array([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]], float)
        >>> m = Model("tsp")
        >>> x = m.binary("x", shape=(n, n))
        >>> m.minimize(((x @ d) * x.roll(-1, axis=0)).sum())   # Σ_k Σ_ij d_ij x[k,i] x[k+1,j]
        >>> m.one_hot(x, axis=1, name="one_city_per_step")
        'one_city_per_step'
        >>> m.one_hot(x, axis=0, name="one_step_per_city")
        'one_step_per_city'
        >>> p = m.to_problem()
        >>> p.num_variables, p.num_constraints
        (16, 8)
        >>> tour = np.eye(n)                                   # visit 0, 1, 2, 3
        >>> float(p.evaluate(tour.ravel())["objective"][0])
        4.0

    Example — knapsack with a weight limit (an inequality):

        >>> values, weights = np.array([5.0, 4, 3]), np.array([4.0, 3, 2])
        >>> m = Model("knapsack")
        >>> take = m.binary("take", shape=3)
        >>> m.maximize(values @ take)
        >>> m.constrain(weights @ take <= 6, name="capacity")
        'capacity'
        >>> p = m.to_problem()
        >>> p.evaluate(np.array([[1, 0, 1], [1, 1, 0]]))["feasible"].tolist()
        [True, False]
    """

    def __init__(self, name: str = "model") -> None:
        self.name = str(name)
        self._arrays: list[VarArray] = []
        self._exprs: dict[str, Expr] = {}
        self._lower: list[np.ndarray] = []
        self._upper: list[np.ndarray] = []
        self._n = 0
        self._vtype_cache: np.ndarray | None = None
        self._objective: Expr | None = None
        self._sense = "min"
        self._rows: list[_Rows] = []

    # ------------------------------------------------------------------ variables
    def binary(self, name: str, shape: Any = ()) -> Expr:
        """An array of 0/1 variables.

        Example:
            >>> m = Model(); x = m.binary("x", shape=(3, 4)); x.shape
            (3, 4)
        """
        return self._add_vars(name, shape, BINARY, 0.0, 1.0)

    def spin(self, name: str, shape: Any = ()) -> Expr:
        """An array of ±1 variables (``s * s == 1``).

        Example:
            >>> m = Model(); s = m.spin("s", shape=5); (s * s).degree
            0
        """
        return self._add_vars(name, shape, SPIN, -1.0, 1.0)

    def integer(self, name: str, shape: Any = (), *, lower: Any = None, upper: Any = None) -> Expr:
        """An array of integer variables with finite bounds (scalars or arrays of ``shape``).

        Example:
            >>> m = Model(); k = m.integer("k", shape=2, lower=0, upper=[3, 10]); k.shape
            (2,)
        """
        if lower is None or upper is None:
            raise ModelError(
                f"integer variables {name!r} need finite bounds (they are encoded in bits); "
                "pass lower= and upper=, e.g. m.integer('k', shape, lower=0, upper=10)"
            )
        return self._add_vars(name, shape, INTEGER, lower, upper)

    def continuous(
        self, name: str, shape: Any = (), *, lower: Any = -np.inf, upper: Any = np.inf
    ) -> Expr:
        """An array of real variables (QUBO backends cannot take them; MIP backends can).

        Example:
            >>> m = Model(); y = m.continuous("y", shape=3, lower=0); y.shape
            (3,)
        """
        return self._add_vars(name, shape, CONTINUOUS, lower, upper)

    def _add_vars(self, name: str, shape: Any, code: int, lower: Any, upper: Any) -> Expr:
        if not isinstance(name, str) or not name:
            raise ModelError(f"variable arrays need a non-empty string name, got {name!r}")
        if name in self._exprs:
            raise ModelError(
                f"variable name {name!r} is already used in model {self.name!r}; "
                "give each variable array its own name"
            )
        shape = _as_shape(shape)
        size = math.prod(shape)
        try:
            lo = np.broadcast_to(np.asarray(lower, dtype=np.float64), shape).ravel().copy()
            hi = np.broadcast_to(np.asarray(upper, dtype=np.float64), shape).ravel().copy()
        except ValueError:
            raise ModelError(
                f"bounds of {name!r} do not broadcast to its shape {shape}; "
                "give scalars or arrays of that shape"
            ) from None
        if code == INTEGER and not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ModelError(f"integer variables {name!r} need finite lower and upper bounds")
        bad = np.flatnonzero(lo > hi)
        if bad.size:
            i = int(bad[0])
            raise ModelError(
                f"variable {VarArray(name, shape, 0, code).element_name(i)} has lower bound "
                f"{lo[i]:g} > upper bound {hi[i]:g}; swap or fix the bounds"
            )
        if code == INTEGER and np.any((lo != np.round(lo)) | (hi != np.round(hi))):
            lo, hi = np.ceil(lo), np.floor(hi)
        start = self._n
        self._arrays.append(VarArray(name, shape, start, code))
        self._lower.append(lo)
        self._upper.append(hi)
        self._n += size
        self._vtype_cache = None
        ids = np.arange(start, start + size, dtype=np.int64)
        expr = Expr(
            self,
            shape,
            np.zeros(shape),
            {1: (np.arange(size, dtype=np.int64), ids[None, :], np.ones(size))},
            distinct=True,
            injective=True,
            label=f"{VTYPE_NAMES[code]} array {name!r}",
        )
        self._exprs[name] = expr
        return expr

    @property
    def num_variables(self) -> int:
        return self._n

    @property
    def variables(self) -> dict[str, Expr]:
        """The variable arrays by name."""
        return dict(self._exprs)

    def __getitem__(self, name: str) -> Expr:
        try:
            return self._exprs[name]
        except KeyError:
            raise ModelError(
                f"model {self.name!r} has no variable array {name!r}; it has "
                f"{', '.join(self._exprs) or 'none'}"
            ) from None

    def _vtype_array(self) -> np.ndarray:
        if self._vtype_cache is None or self._vtype_cache.size != self._n:
            self._vtype_cache = np.concatenate(
                [np.full(va.size, va.vtype, dtype=np.int8) for va in self._arrays]
                or [np.zeros(0, dtype=np.int8)]
            )
        return self._vtype_cache

    def _samples(self, values: Any) -> tuple[np.ndarray, bool]:
        """Flat samples (k, n) from a flat vector, a (k, n) array or ``{name: array}``."""
        if isinstance(values, dict):
            X = np.zeros(self._n)
            for va in self._arrays:
                if va.name not in values:
                    raise ModelError(f"values are missing variable array {va.name!r}")
                arr = np.asarray(values[va.name], dtype=np.float64)
                if arr.size != va.size:
                    raise ModelError(
                        f"values for {va.name!r} have {arr.size} entries; its shape is {va.shape}"
                    )
                X[va.start : va.stop] = arr.ravel()
            return X[None, :], True
        X = np.asarray(values, dtype=np.float64)
        single = X.ndim == 1
        X = np.atleast_2d(X)
        if X.ndim != 2 or X.shape[1] != self._n:
            raise ModelError(
                f"values have shape {np.shape(values)}; expected ({self._n},) or (k, {self._n}) "
                f"for model {self.name!r}"
            )
        return X, single

    # ------------------------------------------------------------------ objective
    def minimize(self, expr: Any) -> None:
        """Set the objective to minimise (a scalar expression; ``.sum()`` an array first).

        Example:
            >>> m = Model(); x = m.binary("x", 3); m.minimize(x.sum())
        """
        self._objective = self._scalar(expr, "minimize")
        self._sense = "min"

    def maximize(self, expr: Any) -> None:
        """Set the objective to maximise (a scalar expression).

        Example:
            >>> m = Model(); x = m.binary("x", 3); m.maximize(x.sum())
        """
        self._objective = self._scalar(expr, "maximize")
        self._sense = "max"

    minimise, maximise = minimize, maximize

    @property
    def objective(self) -> Expr:
        """The objective expression; ``m.objective += term`` adds to it.

        Example:
            >>> m = Model(); x = m.binary("x", 2)
            >>> m.minimize(x[0]); m.objective += 2 * x[1]; m.objective.num_terms
            2
        """
        if self._objective is None:
            return Expr.constant(self, 0.0)
        return self._objective

    @objective.setter
    def objective(self, expr: Any) -> None:
        self._objective = self._scalar(expr, "objective")

    @property
    def sense(self) -> str:
        return self._sense

    def _scalar(self, expr: Any, what: str) -> Expr:
        if isinstance(expr, Constraint):
            raise ModelError(f"{what}() takes an expression, not a comparison")
        if not isinstance(expr, Expr):
            expr = Expr.constant(self, expr)
        self._check_model(expr, what)
        if expr.shape != ():
            raise ModelError(
                f"{what}() needs a scalar expression, got one of shape {expr.shape}; "
                "sum it first, e.g. expr.sum()"
            )
        return expr

    def _check_model(self, expr: Expr, what: str) -> None:
        if expr._model is not self:
            raise ModelError(
                f"{what}: the expression uses variables of model {expr._model.name!r}, not of "
                f"model {self.name!r}; build it from this model's variables"
            )

    # ------------------------------------------------------------------ constraints
    def constrain(self, constraint: Constraint, name: str | None = None) -> str:
        """Add a linear constraint (``==``, ``<=``, ``>=``), one row per element.

        An array comparison makes a *group* of rows named ``name`` with the expression's shape.
        Returns the group's name.

        Example:
            >>> m = Model(); x = m.binary("x", (3, 3))
            >>> m.constrain(x.sum(axis=1) == 1, name="one_per_row")
            'one_per_row'
        """
        if not isinstance(constraint, Constraint):
            raise ModelError(
                "constrain() takes a comparison such as `x.sum(axis=1) == 1` or `w @ x <= 10`; "
                "for lo <= expr <= hi use constrain_range(expr, lo, hi)"
            )
        expr = constraint.expr
        neg_const = -expr.const
        inf = np.full(expr.shape, np.inf)
        lo, hi = {
            "==": (neg_const, neg_const),
            "<=": (-inf, neg_const),
            ">=": (neg_const, inf),
        }[constraint.sense]
        return self._add_rows(expr, lo, hi, name, "constrain")

    def constrain_range(self, expr: Any, lo: Any, hi: Any, name: str | None = None) -> str:
        """Add ``lo <= expr <= hi`` element-wise (``lo``/``hi`` broadcast; ±inf allowed).

        Example:
            >>> m = Model(); k = m.integer("k", 3, lower=0, upper=5)
            >>> m.constrain_range(k.sum(), 2, 7, name="total")
            'total'
        """
        if not isinstance(expr, Expr):
            raise ModelError("constrain_range() takes an expression of this model's variables")
        try:
            lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), expr.shape)
            hi = np.broadcast_to(np.asarray(hi, dtype=np.float64), expr.shape)
        except ValueError:
            raise ModelError(
                f"bounds of shapes {np.shape(lo)} and {np.shape(hi)} do not broadcast to the "
                f"expression's shape {expr.shape}"
            ) from None
        return self._add_rows(expr, lo - expr.const, hi - expr.const, name, "constrain_range")

    def one_hot(self, x: Expr, axis: int | None = -1, name: str | None = None) -> str:
        """Exactly one of ``x`` is 1 along ``axis`` (all of ``x`` when ``axis=None``).

        Marks the group ``kind="one_hot"`` so compilers and engines may exploit it.

        Example:
            >>> m = Model(); x = m.binary("x", (3, 4))
            >>> m.one_hot(x, axis=1, name="assign")
            'assign'
            >>> m.to_problem().constraint_groups[0].kind
            'one_hot'
        """
        if not isinstance(x, Expr):
            raise ModelError("one_hot() takes an array of binary variables, e.g. m.one_hot(x)")
        self._check_model(x, "one_hot")
        lin = x.terms.get(1)
        ok = (
            set(x.terms) <= {1}
            and not np.any(x.const)
            and lin is not None
            and np.all(lin[2] == 1.0)
            and np.all(self._vtype_array()[lin[1][0]] == BINARY)
        )
        if not ok:
            raise ModelError(
                "one_hot() needs an array of binary variables (a slice of m.binary(...)); "
                "for other sums use m.constrain(expr.sum(axis=...) == 1)"
            )
        name = self._add_rows(x.sum(axis=axis), 1.0, 1.0, name, "one_hot", kind="one_hot")
        if self._rows[-1].kind != "one_hot":
            self._rows.pop()
            raise ModelError(
                "one_hot(): a variable appears twice in one group; index each variable once"
            )
        return name

    def _add_rows(
        self, expr: Expr, lo: Any, hi: Any, name: str | None, what: str, kind: str | None = None
    ) -> str:
        self._check_model(expr, what)
        if name is None:
            name = f"c{len(self._rows)}"
        if not isinstance(name, str) or not name:
            raise ModelError(f"constraint names are non-empty strings, got {name!r}")
        if any(r.name == name for r in self._rows):
            raise ModelError(
                f"constraint name {name!r} is already used in model {self.name!r}; "
                "give each constraint group its own name"
            )
        if any(d > 1 for d in expr.simplify().terms):
            raise ModelError(
                f"constraint {name!r} is not linear (degree {expr.degree}); kakehashi takes "
                "linear constraints only. Put a quadratic condition in the objective as a "
                "penalty, e.g. m.objective += w * (expr - rhs) ** 2, or linearise it"
            )
        shape = expr.shape
        rows = math.prod(shape)
        e, v, c = expr.terms.get(
            1, (np.zeros(0, np.int64), np.zeros((1, 0), np.int64), np.zeros(0))
        )
        if e.size == 0:
            raise ModelError(
                f"constraint {name!r} has no variables (its expression is constant); "
                "check the expression, or drop the constraint"
            )
        A = sp.csr_matrix((c, (e, v[0])), shape=(rows, self._n))
        A.sum_duplicates()
        lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), shape).ravel().copy()
        hi = np.broadcast_to(np.asarray(hi, dtype=np.float64), shape).ravel().copy()
        bad = np.flatnonzero(lo > hi)
        if bad.size:
            raise ModelError(
                f"constraint {name!r} has a row whose lower side {lo[bad[0]]:g} exceeds its "
                f"upper side {hi[bad[0]]:g}; it can never hold"
            )
        if kind is None or kind == "one_hot":
            kind = "one_hot" if self._is_one_hot(A, lo, hi) else "linear"
        self._rows.append(
            _Rows(
                name,
                shape,
                A.data,
                A.indices.astype(np.int64),
                A.indptr.astype(np.int64),
                lo,
                hi,
                kind,
            )
        )
        return name

    def _is_one_hot(self, A: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> bool:
        return bool(
            A.nnz
            and np.all(lo == 1.0)
            and np.all(hi == 1.0)
            and np.all(A.data == 1.0)
            and np.all(np.diff(A.indptr) > 0)
            and np.all(self._vtype_array()[A.indices] == BINARY)
        )

    # ------------------------------------------------------------------ output
    def to_problem(self) -> Problem:
        """The model as a :class:`~kakehashi.Problem` (matrix form), duplicates summed.

        Example:
            >>> m = Model("demo"); x = m.binary("x", 2); m.minimize(x[0] * x[1] - x.sum())
            >>> m.to_problem().summary()
            'demo: 2 variables (2 binary), 0 constraints, degree 2, minimise'
        """
        n = self._n
        if n == 0:
            raise ModelError(
                f"model {self.name!r} has no variables; declare some, e.g. "
                "x = m.binary('x', shape=(n,)), and use them in an objective or constraint"
            )
        if self._objective is None and not self._rows:
            raise ModelError(
                f"model {self.name!r} has neither an objective nor constraints; "
                "call m.minimize(expr), m.maximize(expr) or m.constrain(...)"
            )
        obj = self.objective
        linear = np.zeros(n)
        quadratic = sp.csr_matrix((n, n))
        higher: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for d, (_, v, c) in obj.terms.items():
            if d == 1:
                linear = np.bincount(v[0], weights=c, minlength=n).astype(np.float64)
            elif d == 2:
                # product terms are stored with v[0] <= v[1]: already the upper triangle
                quadratic = sp.csr_matrix((c, (v[0], v[1])), shape=(n, n))
            else:
                _, idx, coef = _merge_terms(np.zeros(c.size, np.int64), v, c, n, 1)
                higher[d] = (np.ascontiguousarray(idx.T), coef)
        A = (
            sp.vstack(
                [
                    sp.csr_matrix((r.data, r.indices, r.indptr), shape=(r.indptr.size - 1, n))
                    for r in self._rows
                ],
                format="csr",
            )
            if self._rows
            else sp.csr_matrix((0, n))
        )
        groups, start = [], 0
        for r in self._rows:
            groups.append(ConstraintGroup(r.name, r.shape, start, r.kind))
            start += r.indptr.size - 1
        problem = Problem(
            var_arrays=list(self._arrays),
            lower=np.concatenate(self._lower),
            upper=np.concatenate(self._upper),
            vtype=self._vtype_array().copy(),
            constant=float(obj.const),
            linear=linear,
            quadratic=quadratic,
            higher_order=higher,
            A=A,
            lo=np.concatenate([r.lo for r in self._rows]) if self._rows else np.zeros(0),
            hi=np.concatenate([r.hi for r in self._rows]) if self._rows else np.zeros(0),
            constraint_groups=groups,
            sense=self._sense,
            name=self.name,
        )
        return problem.validate()

    def to_ommx(self) -> Any:
        """The model as an ``ommx.v1.Instance`` (via :meth:`to_problem`).

        Example:
            >>> m = Model(); x = m.binary("x", 2); m.minimize(x.sum())
            >>> m.to_ommx()                                   # doctest: +SKIP
        """
        from kakehashi.model.ommx_io import to_ommx

        return to_ommx(self.to_problem())

    def __repr__(self) -> str:
        arrays = ", ".join(f"{a.name}{list(a.shape)}" for a in self._arrays)
        return (
            f"<Model {self.name!r}: {self._n} variables ({arrays}), "
            f"{len(self._rows)} constraint groups, {self._sense}imise>"
        )
