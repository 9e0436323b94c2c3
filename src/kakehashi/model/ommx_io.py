"""`Problem` ↔ ``ommx.v1.Instance``: lossless where OMMX can express it.

What maps to what
-----------------
* Variables: binary, integer and continuous variables keep their kind and bounds. Each
  element of a variable array ``x`` with shape (3, 4) becomes the OMMX decision variable with
  ``id`` = its flat index, ``name="x"`` and ``subscripts=[i, j]``, so :func:`from_ommx`
  rebuilds the arrays (shape and type) from the names alone.
* **Spins** (OMMX has none) become binaries through ``s = 2b − 1``, substituted exactly into
  the objective and the constraints; the variable carries the parameter
  ``kakehashi.vtype = "spin"`` so that :func:`from_ommx` maps it back with ``b = (s + 1)/2``.
  An OMMX user therefore sees an equivalent all-binary problem: the value of ``b`` is
  ``(s + 1) / 2``.
* Objective: constant, linear and quadratic terms; higher-order terms become an OMMX
  ``Polynomial``.
* Constraints ``lo ≤ a·x ≤ hi``: ``a·x − hi ≤ 0`` (``=`` when ``lo == hi``); a finite lower
  side becomes ``−a·x + lo ≤ 0`` tagged with the parameter ``kakehashi.row = "ge"``; a ranged
  row is split into both, sharing the group's ``name`` and the row's ``subscripts``, and is
  merged back on the way in. Group kinds (one-hot) and JSON-serialisable ``Problem.metadata``
  travel as instance annotations ``org.ommx.user.kakehashi.*``.
* Not expressible in kakehashi, so :func:`from_ommx` raises :class:`UnsupportedError` naming
  the item: quadratic or polynomial constraints, semi-integer/semi-continuous variables,
  dependent (substituted) variables, expression-valued functions.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from kakehashi.errors import InputFormatError, ModelError, UnsupportedError
from kakehashi.model.affine import binary_to_spin, spin_to_binary, spins_as_binaries
from kakehashi.model.io._layout import element_label, infer_blocks
from kakehashi.model.io._wire import (
    decode_varints,
    encode_varints,
    packed_doubles,
    packed_field,
    read_fields,
)
from kakehashi.model.io.readers_common import mark_one_hot, rust_message
from kakehashi.model.problem import (
    BINARY,
    CONTINUOUS,
    INTEGER,
    SPIN,
    ConstraintGroup,
    Problem,
    VarArray,
)

if TYPE_CHECKING:  # ommx is a core dependency, imported lazily to keep `import kakehashi` fast
    from ommx.v1 import Instance, SampleSet

    from kakehashi.result import Result

SPIN_PARAMETER = "kakehashi.vtype"
ROW_PARAMETER = "kakehashi.row"
GROUPS_ANNOTATION = "kakehashi.groups"
METADATA_ANNOTATION = "kakehashi.metadata"
_USER = "org.ommx.user."


# ---------------------------------------------------------------------- Problem → OMMX
def to_ommx(problem: Problem) -> Instance:
    """The problem as an ``ommx.v1.Instance`` (spins mapped to binaries by ``s = 2b − 1``).

    Example:
        >>> import numpy as np
        >>> from kakehashi.model.problem import Problem
        >>> p = Problem.from_arrays(linear=[1.0, -2.0], sense="max")
        >>> inst = to_ommx(p)
        >>> [v.name for v in inst.decision_variables], inst.sense == inst.MAXIMIZE
        (['x', 'x'], True)
    """
    from ommx.v1 import Instance, instance_pb2

    binary_form, spin_mask = spin_to_binary(problem)
    msg = instance_pb2.Instance()
    msg.description.name = problem.name
    msg.sense = (
        instance_pb2.Instance.SENSE_MAXIMIZE
        if problem.sense == "max"
        else instance_pb2.Instance.SENSE_MINIMIZE
    )
    _write_variables(msg, binary_form, spin_mask)
    _write_objective(msg.objective, binary_form)
    _write_constraints(msg, binary_form)
    try:
        instance = Instance.from_bytes(msg.SerializeToString())
    except Exception as exc:  # the Rust core validates ids and bounds
        raise ModelError(f"OMMX rejected the problem: {rust_message(exc)}") from None

    kinds = {g.name: g.kind for g in problem.constraint_groups if g.kind != "linear"}
    if kinds:
        instance.add_user_annotation(GROUPS_ANNOTATION, json.dumps(kinds))
    if problem.metadata:
        try:
            instance.add_user_annotation(METADATA_ANNOTATION, json.dumps(problem.metadata))
        except (TypeError, ValueError):
            pass  # metadata that is not JSON stays with the Problem only
    return instance


def _subscripts_of(va: VarArray | ConstraintGroup) -> list[list[int]]:
    if va.shape == ():
        return [[]]
    return np.indices(va.shape).reshape(len(va.shape), -1).T.tolist()


def _write_variables(msg: Any, p: Problem, spin_mask: np.ndarray) -> None:
    from ommx.v1 import decision_variables_pb2 as dvp

    kind_of = {
        BINARY: dvp.DecisionVariable.KIND_BINARY,
        INTEGER: dvp.DecisionVariable.KIND_INTEGER,
        CONTINUOUS: dvp.DecisionVariable.KIND_CONTINUOUS,
    }
    lower, upper, vtype = p.lower.tolist(), p.upper.tolist(), p.vtype.tolist()
    for va in p.var_arrays:
        for k, subs in enumerate(_subscripts_of(va)):
            i = va.start + k
            dv = msg.decision_variables.add()
            dv.id = i
            dv.kind = kind_of[vtype[i]]
            dv.bound.lower = lower[i]
            dv.bound.upper = upper[i]
            dv.name = va.name
            dv.subscripts.extend(subs)
            if spin_mask[i]:
                dv.parameters[SPIN_PARAMETER] = "spin"


def _write_linear(lin: Any, idx: np.ndarray, coef: np.ndarray, constant: float) -> None:
    from ommx.v1 import linear_pb2

    lin.terms.extend(
        linear_pb2.Linear.Term(id=i, coefficient=c)
        for i, c in zip(idx.tolist(), coef.tolist(), strict=True)
    )
    lin.constant = constant


def _write_objective(fn: Any, p: Problem) -> None:
    lin_idx = np.flatnonzero(p.linear)
    q = p.quadratic.tocoo()
    if p.higher_order:
        from ommx.v1 import polynomial_pb2

        Monomial = polynomial_pb2.Monomial
        terms = fn.polynomial.terms
        if p.constant:
            terms.append(Monomial(ids=[], coefficient=p.constant))
        terms.extend(
            Monomial(ids=[i], coefficient=c)
            for i, c in zip(lin_idx.tolist(), p.linear[lin_idx].tolist(), strict=True)
        )
        terms.extend(
            Monomial(ids=[r, c], coefficient=v)
            for r, c, v in zip(q.row.tolist(), q.col.tolist(), q.data.tolist(), strict=True)
        )
        for idx, coef in p.higher_order.values():
            terms.extend(
                Monomial(ids=i, coefficient=c)
                for i, c in zip(idx.tolist(), coef.tolist(), strict=True)
            )
    elif q.nnz:
        # packed fields encoded in bulk (element-wise extend costs ~1 µs per entry)
        fn.quadratic.MergeFromString(
            packed_field(1, encode_varints(q.row))
            + packed_field(2, encode_varints(q.col))
            + packed_field(3, packed_doubles(q.data))
        )
        _write_linear(fn.quadratic.linear, lin_idx, p.linear[lin_idx], p.constant)
    elif lin_idx.size:
        _write_linear(fn.linear, lin_idx, p.linear[lin_idx], p.constant)
    else:
        fn.constant = p.constant


def _write_constraints(msg: Any, p: Problem) -> None:
    from ommx.v1 import constraint_pb2

    EQ = constraint_pb2.EQUALITY_EQUAL_TO_ZERO
    LE = constraint_pb2.EQUALITY_LESS_THAN_OR_EQUAL_TO_ZERO
    A = p.A
    indptr = A.indptr
    lo, hi = p.lo.tolist(), p.hi.tolist()
    next_id = 0

    def add(
        name: str,
        subs: list[int],
        idx: np.ndarray,
        coef: np.ndarray,
        const: float,
        eq: int,
        ge: bool,
    ) -> None:
        nonlocal next_id
        con = msg.constraints.add()
        con.id = next_id
        next_id += 1
        con.equality = eq
        con.name = name
        con.subscripts.extend(subs)
        _write_linear(con.function.linear, idx, coef, const)
        if ge:
            con.parameters[ROW_PARAMETER] = "ge"

    for g in p.constraint_groups:
        for k, subs in enumerate(_subscripts_of(g)):
            r = g.start + k
            idx = A.indices[indptr[r] : indptr[r + 1]]
            coef = A.data[indptr[r] : indptr[r + 1]]
            if lo[r] == hi[r]:
                add(g.name, subs, idx, coef, -hi[r], EQ, False)
                continue
            if np.isfinite(hi[r]):
                add(g.name, subs, idx, coef, -hi[r], LE, False)
            if np.isfinite(lo[r]):
                add(g.name, subs, idx, -coef, lo[r], LE, True)


# ---------------------------------------------------------------------- OMMX → Problem
def from_ommx(instance: Instance | bytes) -> Problem:
    """A Problem from an ``ommx.v1.Instance`` (or its serialised bytes).

    Variables named ``x`` with subscripts that fill a box become the array ``x`` of that
    shape; other variables become scalar arrays named by their label; unnamed ones form the
    array ``x``. Constraints group the same way (unnamed ones into ``c``).

    Example:
        >>> from kakehashi.model.problem import Problem
        >>> p = Problem.from_arrays(linear=[1.0, 2.0, 3.0], var_name="y")
        >>> q = from_ommx(to_ommx(p))
        >>> q.var_arrays[0].name, q.var_arrays[0].shape
        ('y', (3,))
    """
    from ommx.v1 import Instance, instance_pb2

    if isinstance(instance, (bytes, bytearray)):
        try:
            instance = Instance.from_bytes(bytes(instance))
        except Exception as exc:
            raise InputFormatError(
                f"these bytes are not an OMMX instance ({rust_message(exc)}); "
                "pass the bytes of ommx.v1.Instance.to_bytes()"
            ) from None
    if not isinstance(instance, Instance):
        raise UnsupportedError(
            f"from_ommx expects an ommx.v1.Instance, got {type(instance).__name__}; "
            "use kakehashi.load() for files"
        )
    raw = getattr(instance, "raw", None)  # the Rust core's bytes skip a Python re-encoding
    data = raw.to_bytes() if hasattr(raw, "to_bytes") else instance.to_bytes()
    msg = instance_pb2.Instance.FromString(data)
    annotations = dict(getattr(instance, "annotations", {}) or {})

    if len(msg.decision_variable_dependency):
        raise UnsupportedError(
            "the OMMX instance has dependent (substituted) decision variables; kakehashi "
            "needs independent variables: evaluate the substitution away before converting"
        )
    variables = _read_variables(msg)
    n = variables.count
    to_flat = variables.flat_of

    constant, linear, quadratic, higher = _read_function(msg.objective, to_flat, n, "the objective")
    A, lo, hi, groups = _read_constraints(msg, to_flat, n)

    problem = Problem(
        var_arrays=variables.arrays,
        lower=variables.lower,
        upper=variables.upper,
        vtype=variables.vtype,
        constant=constant,
        linear=linear,
        quadratic=quadratic,
        higher_order=higher,
        A=A,
        lo=lo,
        hi=hi,
        constraint_groups=groups,
        sense="max" if msg.sense == instance_pb2.Instance.SENSE_MAXIMIZE else "min",
        name=msg.description.name or annotations.get("org.ommx.v1.instance.title") or "problem",
        metadata=_read_metadata(annotations, msg),
    )
    problem = binary_to_spin(problem, variables.spin_mask)
    kinds = annotations.get(_USER + GROUPS_ANNOTATION)
    if kinds:
        import dataclasses

        kind_of = json.loads(kinds)
        problem.constraint_groups = [
            dataclasses.replace(g, kind=kind_of.get(g.name, g.kind))
            for g in problem.constraint_groups
        ]
        return problem
    return mark_one_hot(problem)


class _Variables:
    """Decision variables read from an instance, reordered into arrays."""

    def __init__(self, arrays, lower, upper, vtype, spin_mask, ids, flat):
        self.arrays: list[VarArray] = arrays
        self.lower, self.upper, self.vtype, self.spin_mask = lower, upper, vtype, spin_mask
        self.count = len(vtype)
        # ids → flat index through a table when ids are compact (the usual 0..n-1)
        top = int(ids.max()) + 1 if ids.size else 0
        self._table = np.full(top, -1, dtype=np.int64) if top <= 4 * self.count + 1024 else None
        if self._table is not None:
            self._table[ids] = flat
        self._sorted_ids = np.sort(ids)
        self._flat_by_sorted = flat[np.argsort(ids)]

    def flat_of(self, ids: np.ndarray, what: str) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size == 0:
            return ids
        if self._table is not None:
            inside = (ids >= 0) & (ids < self._table.size)
            found = np.where(inside, self._table[np.where(inside, ids, 0)], -1)
            bad = found < 0
            if not bad.any():
                return found
        else:
            pos = np.minimum(np.searchsorted(self._sorted_ids, ids), max(self.count - 1, 0))
            bad = self._sorted_ids[pos] != ids if self.count else np.ones(ids.shape, bool)
        if np.any(bad):
            raise ModelError(
                f"{what} uses decision variable id {int(ids[np.flatnonzero(bad)[0]])}, which the "
                "OMMX instance does not declare; declare it in decision_variables"
            )
        return self._flat_by_sorted[pos]


def _read_variables(msg: Any) -> _Variables:
    from ommx.v1 import decision_variables_pb2 as dvp

    code_of = {
        dvp.DecisionVariable.KIND_BINARY: BINARY,
        dvp.DecisionVariable.KIND_INTEGER: INTEGER,
        dvp.DecisionVariable.KIND_CONTINUOUS: CONTINUOUS,
    }
    dvs = msg.decision_variables
    m = len(dvs)
    ids = np.empty(m, dtype=np.int64)
    codes = np.empty(m, dtype=np.int8)
    lower = np.empty(m)
    upper = np.empty(m)
    spin = np.zeros(m, dtype=bool)
    names: list[str] = []
    subs: list[list[int]] = []
    for j, dv in enumerate(dvs):
        ids[j] = dv.id
        code = code_of.get(dv.kind)
        if code is None:
            label = element_label(dv.name or f"id {dv.id}", list(dv.subscripts))
            kind = dvp.DecisionVariable.Kind.Name(dv.kind)
            raise UnsupportedError(
                f"decision variable {label} has kind {kind}, which kakehashi cannot express; "
                "use binary, integer or continuous variables"
            )
        codes[j] = code
        if dv.HasField("bound"):
            lower[j], upper[j] = dv.bound.lower, dv.bound.upper
        else:
            lower[j], upper[j] = (0.0, 1.0) if code == BINARY else (-np.inf, np.inf)
        if dv.HasField("substituted_value"):
            lower[j] = upper[j] = dv.substituted_value  # a fixed variable stays, pinned
        spin[j] = code == BINARY and dv.parameters.get(SPIN_PARAMETER) == "spin"
        names.append(dv.name)
        subs.append(list(dv.subscripts))
    if np.unique(ids).size != m:
        raise ModelError(
            "the OMMX instance declares a decision variable id twice; ids must be unique"
        )

    effective = np.where(spin, SPIN, codes)  # spins and binaries never share an array
    blocks = infer_blocks(names, subs, effective, default_name="x")
    order = np.concatenate([b.members for b in blocks]) if blocks else np.zeros(0, np.int64)
    flat = np.empty(m, dtype=np.int64)
    flat[order] = np.arange(m)
    arrays, start = [], 0
    for b in blocks:
        code = int(codes[b.members[0]])
        arrays.append(VarArray(b.name, b.shape, start, code))
        start += b.members.size
    return _Variables(arrays, lower[order], upper[order], codes[order], spin[order], ids, flat)


class _Terms:
    """The terms of one OMMX Function message, still in OMMX ids."""

    def __init__(self) -> None:
        self.constant = 0.0
        self.lin_ids: list[np.ndarray] = []
        self.lin_vals: list[np.ndarray] = []
        self.q_rows = self.q_cols = np.zeros(0, np.int64)
        self.q_vals = np.zeros(0)
        self.higher: dict[int, tuple[list, list]] = {}

    @property
    def nonlinear(self) -> bool:
        return bool(np.any(self.q_vals != 0)) or any(
            any(c != 0 for c in coefs) for _, coefs in self.higher.values()
        )

    def linear_ids(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.lin_ids:
            return np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(self.lin_ids), np.concatenate(self.lin_vals)


def _read_terms(fn: Any, what: str) -> _Terms:
    t = _Terms()
    kind = fn.WhichOneof("function")

    def take_linear(lin: Any) -> None:
        k = len(lin.terms)
        if k:
            t.lin_ids.append(np.fromiter((term.id for term in lin.terms), np.int64, k))
            t.lin_vals.append(np.fromiter((term.coefficient for term in lin.terms), np.float64, k))
        t.constant += lin.constant

    if kind == "constant":
        t.constant = fn.constant
    elif kind == "linear":
        take_linear(fn.linear)
    elif kind == "quadratic":
        t.q_rows, t.q_cols, t.q_vals = _quadratic_arrays(fn.quadratic)
        if fn.quadratic.HasField("linear"):
            take_linear(fn.quadratic.linear)
    elif kind == "polynomial":
        rows, cols, vals, lids, lvals = [], [], [], [], []
        for mono in fn.polynomial.terms:
            ids = list(mono.ids)
            if len(ids) == 0:
                t.constant += mono.coefficient
            elif len(ids) == 1:
                lids.append(ids[0])
                lvals.append(mono.coefficient)
            elif len(ids) == 2:
                rows.append(ids[0])
                cols.append(ids[1])
                vals.append(mono.coefficient)
            else:
                entry = t.higher.setdefault(len(ids), ([], []))
                entry[0].append(ids)
                entry[1].append(mono.coefficient)
        if lids:
            t.lin_ids.append(np.array(lids, np.int64))
            t.lin_vals.append(np.array(lvals, np.float64))
        t.q_rows, t.q_cols = np.array(rows, np.int64), np.array(cols, np.int64)
        t.q_vals = np.array(vals, np.float64)
    elif kind is not None:
        raise UnsupportedError(f"{what} is an OMMX {kind} function, which kakehashi cannot express")
    return t


def _quadratic_arrays(quad: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rows, columns, values of a Quadratic message, decoded in bulk from its packed fields."""
    parts: dict[int, list] = {1: [], 2: [], 3: []}
    for field, wire, value in read_fields(quad.SerializeToString()):
        if field in parts:
            if wire != 2:  # an unpacked encoding: read element by element instead
                return (
                    np.asarray(quad.rows, dtype=np.int64),
                    np.asarray(quad.columns, dtype=np.int64),
                    np.asarray(quad.values, dtype=np.float64),
                )
            parts[field].append(value)
    rows = decode_varints(b"".join(parts[1]))
    cols = decode_varints(b"".join(parts[2]))
    vals = np.frombuffer(b"".join(parts[3]), dtype="<f8").astype(np.float64)
    return rows, cols, vals


def _read_function(fn: Any, to_flat, n: int, what: str):
    """``(constant, linear (n,), quadratic csr, higher_order)`` of an OMMX Function message."""
    t = _read_terms(fn, what)
    ids, vals = t.linear_ids()
    linear = np.bincount(to_flat(ids, what), weights=vals, minlength=n).astype(np.float64)
    quadratic = sp.csr_matrix(
        (t.q_vals, (to_flat(t.q_rows, what), to_flat(t.q_cols, what))), shape=(n, n)
    )
    higher_order = {
        d: (
            to_flat(np.array(idx, np.int64).ravel(), what).reshape(-1, d),
            np.array(coef, np.float64),
        )
        for d, (idx, coef) in t.higher.items()
    }
    return float(t.constant), linear, quadratic, higher_order


def _read_constraints(msg: Any, to_flat, n: int):
    from ommx.v1 import constraint_pb2

    EQ = constraint_pb2.EQUALITY_EQUAL_TO_ZERO
    LE = constraint_pb2.EQUALITY_LESS_THAN_OR_EQUAL_TO_ZERO
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    lo: list[float] = []
    hi: list[float] = []
    names: list[str] = []
    subs: list[list[int]] = []
    seen: dict[tuple[str, tuple[int, ...]], int] = {}
    for con in msg.constraints:
        subs_c = list(con.subscripts)
        label = (
            f"constraint {element_label(con.name, subs_c)} (id {con.id})"
            if con.name
            else f"constraint with id {con.id}"
        )
        t = _read_terms(con.function, label)
        if t.nonlinear:
            raise UnsupportedError(
                f"{label} is quadratic or polynomial; kakehashi holds linear constraints only: "
                "linearise it (for binaries, x·y = z with z ≤ x, z ≤ y, z ≥ x + y − 1) or move "
                "it into the objective as a penalty"
            )
        ids, vals = t.linear_ids()
        flat_ids = to_flat(ids, label)
        idx, inverse = np.unique(flat_ids, return_inverse=True)
        coef = np.bincount(inverse.ravel(), weights=vals, minlength=idx.size).astype(np.float64)
        keep = coef != 0
        idx, coef = idx[keep], coef[keep]
        constant = t.constant
        if con.equality == EQ:
            row_lo = row_hi = -constant
        elif con.equality == LE:
            if con.parameters.get(ROW_PARAMETER) == "ge":
                coef, row_lo, row_hi = -coef, constant, np.inf
            else:
                row_lo, row_hi = -np.inf, -constant
        else:
            raise UnsupportedError(f"{label} has no equality sense (= or ≤); fix the instance")
        key = (con.name, tuple(con.subscripts))
        if con.name and key in seen:
            # a ranged row written as two one-sided rows: merge when the linear parts agree
            r = seen[key]
            if np.array_equal(rows[r][0], idx) and np.array_equal(rows[r][1], coef):
                lo[r] = max(lo[r], row_lo)
                hi[r] = min(hi[r], row_hi)
                continue
        seen[key] = len(rows)
        rows.append((idx, coef))
        lo.append(row_lo)
        hi.append(row_hi)
        names.append(con.name)
        subs.append(list(con.subscripts))

    _merge_split_ranges(rows, lo, hi, names, subs)
    m = len(rows)
    blocks = infer_blocks(names, subs, default_name="c")
    order = np.concatenate([b.members for b in blocks]) if blocks else np.zeros(0, np.int64)
    groups, start = [], 0
    for b in blocks:
        groups.append(ConstraintGroup(b.name, b.shape, start))
        start += b.members.size
    if m == 0:
        return sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0), []
    lengths = np.array([rows[r][0].size for r in order], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate([rows[r][0] for r in order])
    data = np.concatenate([rows[r][1] for r in order])
    A = sp.csr_matrix((data, indices, indptr), shape=(m, n))
    return A, np.asarray(lo)[order], np.asarray(hi)[order], groups


def _merge_split_ranges(rows, lo, hi, names, subs) -> None:
    """Merge OMMX's MPS split of a ranged row ``R`` into ``a·x ≤ u`` (``R``) and
    ``−a·x ≤ −l`` (``R_``) back into ``l ≤ a·x ≤ u`` (in place)."""
    by_name = {nm: r for r, nm in enumerate(names) if nm and not subs[r]}
    drop = []
    for r, nm in enumerate(names):
        if not nm.endswith("_") or subs[r]:
            continue
        base = by_name.get(nm[:-1])
        if (
            base is not None
            and lo[r] == -np.inf
            and lo[base] == -np.inf
            and np.array_equal(rows[r][0], rows[base][0])
            and np.array_equal(rows[r][1], -rows[base][1])
        ):
            lo[base] = -hi[r]
            drop.append(r)
    for r in reversed(drop):
        for seq in (rows, lo, hi, names, subs):
            del seq[r]


def _read_metadata(annotations: dict[str, str], msg: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    raw = annotations.get(_USER + METADATA_ANNOTATION)
    if raw:
        try:
            meta.update(json.loads(raw))
        except ValueError:
            pass
    if len(msg.removed_constraints):
        meta["ommx_removed_constraints"] = len(msg.removed_constraints)
    return meta


# ---------------------------------------------------------------------- results
def result_to_sampleset(result: Result) -> SampleSet:
    """Every sample of ``result`` evaluated by OMMX on ``to_ommx(result.problem)``.

    Spin columns are mapped to their binaries (``b = (s + 1) / 2``) as in :func:`to_ommx`.
    Identical samples are evaluated once and share their sample ids.

    Example:
        >>> import numpy as np
        >>> from kakehashi.model.problem import Problem
        >>> from kakehashi.result import Result, Timing
        >>> p = Problem.from_arrays(linear=[1.0, -2.0])
        >>> X = np.array([[0, 1], [1, 1]])
        >>> r = Result.from_samples(p, X, backend="demo", timing=Timing(), seed=0)
        >>> sorted(result_to_sampleset(r).objectives.values())
        [-2.0, -1.0]
    """
    from ommx.v1 import Samples, State

    problem = result.problem
    instance = to_ommx(problem)
    X = spins_as_binaries(np.atleast_2d(result.samples), problem.vtype == SPIN)
    samples = Samples({})
    if X.shape[0]:
        unique, inverse = np.unique(X, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        ids = np.arange(problem.num_variables)
        for u in range(unique.shape[0]):
            sample_ids = np.flatnonzero(inverse == u).tolist()
            samples.append(
                sample_ids, State(dict(zip(ids.tolist(), unique[u].tolist(), strict=True)))
            )
    try:
        return instance.evaluate_samples(samples)
    except Exception as exc:
        raise ModelError(f"OMMX could not evaluate the samples: {rust_message(exc)}") from None
