"""`Problem`: kakehashi's canonical optimisation problem, held as arrays.

The matrix form (see docs/architecture.md)::

    minimise / maximise   constant + c·x + Σ_{i≤j} Q_ij x_i x_j + Σ_k coef_k Π_{i∈T_k} x_i
    subject to            lo ≤ A x ≤ hi
                          x_i ∈ {0,1} | {-1,+1} | [lb_i, ub_i] ∩ ℤ | [lb_i, ub_i]

Variables live in one flat index ``0..n-1``; *variable arrays* (``x`` with shape (10, 10))
name contiguous slices of it. Constraints are rows of a sparse ``A``; *constraint groups*
(``one_city_per_step`` with shape (10,)) name contiguous row ranges. Every hot operation on a
Problem is a sparse matrix product over these arrays.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from kakehashi.errors import ModelError

BINARY, SPIN, INTEGER, CONTINUOUS = 0, 1, 2, 3
VTYPE_NAMES = ("binary", "spin", "integer", "continuous")
_VTYPE_BY_NAME = {name: code for code, name in enumerate(VTYPE_NAMES)}


def vtype_code(vtype: str | int) -> int:
    """Map ``"binary"``/``"spin"``/``"integer"``/``"continuous"`` (or a code) to its code."""
    if isinstance(vtype, (int, np.integer)) and 0 <= int(vtype) < len(VTYPE_NAMES):
        return int(vtype)
    code = _VTYPE_BY_NAME.get(str(vtype).lower())
    if code is None:
        raise ModelError(f"unknown variable type {vtype!r}; use one of {', '.join(VTYPE_NAMES)}")
    return code


@dataclasses.dataclass(frozen=True)
class VarArray:
    """A named block of variables: ``name`` with ``shape`` at flat indices ``start:start+size``."""

    name: str
    shape: tuple[int, ...]
    start: int
    vtype: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def stop(self) -> int:
        return self.start + self.size

    def element_name(self, flat_offset: int) -> str:
        """Name of one element, e.g. ``x[3,4]`` (a scalar variable is just ``x``)."""
        if self.shape == ():
            return self.name
        idx = np.unravel_index(flat_offset, self.shape)
        return f"{self.name}[{','.join(str(int(i)) for i in idx)}]"


@dataclasses.dataclass(frozen=True)
class ConstraintGroup:
    """Named rows ``start:start+size`` of ``A``, e.g. ``one_city_per_step`` with shape (10,).

    ``kind`` is ``"one_hot"`` when every row is Σ x = 1 over binaries (compilers and
    engines may exploit it), else ``"linear"``.
    """

    name: str
    shape: tuple[int, ...]
    start: int
    kind: str = "linear"

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def stop(self) -> int:
        return self.start + self.size


@dataclasses.dataclass
class Problem:
    """The canonical problem. Build one with :class:`kakehashi.Model` or a reader.

    Example:
        >>> import numpy as np, scipy.sparse as sp
        >>> p = Problem.from_arrays(linear=[1.0, -2.0], quadratic=sp.csr_matrix([[0, 3], [0, 0]]))
        >>> float(p.evaluate(np.array([[0, 1]]))["objective"][0])
        -2.0
    """

    var_arrays: list[VarArray]
    lower: np.ndarray  # (n,) float64, -inf allowed for continuous
    upper: np.ndarray  # (n,) float64
    vtype: np.ndarray  # (n,) int8 codes
    constant: float
    linear: np.ndarray  # (n,) float64
    quadratic: sp.csr_matrix  # (n, n) upper triangular incl. diagonal
    higher_order: dict[int, tuple[np.ndarray, np.ndarray]]  # degree -> (idx (m,k), coef (m,))
    A: sp.csr_matrix  # (m, n)
    lo: np.ndarray  # (m,)
    hi: np.ndarray  # (m,)
    constraint_groups: list[ConstraintGroup]
    sense: str = "min"
    name: str = "problem"
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    def __post_init__(self) -> None:
        n = self.num_variables
        self.lower = np.asarray(self.lower, dtype=np.float64).reshape(n)
        self.upper = np.asarray(self.upper, dtype=np.float64).reshape(n)
        self.vtype = np.asarray(self.vtype, dtype=np.int8).reshape(n)
        self.linear = np.asarray(self.linear, dtype=np.float64).reshape(n)
        self.constant = float(self.constant)
        self.quadratic = upper_triangular(self.quadratic, n)
        self.A = sp.csr_matrix(self.A, dtype=np.float64)
        if self.A.shape[1] != n:
            self.A = sp.csr_matrix((self.A.shape[0], n)) if self.A.shape[0] == 0 else self.A
        self.lo = np.asarray(self.lo, dtype=np.float64).reshape(self.A.shape[0])
        self.hi = np.asarray(self.hi, dtype=np.float64).reshape(self.A.shape[0])
        self.higher_order = {
            int(k): (np.asarray(i, dtype=np.int64), np.asarray(c, dtype=np.float64))
            for k, (i, c) in self.higher_order.items()
            if len(c)
        }
        if self.sense not in ("min", "max"):
            raise ModelError(f"sense must be 'min' or 'max', got {self.sense!r}")

    @classmethod
    def from_arrays(
        cls,
        *,
        linear: Sequence[float] | np.ndarray,
        quadratic: Any = None,
        constant: float = 0.0,
        vtype: str = "binary",
        lower: Any = None,
        upper: Any = None,
        A: Any = None,
        lo: Any = None,
        hi: Any = None,
        sense: str = "min",
        var_name: str = "x",
        constraint_name: str = "c",
        name: str = "problem",
    ) -> Problem:
        """Build a problem over one variable array ``var_name`` of shape (n,)."""
        linear = np.asarray(linear, dtype=np.float64).ravel()
        n = linear.size
        code = vtype_code(vtype)
        lower, upper = default_bounds(code, n, lower, upper)
        q = sp.csr_matrix((n, n)) if quadratic is None else sp.csr_matrix(quadratic)
        if A is None:
            A, lo, hi = sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0)
        A = sp.csr_matrix(A)
        m = A.shape[0]
        groups = [ConstraintGroup(constraint_name, (m,), 0)] if m else []
        return cls(
            var_arrays=[VarArray(var_name, (n,), 0, code)],
            lower=lower,
            upper=upper,
            vtype=np.full(n, code, dtype=np.int8),
            constant=constant,
            linear=linear,
            quadratic=q,
            higher_order={},
            A=A,
            lo=np.full(m, -np.inf) if lo is None else lo,
            hi=np.full(m, np.inf) if hi is None else hi,
            constraint_groups=groups,
            sense=sense,
            name=name,
        )

    # ------------------------------------------------------------------ shape facts
    @property
    def num_variables(self) -> int:
        return sum(v.size for v in self.var_arrays)

    @property
    def num_constraints(self) -> int:
        return self.A.shape[0]

    @property
    def max_degree(self) -> int:
        if self.higher_order:
            return max(self.higher_order)
        if self.quadratic.nnz:
            return 2
        return 1 if np.any(self.linear) else 0

    def is_binary(self) -> bool:
        """True when every variable is binary (spins count: they map 1:1 to binaries)."""
        return bool(np.all((self.vtype == BINARY) | (self.vtype == SPIN)))

    def is_unconstrained(self) -> bool:
        return self.num_constraints == 0

    def variable_names(self) -> list[str]:
        """One name per flat variable, e.g. ``x[0,3]`` (slow: for display and interchange)."""
        return [va.element_name(k) for va in self.var_arrays for k in range(va.size)]

    def constraint_names(self) -> list[str]:
        names: list[str] = []
        for g in self.constraint_groups:
            names.extend(
                g.name
                if g.shape == ()
                else f"{g.name}[{','.join(map(str, np.unravel_index(k, g.shape)))}]"
                for k in range(g.size)
            )
        return names

    def var_array(self, name: str) -> VarArray:
        for va in self.var_arrays:
            if va.name == name:
                return va
        raise ModelError(
            f"no variable array named {name!r}; this problem has "
            f"{', '.join(v.name for v in self.var_arrays) or 'none'}"
        )

    # ------------------------------------------------------------------ checks
    def validate(self) -> Problem:
        """Raise :class:`ModelError` naming the first inconsistency; return self when sound."""
        n = self.num_variables
        if n == 0:
            raise ModelError(
                "the problem has no variables; add at least one variable and an objective "
                "or constraint that uses it"
            )
        if self.max_degree == 0 and self.num_constraints == 0:
            raise ModelError(
                "the problem is empty: its objective is constant and it has no constraints; "
                "give it an objective or constraints over its variables"
            )
        bad = np.flatnonzero(self.lower > self.upper)
        if bad.size:
            i = int(bad[0])
            raise ModelError(
                f"variable {self.flat_name(i)} has lower bound {self.lower[i]:g} > upper bound "
                f"{self.upper[i]:g}; swap or fix the bounds"
            )
        ints = self.vtype == INTEGER
        if np.any(ints & ~(np.isfinite(self.lower) & np.isfinite(self.upper))):
            i = int(np.flatnonzero(ints & ~(np.isfinite(self.lower) & np.isfinite(self.upper)))[0])
            raise ModelError(
                f"integer variable {self.flat_name(i)} needs finite bounds for encoding; "
                "give it lower and upper bounds"
            )
        badrow = np.flatnonzero(self.lo > self.hi)
        if badrow.size:
            r = int(badrow[0])
            raise ModelError(
                f"constraint {self.constraint_name(r)} has lower side {self.lo[r]:g} > upper "
                f"side {self.hi[r]:g}; it can never hold"
            )
        self._check_numbers()
        return self

    def _check_numbers(self) -> None:
        """Every coefficient finite, every bound and constraint side a number (±inf allowed
        only where it means "no bound"), every higher-order index a variable."""
        coefficients = {
            "objective constant": np.asarray([self.constant]),
            "linear objective": self.linear,
            "quadratic objective": self.quadratic.data,
            "constraint matrix": self.A.data,
        }
        for degree, (idx, coef) in sorted(self.higher_order.items()):
            coefficients[f"degree-{degree} objective"] = coef
            if idx.size and (idx.min() < 0 or idx.max() >= self.num_variables):
                raise ModelError(
                    f"a degree-{degree} objective term names variable index "
                    f"{int(idx.min() if idx.min() < 0 else idx.max())}, outside "
                    f"0..{self.num_variables - 1}; fix the term"
                )
        for what, arr in coefficients.items():
            if not np.all(np.isfinite(arr)):
                raise ModelError(
                    f"the {what} has NaN or infinite coefficients; fix the data (every "
                    "coefficient must be a finite number)"
                )
        for what, arr, forbidden in (
            ("lower bound of a variable", self.lower, np.inf),
            ("upper bound of a variable", self.upper, -np.inf),
            ("lower side of a constraint", self.lo, np.inf),
            ("upper side of a constraint", self.hi, -np.inf),
        ):
            bad = np.flatnonzero(np.isnan(arr) | (arr == forbidden))
            if bad.size:
                k = int(bad[0])
                name = self.flat_name(k) if "variable" in what else self.constraint_name(k)
                raise ModelError(
                    f"the {what} {name} is {arr[k]}; give a finite number (or -inf/+inf "
                    "for no lower/upper bound)"
                )

    def flat_name(self, i: int) -> str:
        for va in self.var_arrays:
            if va.start <= i < va.stop:
                return va.element_name(i - va.start)
        raise ModelError(f"variable index {i} is out of range 0..{self.num_variables - 1}")

    def constraint_name(self, r: int) -> str:
        for g in self.constraint_groups:
            if g.start <= r < g.stop:
                if g.shape == ():
                    return g.name
                idx = np.unravel_index(r - g.start, g.shape)
                return f"{g.name}[{','.join(str(int(i)) for i in idx)}]"
        return f"row {r}"

    # ------------------------------------------------------------------ evaluation
    def objective_values(self, X: np.ndarray) -> np.ndarray:
        """Objective of each row of ``X`` (k, n) in the problem's own sense, vectorised."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        vals = self.constant + X @ self.linear
        if self.quadratic.nnz:
            vals = vals + np.einsum("ij,ij->i", np.asarray(self.quadratic @ X.T).T, X)
        for idx, coef in self.higher_order.values():
            vals = vals + np.prod(X[:, idx], axis=2) @ coef
        return vals

    def constraint_activity(self, X: np.ndarray) -> np.ndarray:
        """``A x`` for each row of ``X``: shape (k, m)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        return np.asarray(self.A @ X.T).T

    def violations(self, X: np.ndarray) -> np.ndarray:
        """Amount by which each constraint row is violated, (k, m), 0 where satisfied."""
        ax = self.constraint_activity(X)
        return np.maximum(self.lo - ax, 0.0) + np.maximum(ax - self.hi, 0.0)

    def evaluate(self, X: np.ndarray, *, tol: float = 1e-6) -> dict[str, np.ndarray]:
        """Objective, feasibility and violation per row of ``X``, in two sparse products.

        Feasibility also checks variable domains (integrality and bounds).
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        if X.shape[1] != self.num_variables:
            raise ModelError(
                f"samples have {X.shape[1]} columns but the problem has "
                f"{self.num_variables} variables"
            )
        viol = self.violations(X)
        in_bounds = np.all((X >= self.lower - tol) & (X <= self.upper + tol), axis=1)
        discrete = self.vtype != CONTINUOUS
        integral = np.all(np.abs(X[:, discrete] - np.round(X[:, discrete])) <= tol, axis=1)
        spin = self.vtype == SPIN
        spin_ok = np.all(np.isin(X[:, spin], (-1.0, 1.0)), axis=1) if spin.any() else True
        total = viol.sum(axis=1) if viol.shape[1] else np.zeros(X.shape[0])
        feasible = (total <= tol * np.maximum(1.0, 1.0)) & in_bounds & integral & spin_ok
        return {
            "objective": self.objective_values(X),
            "feasible": feasible,
            "violation": viol,
            "total_violation": total,
        }

    def group_violations(self, viol_row: np.ndarray) -> dict[str, float]:
        """Sum a (m,) violation vector per named constraint group."""
        return {g.name: float(viol_row[g.start : g.stop].sum()) for g in self.constraint_groups}

    def unflatten(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Split a flat sample into ``{array name: values with the array's shape}``."""
        out = {}
        for va in self.var_arrays:
            vals = np.asarray(x[va.start : va.stop])
            if va.vtype in (BINARY, SPIN, INTEGER):
                vals = np.round(vals).astype(np.int64)
            out[va.name] = vals.reshape(va.shape)
        return out

    # ------------------------------------------------------------------ transforms
    def minimization_form(self) -> Problem:
        """The same problem as a minimisation (objective negated when sense is max)."""
        if self.sense == "min":
            return self
        return dataclasses.replace(
            self,
            constant=-self.constant,
            linear=-self.linear,
            quadratic=-self.quadratic,
            higher_order={k: (i, -c) for k, (i, c) in self.higher_order.items()},
            sense="min",
        )

    def summary(self) -> str:
        counts = np.bincount(self.vtype, minlength=4)
        kinds = ", ".join(f"{c} {VTYPE_NAMES[k]}" for k, c in enumerate(counts) if c)
        return (
            f"{self.name}: {self.num_variables} variables ({kinds}), "
            f"{self.num_constraints} constraints, degree {self.max_degree}, {self.sense}imise"
        )


# ---------------------------------------------------------------------- helpers
def upper_triangular(q: Any, n: int) -> sp.csr_matrix:
    """Fold any (n, n) matrix into the canonical upper triangle: Q_ij + Q_ji for i<j."""
    if q is None:
        return sp.csr_matrix((n, n))
    if _is_canonical_upper_csr(q, n):  # fast path: Model.to_problem already gives this form
        q = q.copy()
        q.eliminate_zeros()
        return q
    q = sp.coo_matrix(q, dtype=np.float64)
    if q.shape != (n, n):
        raise ModelError(f"quadratic matrix has shape {q.shape}; expected ({n}, {n})")
    row, col = np.minimum(q.row, q.col), np.maximum(q.row, q.col)
    out = sp.csr_matrix((q.data, (row, col)), shape=(n, n))
    out.sum_duplicates()
    out.eliminate_zeros()
    return out


def _is_canonical_upper_csr(q: Any, n: int) -> bool:
    """True for a float64 (n, n) csr_matrix, duplicates summed, entries only at j >= i."""
    if not (isinstance(q, sp.csr_matrix) and q.shape == (n, n) and q.dtype == np.float64):
        return False
    if not q.has_canonical_format:
        return False
    rows = np.repeat(np.arange(n, dtype=q.indices.dtype), np.diff(q.indptr))
    return bool(np.all(q.indices >= rows))


def default_bounds(code: int, n: int, lower: Any, upper: Any) -> tuple[np.ndarray, np.ndarray]:
    """Bounds implied by a variable type unless given (binary [0,1], spin [-1,1])."""
    implied = {BINARY: (0.0, 1.0), SPIN: (-1.0, 1.0), INTEGER: (None, None)}.get(
        code, (-np.inf, np.inf)
    )
    lo = implied[0] if lower is None else lower
    hi = implied[1] if upper is None else upper
    if lo is None or hi is None:
        raise ModelError("integer variables need lower and upper bounds; pass lower= and upper=")
    return (
        np.broadcast_to(np.asarray(lo, dtype=np.float64), (n,)).copy(),
        np.broadcast_to(np.asarray(hi, dtype=np.float64), (n,)).copy(),
    )


def stack_constraints(
    blocks: Iterable[tuple[str, tuple[int, ...], sp.spmatrix, np.ndarray, np.ndarray, str]],
    n: int,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, list[ConstraintGroup]]:
    """Stack named constraint blocks ``(name, shape, A, lo, hi, kind)`` into one ``A``."""
    mats, los, his, groups, start = [], [], [], [], 0
    for name, shape, a, lo, hi, kind in blocks:
        a = sp.csr_matrix(a)
        groups.append(ConstraintGroup(name, tuple(shape), start, kind))
        start += a.shape[0]
        mats.append(a)
        los.append(np.asarray(lo, dtype=np.float64).ravel())
        his.append(np.asarray(hi, dtype=np.float64).ravel())
    if not mats:
        return sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0), []
    return sp.vstack(mats, format="csr"), np.concatenate(los), np.concatenate(his), groups
