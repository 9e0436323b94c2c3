"""Expression arrays: one polynomial per array element, held as COO-style numpy arrays.

An :class:`Expr` of shape ``S`` stands for ``prod(S)`` polynomials over a model's flat
variables. It holds

* ``const`` — an ndarray of shape ``S``;
* ``terms`` — ``{degree: (elem, vars, coef)}`` with ``elem`` (m,) the flat element each term
  belongs to, ``vars`` (degree, m) the flat variable indices of each monomial (sorted along
  axis 0; degree-major so that each factor is one contiguous array), and ``coef`` (m,).

Every operation — indexing, broadcasting, sums, products with numpy arrays or with other
expressions — is index arithmetic on those arrays (``np.repeat``, ``np.bincount``, gathers),
so building a model with a million terms never creates a Python object per term. Duplicate
terms are allowed; they are summed when the model is turned into a :class:`Problem`.

Two facts about the term lists are tracked because they make products cheap:
``distinct`` (no two terms share element and monomial, so there is nothing to merge) and
``injective`` (linear only, every variable in at most one term — true of fresh variables and
their slices, and what keeps ``sum`` and ``@`` results ``distinct``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from kakehashi.errors import ModelError
from kakehashi.model.problem import BINARY, SPIN

if TYPE_CHECKING:
    from kakehashi.model.model import Model

Terms = tuple[np.ndarray, np.ndarray, np.ndarray]  # elem (m,), vars (k, m), coef (m,)

_I64 = np.int64
_EMPTY_I = np.zeros(0, dtype=_I64)


# ---------------------------------------------------------------------- index helpers
def _expand_ranges(first: np.ndarray, rep: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Concatenate the ranges ``first[t] .. first[t] + rep[t] - 1``; also say which ``t`` each
    output slot came from (``None`` when that is the identity, i.e. every ``rep`` is 1).

    ``first = [5, 9, 0]``, ``rep = [2, 0, 3]`` → ids ``[0, 0, 2, 2, 2]``,
    positions ``[5, 6, 0, 1, 2]``.
    """
    if rep.size and rep.min() == 1 and rep.max() == 1:
        return None, first
    ids = np.repeat(np.arange(rep.size, dtype=_I64), rep)
    # position = first[t] + (slot - start_of_run(t)): one repeat and an arange
    shift = first - (np.cumsum(rep) - rep)
    pos = np.repeat(shift, rep)
    pos += np.arange(pos.size, dtype=_I64)
    return ids, pos


def _take(a: np.ndarray, ids: np.ndarray | None, axis: int = -1) -> np.ndarray:
    return a if ids is None else np.take(a, ids, axis=axis)


def _group_index(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort order, counts and run starts of integer ``keys`` in ``0..size-1`` (a CSR index)."""
    counts = np.bincount(keys, minlength=size)
    starts = np.cumsum(counts) - counts
    if keys.size < 2 or bool(np.all(keys[1:] >= keys[:-1])):
        order = np.arange(keys.size, dtype=_I64)
    elif counts.max() <= 1:  # one term per element: a scatter, no sort
        order = np.empty(keys.size, dtype=_I64)
        order[starts[keys]] = np.arange(keys.size, dtype=_I64)
    else:
        order = np.argsort(keys, kind="stable")
    return order, counts, starts


def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...], what: str) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        raise ModelError(
            f"cannot {what} arrays of shapes {a} and {b}: they do not broadcast; "
            "index or reshape one of them (numpy broadcasting rules apply)"
        ) from None


def _normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ModelError(f"axis {a} is out of range for an expression with {ndim} dimensions")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ModelError(f"repeated axis in {axis!r}")
    return tuple(out)


# ---------------------------------------------------------------------- the expression
class Expr:
    """An array of polynomial expressions over a :class:`~kakehashi.Model`'s variables.

    Behaves like a numpy array: ``x[0]``, ``x[:, 1:]``, ``x.sum(axis=0)``, ``x @ D``,
    ``D @ x``, ``x * w`` (broadcasting), ``x * y`` (quadratic), ``x ** 2``, ``x.T``,
    ``x.reshape``, ``x.roll``. Comparisons (``==``, ``<=``, ``>=``) give a
    :class:`Constraint` to pass to :meth:`Model.constrain`.

    Example:
        >>> import numpy as np
        >>> from kakehashi import Model
        >>> m = Model()
        >>> x = m.binary("x", shape=(2, 3))
        >>> e = (x * np.array([1.0, 2.0, 3.0])).sum(axis=1) + 1
        >>> e.shape
        (2,)
        >>> e.evaluate(np.ones(6)).tolist()
        [7.0, 7.0]
    """

    __slots__ = ("_distinct", "_injective", "_label", "_model", "const", "shape", "terms")
    # numpy defers to our reflected operators (ndarray * Expr → Expr.__rmul__)
    __array_ufunc__ = None
    __hash__ = None  # type: ignore[assignment]  # == builds a constraint

    def __init__(
        self,
        model: Model,
        shape: tuple[int, ...],
        const: np.ndarray,
        terms: dict[int, Terms],
        *,
        distinct: bool = False,
        injective: bool = False,
        label: str | None = None,
    ) -> None:
        self._model = model
        self.shape = tuple(int(s) for s in shape)
        self.const = np.asarray(const, dtype=np.float64).reshape(self.shape)
        self.terms = {d: t for d, t in terms.items() if t[0].size}
        self._distinct = distinct or not self.terms
        self._injective = injective and set(self.terms) <= {1}
        self._label = label

    # ------------------------------------------------------------------ basics
    @classmethod
    def constant(cls, model: Model, value: Any) -> Expr:
        """An expression with no variables (a constant array)."""
        value = np.asarray(value, dtype=np.float64)
        return cls(model, value.shape, value, {}, distinct=True, injective=True)

    @property
    def model(self) -> Model:
        return self._model

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def degree(self) -> int:
        """Highest degree of any term (0 for a constant)."""
        return max(self.terms, default=0)

    @property
    def num_terms(self) -> int:
        return sum(t[0].size for t in self.terms.values())

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a scalar expression")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        if self._label is not None:
            return f"<{self._label} shape={self.shape}>"
        return f"<Expr shape={self.shape} degree={self.degree} terms={self.num_terms}>"

    def __bool__(self) -> bool:
        raise ModelError(
            "an expression has no truth value; compare it inside m.constrain(...), "
            "or evaluate it on a solution with .evaluate(values)"
        )

    def copy(self) -> Expr:
        return self._new(
            self.shape, self.const.copy(), dict(self.terms), self._distinct, self._injective
        )

    def _new(self, shape, const, terms, distinct=False, injective=False) -> Expr:
        return Expr(self._model, shape, const, terms, distinct=distinct, injective=injective)

    # ------------------------------------------------------------------ coercion
    def _coerce(self, other: Any) -> Expr | np.ndarray:
        if isinstance(other, Expr):
            if other._model is not self._model:
                raise ModelError(
                    f"an expression mixes variables of model {self._model.name!r} and model "
                    f"{other._model.name!r}; build each expression from one model's variables"
                )
            return other
        if isinstance(other, Constraint):
            raise ModelError("a constraint cannot be used inside an expression")
        if sp.issparse(other):
            return np.asarray(other.toarray(), dtype=np.float64)
        try:
            if other is None:
                raise TypeError
            arr = np.asarray(other, dtype=np.float64)
        except (TypeError, ValueError):
            raise ModelError(
                f"cannot combine an expression with {type(other).__name__}; use numbers, "
                "numpy arrays or expressions of the same model"
            ) from None
        if np.isnan(arr).any():
            raise ModelError("coefficients contain NaN; clean the data before modelling")
        return arr

    # ------------------------------------------------------------------ element remapping
    def _remap(self, src: np.ndarray, new_shape: tuple[int, ...]) -> Expr:
        """New expression whose element ``p`` is this one's element ``src[p]`` (a gather)."""
        n_old = self.size
        src = np.asarray(src, dtype=_I64).ravel()
        n_new = src.size
        if n_new == n_old and np.array_equal(src, np.arange(n_old)):
            return self._new(
                new_shape,
                self.const.reshape(new_shape),
                dict(self.terms),
                self._distinct,
                self._injective,
            )
        const = self.const.ravel()[src].reshape(new_shape)
        counts = np.bincount(src, minlength=n_old)
        new_terms: dict[int, Terms] = {}
        if counts.max(initial=0) <= 1:
            inv = np.full(n_old, -1, dtype=_I64)
            inv[src] = np.arange(n_new, dtype=_I64)
            for d, (e, v, c) in self.terms.items():
                ne = inv[e]
                if n_new < n_old:
                    keep = ne >= 0
                    if not keep.all():
                        ne, v, c = ne[keep], v[:, keep], c[keep]
                new_terms[d] = (ne, v, c)
            return self._new(new_shape, const, new_terms, self._distinct, self._injective)
        order = np.argsort(src, kind="stable")
        starts = np.cumsum(counts) - counts
        for d, (e, v, c) in self.terms.items():
            ids, pos = _expand_ranges(starts[e], counts[e])
            new_terms[d] = (order[pos], _take(v, ids), _take(c, ids))
        return self._new(new_shape, const, new_terms, self._distinct, False)

    def _index_grid(self) -> np.ndarray:
        return np.arange(self.size, dtype=_I64).reshape(self.shape)

    def broadcast_to(self, shape: Sequence[int]) -> Expr:
        """This expression repeated along new or length-1 axes (numpy broadcasting)."""
        shape = tuple(int(s) for s in shape)
        if shape == self.shape:
            return self
        old = (1,) * (len(shape) - self.ndim) + self.shape
        if len(old) != len(shape) or any(o not in (1, s) for o, s in zip(old, shape, strict=True)):
            raise ModelError(
                f"cannot broadcast an expression of shape {self.shape} to shape {shape}"
            )
        # Each old element lands at base + every offset along the broadcast axes, so the new
        # term lists are a repeat and an add: no sort.
        strides = np.cumprod((1, *shape[:0:-1]))[::-1].astype(_I64)
        base = np.zeros(old, dtype=_I64)
        offsets = np.zeros([s if o == 1 else 1 for o, s in zip(old, shape, strict=True)], _I64)
        for a, (o, s, st) in enumerate(zip(old, shape, strides, strict=True)):
            axis = np.arange(s, dtype=_I64).reshape([-1 if b == a else 1 for b in range(len(old))])
            if o == s:
                base = base + axis * st
            else:
                offsets = offsets + axis * st
        base, offsets = base.ravel(), offsets.ravel()
        reps = offsets.size
        terms = {}
        for d, (e, v, c) in self.terms.items():
            ne = (base[e][:, None] + offsets[None, :]).ravel()
            terms[d] = (ne, np.repeat(v, reps, axis=1), np.repeat(c, reps))
        const = np.broadcast_to(self.const, shape).copy()
        return self._new(shape, const, terms, self._distinct, self._injective and reps == 1)

    def __getitem__(self, key: Any) -> Expr:
        if isinstance(key, Expr) or (
            isinstance(key, tuple) and any(isinstance(k, Expr) for k in key)
        ):
            raise ModelError("an expression cannot be indexed by an expression")
        try:
            idx = np.asarray(self._index_grid()[key])
        except IndexError as exc:
            raise ModelError(f"bad index for an expression of shape {self.shape}: {exc}") from None
        return self._remap(idx, idx.shape)

    def reshape(self, *shape: Any) -> Expr:
        """Same elements, new shape (C order, ``-1`` allowed)."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = tuple(shape[0])
        try:
            idx = self._index_grid().reshape(shape)
        except ValueError as exc:
            raise ModelError(f"cannot reshape an expression of shape {self.shape}: {exc}") from None
        return self._new(
            idx.shape,
            self.const.reshape(idx.shape),
            dict(self.terms),
            self._distinct,
            self._injective,
        )

    def ravel(self) -> Expr:
        return self.reshape(-1)

    flatten = ravel

    def transpose(self, *axes: Any) -> Expr:
        if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
            axes = tuple(axes[0]) if axes[0] is not None else ()
        idx = self._index_grid().transpose(*axes) if axes else self._index_grid().T
        return self._remap(idx, idx.shape)

    @property
    def T(self) -> Expr:
        return self.transpose()

    def swapaxes(self, a: int, b: int) -> Expr:
        idx = np.swapaxes(self._index_grid(), a, b)
        return self._remap(idx, idx.shape)

    def roll(self, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Expr:
        """Like ``np.roll``: ``x.roll(-1, axis=0)[k] == x[(k + 1) % n]`` (handy for tours)."""
        idx = np.roll(self._index_grid(), shift, axis=axis)
        return self._remap(idx, idx.shape)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Expr:
        idx = np.diagonal(self._index_grid(), offset, axis1, axis2)
        return self._remap(idx, idx.shape)

    # ------------------------------------------------------------------ reductions
    def sum(self, axis: Any = None, keepdims: bool = False, **kwargs: Any) -> Expr:
        """Sum over ``axis`` (all axes by default), like ``ndarray.sum``."""
        for key, val in kwargs.items():
            if val is not None and key not in ("dtype", "out", "initial", "where"):
                raise ModelError(f"sum() got an unsupported argument {key!r}")
            if key in ("out", "initial", "where") and val is not None:
                raise ModelError(f"sum() of an expression does not support {key}=")
        axes = _normalize_axes(axis, self.ndim)
        kept = tuple(1 if a in axes else s for a, s in enumerate(self.shape))
        new_shape = (
            kept if keepdims else tuple(s for a, s in enumerate(self.shape) if a not in axes)
        )
        const = self.const.sum(axis=axes, keepdims=keepdims)
        n_new = math.prod(kept)
        if n_new == 1:
            terms = {d: (np.zeros_like(e), v, c) for d, (e, v, c) in self.terms.items()}
        else:
            target = np.broadcast_to(np.arange(n_new, dtype=_I64).reshape(kept), self.shape)
            target = target.ravel()
            terms = {d: (target[e], v, c) for d, (e, v, c) in self.terms.items()}
        distinct = self._injective or (self._distinct and len(axes) == 0)
        return self._new(new_shape, const, terms, distinct, self._injective)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Expr:
        axes = _normalize_axes(axis, self.ndim)
        count = math.prod(self.shape[a] for a in axes)
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / max(count, 1))

    # ------------------------------------------------------------------ linear arithmetic
    def _scale(self, factor: np.ndarray, shape: tuple[int, ...]) -> Expr:
        """``self`` (already of ``shape``) times a constant array ``factor`` of ``shape``."""
        f = np.broadcast_to(factor, shape)
        if f.size == 1 or np.all(f == f.flat[0]):
            s = float(f.flat[0]) if f.size else 0.0
            if s == 0.0:
                return Expr.constant(self._model, np.zeros(shape))
            terms = {d: (e, v, c * s) for d, (e, v, c) in self.terms.items()}
            return self._new(shape, self.const * s, terms, self._distinct, self._injective)
        flat = np.ascontiguousarray(f).ravel()
        has_zero = not np.all(flat)
        terms = {}
        for d, (e, v, c) in self.terms.items():
            fe = flat[e]
            cc = c * fe
            if has_zero:
                keep = fe != 0
                e, v, cc = e[keep], v[:, keep], cc[keep]
            terms[d] = (e, v, cc)
        return self._new(shape, self.const * f, terms, self._distinct, self._injective)

    def __neg__(self) -> Expr:
        terms = {d: (e, v, -c) for d, (e, v, c) in self.terms.items()}
        return self._new(self.shape, -self.const, terms, self._distinct, self._injective)

    def __pos__(self) -> Expr:
        return self

    def __add__(self, other: Any) -> Expr:
        other = self._coerce(other)
        if not isinstance(other, Expr):
            shape = _broadcast_shape(self.shape, other.shape, "add")
            a = self.broadcast_to(shape)
            return self._new(shape, a.const + other, dict(a.terms), a._distinct, a._injective)
        shape = _broadcast_shape(self.shape, other.shape, "add")
        a, b = self.broadcast_to(shape), other.broadcast_to(shape)
        if not b.terms:
            return self._new(shape, a.const + b.const, dict(a.terms), a._distinct, a._injective)
        if not a.terms:
            return self._new(shape, a.const + b.const, dict(b.terms), b._distinct, b._injective)
        terms = dict(a.terms)
        for d, (e, v, c) in b.terms.items():
            if d in terms:
                e0, v0, c0 = terms[d]
                terms[d] = _concat_terms([(e0, v0, c0), (e, v, c)])
            else:
                terms[d] = (e, v, c)
        return self._new(shape, a.const + b.const, terms)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Expr:
        other = self._coerce(other)
        return self + (-other)

    def __rsub__(self, other: Any) -> Expr:
        return (-self) + other

    def __mul__(self, other: Any) -> Expr:
        other = self._coerce(other)
        if isinstance(other, Expr):
            return _multiply(self, other)
        shape = _broadcast_shape(self.shape, other.shape, "multiply")
        return self.broadcast_to(shape)._scale(other, shape)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Expr:
        other = self._coerce(other)
        if isinstance(other, Expr):
            raise ModelError(
                "cannot divide by an expression (the result is not a polynomial); "
                "multiply both sides of the constraint instead"
            )
        if np.any(other == 0):
            raise ModelError("division of an expression by zero")
        return self * (1.0 / other)

    def __rtruediv__(self, other: Any) -> Expr:
        raise ModelError("cannot divide by an expression (the result is not a polynomial)")

    def __pow__(self, k: Any) -> Expr:
        if not isinstance(k, numbers.Integral) or int(k) < 0:
            raise ModelError(f"expressions can only be raised to integer powers ≥ 0, not {k!r}")
        k = int(k)
        result: Expr | None = None
        base = self
        while True:  # square-and-multiply: log2(k) products
            if k & 1:
                result = base if result is None else result * base
            k >>= 1
            if not k:
                break
            base = base * base
        if result is None:
            return Expr.constant(self._model, np.ones(self.shape))
        return result

    # ------------------------------------------------------------------ products with arrays
    def __matmul__(self, other: Any) -> Expr:
        if sp.issparse(other):
            return self._matmul_array(sp.csr_matrix(other, dtype=np.float64))
        other = self._coerce(other)
        if isinstance(other, Expr):
            return _matmul_exprs(self, other)
        return self._matmul_array(other)

    def __rmatmul__(self, other: Any) -> Expr:
        if sp.issparse(other):
            D = sp.csr_matrix(other, dtype=np.float64)
        else:
            D = self._coerce(other)
        if self.ndim == 0 or D.ndim == 0:
            raise ModelError("matmul needs arrays of at least one dimension; use * for scalars")
        if D.ndim > 2:
            raise ModelError(f"array @ expression supports 1-D and 2-D arrays, got shape {D.shape}")
        DT = D.T
        if self.ndim == 1:
            return self._matmul_array(DT)
        moved = self.swapaxes(-1, -2)._matmul_array(DT)  # (..., r, q) or (..., r)
        return moved.swapaxes(-1, -2) if D.ndim == 2 else moved

    def dot(self, other: Any) -> Expr:
        """Same as ``self @ other``."""
        return self @ other

    def _matmul_array(self, D: Any) -> Expr:
        """Contract the last axis of ``self`` with the first axis of a 1-D/2-D array."""
        if self.ndim == 0:
            raise ModelError("matmul of a scalar expression; use * instead")
        p = self.shape[-1]
        if D.ndim == 0 or D.ndim > 2 or D.shape[0] != p:
            raise ModelError(
                f"matmul shape mismatch: expression of shape {self.shape} @ array of shape "
                f"{D.shape} (the expression's last axis must equal the array's first)"
            )
        if D.ndim == 1:
            return self._scale(np.asarray(D), self.shape).sum(axis=-1)
        csr = D if sp.issparse(D) else sp.csr_matrix(D)
        csr = sp.csr_matrix(csr)
        csr.sum_duplicates()
        q = csr.shape[1]
        new_shape = (*self.shape[:-1], q)
        indptr = csr.indptr.astype(_I64)
        indices = csr.indices.astype(_I64)
        row_nnz = np.diff(indptr)
        terms = {}
        for d, (e, v, c) in self.terms.items():
            a, i = np.divmod(e, p)
            ids, ptr = _expand_ranges(indptr[i], row_nnz[i])
            new_e = _take(a, ids) * q
            new_e += indices[ptr]
            terms[d] = (new_e, _take(v, ids), _take(c, ids) * csr.data[ptr])
        rows = self.const.reshape(-1, p)
        const = np.asarray(csr.T @ rows.T).T.reshape(new_shape)
        injective = self._injective and row_nnz.max(initial=0) <= 1
        return self._new(new_shape, const, terms, self._injective, injective)

    # ------------------------------------------------------------------ comparisons
    def __eq__(self, other: Any) -> Constraint:  # type: ignore[override]
        return Constraint(self - other, "==")

    def __le__(self, other: Any) -> Constraint:
        return Constraint(self - other, "<=")

    def __ge__(self, other: Any) -> Constraint:
        return Constraint(self - other, ">=")

    def __ne__(self, other: Any):  # type: ignore[override]
        raise ModelError("'!=' constraints are not supported; use ==, <= or >=")

    def __lt__(self, other: Any):
        raise ModelError("strict '<' constraints are not supported; use <= (integers: <= rhs - 1)")

    def __gt__(self, other: Any):
        raise ModelError("strict '>' constraints are not supported; use >= (integers: >= rhs + 1)")

    # ------------------------------------------------------------------ numpy functions
    def __array_function__(self, func, types, args, kwargs):
        handler = _NUMPY_FUNCTIONS.get(func)
        if handler is None:
            raise ModelError(
                f"numpy.{func.__name__} does not work on kakehashi expressions; supported: "
                f"{', '.join(sorted(f.__name__ for f in _NUMPY_FUNCTIONS))}"
            )
        return handler(*args, **kwargs)

    # ------------------------------------------------------------------ merging
    def simplify(self) -> Expr:
        """Merge terms with the same element and monomial; drop zero coefficients."""
        if self._distinct:
            return self
        n = max(self._model.num_variables, 1)
        terms = {}
        for d, (e, v, c) in self.terms.items():
            terms[d] = _merge_terms(e, v, c, n, self.size)
        return self._new(self.shape, self.const, terms, True, self._injective)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, values: Any) -> np.ndarray:
        """Value of every element for one flat sample (n,) or several (k, n), or a dict
        ``{array name: values}`` as in a Result. Returns shape ``S`` or ``(k, *S)``.

        Example:
            >>> from kakehashi import Model
            >>> m = Model(); x = m.binary("x", 3)
            >>> float((x.sum() ** 2).evaluate({"x": [1, 1, 0]}))
            4.0
        """
        X, single = self._model._samples(values)
        k = X.shape[0]
        out = np.tile(self.const.ravel(), (k, 1))
        for e, v, c in self.terms.values():
            vals = np.prod(X[:, v], axis=1) * c
            # scatter-add each term's value into its element, all samples at once
            S = sp.csr_matrix((np.ones(e.size), (np.arange(e.size), e)), shape=(e.size, self.size))
            out += np.asarray((S.T @ vals.T).T)
        out = out.reshape((k, *self.shape))
        return out[0] if single else out


# ---------------------------------------------------------------------- constraints
class Constraint:
    """``expr (==|<=|>=) 0`` element-wise; made by comparing an expression, consumed by
    :meth:`Model.constrain`."""

    __slots__ = ("expr", "sense")

    def __init__(self, expr: Expr, sense: str) -> None:
        self.expr = expr
        self.sense = sense

    @property
    def shape(self) -> tuple[int, ...]:
        return self.expr.shape

    def __bool__(self) -> bool:
        raise ModelError(
            "a constraint has no truth value. Chained comparisons like `lo <= expr <= hi` "
            "cannot be expressed in Python: use m.constrain_range(expr, lo, hi)"
        )

    def __repr__(self) -> str:
        return f"<Constraint {self.sense} shape={self.shape}>"


# ---------------------------------------------------------------------- products
def _multiply(a: Expr, b: Expr) -> Expr:
    """Element-wise product of two expressions (with broadcasting)."""
    model = a._model
    shape = _broadcast_shape(a.shape, b.shape, "multiply")
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    if not a.terms:
        return b._scale(a.const, shape)
    if not b.terms:
        return a._scale(b.const, shape)
    a, b = a.simplify(), b.simplify()
    acc = _TermAccumulator(model, shape, a.const * b.const)
    if np.any(b.const):
        acc.add_expr_terms(a._scale(b.const, shape))
    if np.any(a.const):
        acc.add_expr_terms(b._scale(a.const, shape))
    n_elem = math.prod(shape)
    for ea, va, ca in a.terms.values():
        for eb, vb, cb in b.terms.values():
            # index the side with fewer terms by element; walk the other
            if eb.size <= ea.size:
                order, counts, starts = _group_index(eb, n_elem)
                ia, pos = _expand_ranges(starts[ea], counts[ea])
                jb = order[pos]
            else:
                order, counts, starts = _group_index(ea, n_elem)
                jb, pos = _expand_ranges(starts[eb], counts[eb])
                ia = order[pos]
            p, q = va.shape[0], vb.shape[0]
            m = ea.size if ia is None else ia.size
            V = np.empty((p + q, m), dtype=_I64)
            V[:p] = _take(va, ia)
            V[p:] = _take(vb, jb)
            acc.add(_take(ea, ia), V, _take(ca, ia) * _take(cb, jb))
    return acc.build()


def _matmul_exprs(a: Expr, b: Expr) -> Expr:
    """``a @ b`` for two expressions, numpy semantics (1-D, 2-D and batched)."""
    if a.ndim == 0 or b.ndim == 0:
        raise ModelError("matmul needs arrays of at least one dimension; use * for scalars")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else -1]:
        raise ModelError(
            f"matmul shape mismatch: {a.shape} @ {b.shape} (the left's last axis must equal "
            "the right's second-to-last)"
        )
    if b.ndim == 1:
        return (a * b).sum(axis=-1)
    if a.ndim == 1:
        return (a[:, None] * b).sum(axis=-2)
    return (a[..., :, :, None] * b[..., None, :, :]).sum(axis=-2)


class _TermAccumulator:
    """Collects product terms, applies x·x = x (binary) and s·s = 1 (spin), groups by degree."""

    def __init__(self, model: Model, shape: tuple[int, ...], const: np.ndarray) -> None:
        self.model = model
        self.shape = shape
        self.const = np.array(const, dtype=np.float64).ravel()
        self.blocks: dict[int, list[Terms]] = {}

    def add_expr_terms(self, expr: Expr) -> None:
        for d, t in expr.terms.items():
            self.blocks.setdefault(d, []).append(t)

    def add(self, e: np.ndarray, V: np.ndarray, c: np.ndarray) -> None:
        vtype = self.model._vtype_array()
        k = V.shape[0]
        if k == 2:
            lo = np.minimum(V[0], V[1])
            np.maximum(V[0], V[1], out=V[1])
            V[0] = lo
            if not np.any(V[0] == V[1]):
                self.blocks.setdefault(2, []).append((e, V, c))
                return
        else:
            V = np.sort(V, axis=0)
            if not np.any(V[1:] == V[:-1]):
                self.blocks.setdefault(k, []).append((e, V, c))
                return
        # some monomials repeat a variable: binary x^k = x, spin s^2 = 1, others keep powers.
        # Rare, so work in the term-major layout here.
        V = np.ascontiguousarray(V.T)
        t = vtype[V]
        runlen = np.ones(V.shape, dtype=_I64)
        for j in range(k - 2, -1, -1):
            runlen[:, j] = np.where(V[:, j] == V[:, j + 1], runlen[:, j + 1] + 1, 1)
        start = np.ones(V.shape, dtype=bool)
        start[:, 1:] = V[:, 1:] != V[:, :-1]
        keep = np.ones(V.shape, dtype=bool)
        is_bin = t == BINARY
        is_spin = t == SPIN
        keep[is_bin] = start[is_bin]
        # a spin run of length L reduces to s^(L mod 2); keep its first slot iff L is odd
        keep[is_spin] = start[is_spin] & (runlen[is_spin] % 2 == 1)
        deg = keep.sum(axis=1)
        for d in np.unique(deg):
            rows = deg == d
            if d == 0:
                self.const += np.bincount(e[rows], weights=c[rows], minlength=self.const.size)
                continue
            Vd = np.ascontiguousarray(V[rows][keep[rows]].reshape(-1, int(d)).T)
            self.blocks.setdefault(int(d), []).append((e[rows], Vd, c[rows]))

    def build(self) -> Expr:
        terms = {}
        for d, parts in self.blocks.items():
            if len(parts) == 1:
                terms[d] = parts[0]
            else:
                terms[d] = _concat_terms(parts)
        return Expr(self.model, self.shape, self.const.reshape(self.shape), terms)


def _concat_terms(parts: Sequence[Terms]) -> Terms:
    """Join term blocks of one degree (``vars`` is degree-major: join along axis 1)."""
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts], axis=1),
        np.concatenate([p[2] for p in parts]),
    )


def _merge_terms(e: np.ndarray, V: np.ndarray, c: np.ndarray, n: int, n_elem: int) -> Terms:
    """Sum terms with equal (element, monomial); drop zeros."""
    if e.size == 0:
        return e, V, c
    k = V.shape[0]
    if math.log2(max(n_elem, 1) + 1) + k * math.log2(n + 1) < 62:
        key = e.astype(_I64)
        for j in range(k):
            key = key * n + V[j]
        order = np.argsort(key, kind="stable")
        ks = key[order]
        first = np.ones(ks.size, dtype=bool)
        first[1:] = ks[1:] != ks[:-1]
    else:
        # lexsort's last key is the primary one: element, then the monomial's variables
        order = np.lexsort([V[j] for j in range(k - 1, -1, -1)] + [e])
        cols = np.column_stack([e[order], V[:, order].T])
        first = np.ones(order.size, dtype=bool)
        first[1:] = np.any(cols[1:] != cols[:-1], axis=1)
    starts = np.flatnonzero(first)
    coef = np.add.reduceat(c[order], starts)
    sel = order[starts]
    nz = coef != 0
    return e[sel][nz], V[:, sel][:, nz], coef[nz]


# ---------------------------------------------------------------------- numpy function hooks
def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return a.sum(axis=axis, keepdims=bool(keepdims), out=out, **kw)


def _as_expr(model: Model, x: Any) -> Expr:
    if isinstance(x, Expr):
        if x._model is not model:
            raise ModelError("cannot combine expressions of different models")
        return x
    return Expr.constant(model, x)


def _model_of(*items: Any) -> Model:
    return next(x._model for x in items if isinstance(x, Expr))


def _np_concatenate(arrays, axis=0, **kw):
    arrays = list(arrays)
    model = next(a._model for a in arrays if isinstance(a, Expr))
    parts = [_as_expr(model, a) for a in arrays]
    ndim = parts[0].ndim
    if ndim == 0:
        raise ModelError("zero-dimensional expressions cannot be concatenated")
    if axis is None:
        parts, axis = [p.ravel() for p in parts], 0
    axis = _normalize_axes(axis, ndim)[0]
    try:
        grids = [np.zeros(p.shape) for p in parts]
        shape = np.concatenate(grids, axis=axis).shape
    except ValueError as exc:
        raise ModelError(
            f"cannot concatenate expressions of shapes {[p.shape for p in parts]}: {exc}"
        ) from None
    # element p of part i goes to the position of its index in the concatenated grid
    offset = 0
    labels = []
    for p in parts:
        labels.append(np.arange(p.size, dtype=_I64).reshape(p.shape) + offset)
        offset += p.size
    pos = np.empty(offset, dtype=_I64)
    pos[np.concatenate(labels, axis=axis).ravel()] = np.arange(offset, dtype=_I64)
    const = np.concatenate([p.const for p in parts], axis=axis)
    acc: dict[int, list[Terms]] = {}
    base = 0
    for p in parts:
        for d, (e, v, c) in p.terms.items():
            acc.setdefault(d, []).append((pos[e + base], v, c))
        base += p.size
    terms = {d: _concat_terms(blocks) for d, blocks in acc.items()}
    return Expr(model, shape, const, terms)


def _np_stack(arrays, axis=0, **kw):
    arrays = list(arrays)
    model = next(a._model for a in arrays if isinstance(a, Expr))
    parts = [_as_expr(model, a) for a in arrays]
    ax = axis % (parts[0].ndim + 1)
    expanded = [p[(slice(None),) * ax + (None,)] for p in parts]
    return _np_concatenate(expanded, axis=ax)


def einsum(subscripts: str, *operands: Any) -> Expr:
    """``np.einsum`` over expressions and arrays (explicit or implicit output; no ``...``).

    Constant operands are combined with numpy first; an index shared only by one expression
    and the constants is contracted as a matrix product (``x @ d``); the rest is broadcast
    products and sums. ``np.einsum`` calls this when an operand is an Expr.

    Example:
        >>> import numpy as np
        >>> from kakehashi import Model
        >>> m = Model(); x = m.binary("x", (3, 3)); d = np.arange(9.0).reshape(3, 3)
        >>> tour = np.einsum("ij,ki,kj->", d, x, x.roll(-1, axis=0))   # Σ d_ij x[k,i] x[k+1,j]
        >>> float(tour.evaluate(np.eye(3).ravel()))        # 0→1→2→0: d01 + d12 + d20
        12.0
    """
    if not isinstance(subscripts, str):
        raise ModelError("einsum takes a subscripts string first, e.g. einsum('ij,j->i', A, x)")
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ModelError("einsum with '...' is not supported on expressions; name every axis")
    if "->" in spec:
        ins_part, out = spec.split("->")
    else:  # implicit mode: letters seen once, in alphabetical order
        ins_part = spec
        flat = spec.replace(",", "")
        out = "".join(sorted(c for c in set(flat) if flat.count(c) == 1))
    ins = ins_part.split(",")
    if len(ins) != len(operands):
        raise ModelError(f"einsum {subscripts!r} names {len(ins)} operands but got {len(operands)}")
    if not any(isinstance(op, Expr) for op in operands):
        raise ModelError("einsum over expressions needs at least one expression operand")
    sizes: dict[str, int] = {}
    exprs: list[tuple[str, Expr]] = []
    arrays: list[tuple[str, np.ndarray]] = []
    for sub, op in zip(ins, operands, strict=True):
        op = op if isinstance(op, Expr) else np.asarray(op, dtype=np.float64)
        if len(sub) != op.ndim:
            raise ModelError(
                f"einsum operand '{sub}' has {len(sub)} indices but its shape is {op.shape}"
            )
        if len(set(sub)) != len(sub):
            raise ModelError(f"einsum: repeated index within '{sub}' (diagonals) is not supported")
        for c, n in zip(sub, op.shape, strict=True):
            if sizes.setdefault(c, n) != n:
                raise ModelError(
                    f"einsum index '{c}' has size {sizes[c]} in one operand and {n} in another"
                )
        (exprs if isinstance(op, Expr) else arrays).append((sub, op))
    if set(out) - set(sizes) or len(set(out)) != len(out):
        raise ModelError(f"einsum output '{out}' names unknown or repeated indices")

    def needed(skip: int) -> set[str]:
        """Letters some other expression, or the output, still needs."""
        return set(out).union(*(set(s) for k, (s, _) in enumerate(exprs) if k != skip))

    # 1. all constants → one array (numpy sums the letters nobody else needs)
    if arrays:
        keep = "".join(c for c in dict.fromkeys("".join(s for s, _ in arrays)) if c in needed(-1))
        const = np.einsum(",".join(s for s, _ in arrays) + "->" + keep, *(a for _, a in arrays))
        # 2. contract it into the first expression sharing a letter that only the two hold
        for k, (sub, ex) in enumerate(exprs):
            shared = [c for c in sub if c in keep]
            contract = [c for c in shared if c not in needed(k)]
            if contract and len(contract) == len(shared):
                rest_e = [c for c in sub if c not in contract]
                rest_a = [c for c in keep if c not in contract]
                e2 = ex.transpose([sub.index(c) for c in rest_e + contract])
                e2 = e2.reshape((*[ex.shape[sub.index(c)] for c in rest_e], -1))
                a2 = np.transpose(const, [keep.index(c) for c in contract + rest_a])
                a2 = a2.reshape(-1, math.prod(const.shape[keep.index(c)] for c in rest_a))
                shape = [ex.shape[sub.index(c)] for c in rest_e]
                shape += [const.shape[keep.index(c)] for c in rest_a]
                exprs[k] = ("".join(rest_e + rest_a), e2._matmul_array(a2).reshape(shape))
                arrays = []
                break
        else:
            arrays = [(keep, const)]
    # 3. sum away letters that only one expression holds
    for k, (sub, ex) in enumerate(exprs):
        lone = [
            i
            for i, c in enumerate(sub)
            if c not in needed(k) and c not in "".join(s for s, _ in arrays)
        ]
        if lone:
            exprs[k] = ("".join(c for c in sub if sub.index(c) not in lone), ex.sum(axis=lone))
    # 4. line everything up on one axis per letter, multiply (broadcasting), sum the rest
    letters = list(dict.fromkeys("".join(s for s, _ in exprs + arrays) + out))
    result: Any = None
    for sub, op in arrays + exprs:
        perm = sorted(range(len(sub)), key=lambda a, sub=sub: letters.index(sub[a]))
        full = tuple(op.shape[sub.index(c)] if c in sub else 1 for c in letters)
        aligned = np.transpose(op, perm).reshape(full)  # Expr or ndarray alike
        result = aligned if result is None else aligned * result
    summed = tuple(i for i, c in enumerate(letters) if c not in out)
    if summed:
        result = result.sum(axis=summed)
    kept = [c for c in letters if c in out]
    if kept != list(out):
        result = result.transpose([kept.index(c) for c in out])
    return result


_NUMPY_FUNCTIONS = {
    np.einsum: einsum,
    np.outer: lambda a, b, out=None: (
        _as_expr(_model_of(a, b), a).ravel()[:, None]
        * _as_expr(_model_of(a, b), b).ravel()[None, :]
    ),
    np.sum: _np_sum,
    np.roll: lambda a, shift, axis=None: a.roll(shift, axis),
    np.transpose: lambda a, axes=None: a.transpose(axes),
    np.reshape: lambda a, *args, **kw: a.reshape(*args, *kw.values()),
    np.ravel: lambda a, order="C": a.ravel(),
    np.swapaxes: lambda a, x, y: a.swapaxes(x, y),
    np.dot: lambda a, b, out=None: (a @ b) if isinstance(a, Expr) else b.__rmatmul__(a),
    np.matmul: lambda a, b, **kw: (a @ b) if isinstance(a, Expr) else b.__rmatmul__(a),
    np.concatenate: _np_concatenate,
    np.stack: _np_stack,
    np.broadcast_to: lambda a, shape, **kw: a.broadcast_to(shape),
    np.diagonal: lambda a, offset=0, axis1=0, axis2=1: a.diagonal(offset, axis1, axis2),
    np.mean: lambda a, axis=None, **kw: a.mean(axis=axis, keepdims=bool(kw.get("keepdims"))),
}
