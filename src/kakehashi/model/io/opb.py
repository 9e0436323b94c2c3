"""Pseudo-Boolean ``.opb`` files (the PB competition format), linear and non-linear.

Grammar (OMMX has no OPB reader, so this one is kakehashi's own)::

    * comment lines start with '*'; the first may carry '#variable= N #constraint= M'
    min: <sum> ;                 objective (optional; 'max:' accepted as an extension)
    <sum> >= k ;   <sum> = k ;   <sum> <= k ;
    <sum>  := <coef> <lit> <lit> ... <coef> <lit> ...   (a product of literals per term)
    <lit>  := x<k> | ~x<k>       (~x = 1 − x)

Variables ``x1 … xN`` become the binary array ``x`` of shape (N,) with ``x<k>`` at index
``k − 1`` (other names become scalar arrays named as in the file). Products in the objective
become quadratic/higher-order terms; a product inside a constraint raises
:class:`UnsupportedError` (kakehashi constraints are linear).

QPLIB-PB files come with a JSON transformer description (``QPLIB_xxxx.json``): pass it as
``pb_info=`` (or ``pb_info=True`` for the file beside the ``.opb``) and the objective is put
back in QPLIB's scale and sense — OPB objective = scale × QPLIB objective, so a scale of −1
turns the minimisation back into QPLIB's maximisation — with QPLIB's variable names kept in
``metadata["original_names"]``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from kakehashi.errors import UnsupportedError
from kakehashi.model.affine import expand_monomials
from kakehashi.model.io._layout import infer_blocks, split_label
from kakehashi.model.io.readers_common import (
    declared_count,
    fail,
    finite_number,
    mark_one_hot,
    read_text,
)
from kakehashi.model.problem import BINARY, ConstraintGroup, Problem, VarArray

_COMMENT = re.compile(r"(?m)^[ \t]*\*.*$")
_RELATION = re.compile(r"(>=|<=|=)")
_HEADER = re.compile(r"#variable=\s*(\S+)")
_X_NAME = re.compile(r"^x(\d+)$")


class _Vars:
    """Variable names in order of first appearance."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, name: str) -> int:
        k = self.index.get(name)
        if k is None:
            k = self.index[name] = len(self.index)
        return k


def read_opb(path: str | Path, *, pb_info: str | Path | bool | None = None) -> Problem:
    """Read a pseudo-Boolean ``.opb`` file as a binary Problem.

    Example:
        >>> from kakehashi.model.io import data_file
        >>> p = read_opb(data_file("example.opb"))
        >>> p.sense, p.num_variables, p.num_constraints, p.max_degree
        ('min', 5, 2, 3)
    """
    text = read_text(path)
    header = _HEADER.search(text[:4096])
    body = _COMMENT.sub("", text)
    statements = body.split(";")
    if statements[-1].strip():
        raise fail(
            path,
            f"the file ends inside a statement without ';' ({statements[-1].strip()[:40]!r})",
            "the file is truncated or a ';' is missing: every objective and constraint ends "
            "with ';'",
        )
    var = _Vars()
    objective = _Terms([], [], [0])
    sense = "min"
    rows: list[tuple[_Terms, str, float, int]] = []
    line = 1
    seen_objective = False
    for stmt in statements[:-1]:
        stmt_line = line + stmt[: len(stmt) - len(stmt.lstrip())].count("\n")
        line += stmt.count("\n")
        s = stmt.strip()
        if not s:
            continue
        head = s[:4].lower()
        if head in ("min:", "max:"):
            if seen_objective:
                raise fail(
                    path,
                    f"line {stmt_line}: a second objective",
                    "an OPB file has at most one 'min:' line",
                )
            seen_objective = True
            sense = head[:3]
            objective = _terms(s[4:], var, path, stmt_line)
            continue
        parts = _RELATION.split(s)
        if len(parts) != 3:
            raise fail(
                path,
                f"line {stmt_line}: {s[:60]!r} is neither an objective nor a constraint "
                "'<terms> >= k'",
                "use one of >=, <=, = and end the statement with ';'",
            )
        lhs, op, rhs = parts
        k = finite_number(path, rhs.strip(), "the right-hand side", stmt_line)
        rows.append((_terms(lhs, var, path, stmt_line), op, k, stmt_line))

    names = list(var.index)
    declared = (
        declared_count(
            path, header.group(1), "#variable=", line=1 + text.count("\n", 0, header.start())
        )
        if header
        else 0
    )
    n, order_names = _variable_layout(path, names, declared)
    problem = _assemble(path, names, n, order_names, objective, sense, rows)
    if pb_info:
        problem = _apply_pb_info(problem, path, pb_info)
    return problem


class _Terms:
    """Terms of one sum as flat arrays: term ``t`` is ``coef[t] Π lits[ptr[t]:ptr[t+1]]``,
    where a literal id is ``2v`` for ``x_v`` and ``2v + 1`` for ``~x_v``."""

    __slots__ = ("coef", "lits", "ptr")

    def __init__(self, coef: list[float], lits: list[int], ptr: list[int]) -> None:
        self.coef = np.array(coef, dtype=np.float64)
        self.lits = np.array(lits, dtype=np.int64)
        self.ptr = np.array(ptr, dtype=np.int64)


def _terms(text: str, var: _Vars, path, line: int) -> _Terms:
    coefs: list[float] = []
    lits: list[int] = []
    ptr: list[int] = []
    lookup = var.index
    for tok in text.split():
        c = tok[0]
        if c in "+-0123456789.":
            coefs.append(finite_number(path, tok, "a coefficient '<coef> <literal> ...'", line))
            ptr.append(len(lits))
            continue
        neg = c == "~"
        name = tok[1:] if neg else tok
        if not name:
            raise fail(path, f"line {line}: a lone '~'", "write ~x<k> without a space")
        if not ptr:  # a literal before any coefficient: coefficient 1
            coefs.append(1.0)
            ptr.append(0)
        k = lookup.get(name)
        if k is None:
            k = var(name)
        lits.append(2 * k + neg)
    ptr.append(len(lits))
    return _Terms(coefs, lits, ptr)


def _variable_layout(path, names: list[str], declared: int) -> tuple[int, np.ndarray]:
    """Flat position of each named variable and the variable count."""
    ks = [_X_NAME.match(nm) for nm in names]
    if all(ks):
        # x<k> sits at index k − 1: the largest k sizes the array, so check it first
        largest = max(
            (m.group(1) for m in ks), key=lambda d: (len(d.lstrip("0")), d.lstrip("0")), default="0"
        )
        top = declared_count(path, largest, f"the variable index in x{largest}")
        pos = np.array([int(m.group(1)) - 1 for m in ks], dtype=np.int64)
        if pos.size == 0 or pos.min() >= 0:
            n = max(declared, top)
            return n, pos
    return len(names), np.arange(len(names), dtype=np.int64)


def _simplify(lits: list[int]) -> list[int] | None:
    """Sorted distinct literals of a product; None when it holds both x and ~x (it is 0)."""
    s = sorted(set(lits))
    vs = [lit >> 1 for lit in s]
    if len(set(vs)) != len(vs):
        return None
    return s


def _expand(terms: _Terms, pos: np.ndarray, n: int):
    """Expand ~x = 1 − x: ``{degree: (flat idx (m, degree), coef)}``, vectorised per degree."""
    degree = np.diff(terms.ptr)
    groups: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def put(d: int, idx: np.ndarray, coef: np.ndarray) -> None:
        entry = groups.setdefault(d, ([], []))
        entry[0].append(idx)
        entry[1].append(coef)

    for d in np.unique(degree).tolist():
        sel = np.flatnonzero(degree == d)
        coef = terms.coef[sel]
        if d == 0:
            put(0, np.zeros((sel.size, 0), np.int64), coef)
            continue
        idx = np.sort(terms.lits[terms.ptr[sel][:, None] + np.arange(d)], axis=1)
        # x·x or x·~x inside one product: rare, simplified term by term
        odd = (
            np.any((idx[:, 1:] >> 1) == (idx[:, :-1] >> 1), axis=1)
            if d > 1
            else np.zeros(sel.size, bool)
        )
        if odd.any():
            for t in np.flatnonzero(odd).tolist():
                s = _simplify(idx[t].tolist())
                if s is not None:
                    put(len(s), np.array([s], np.int64), coef[t : t + 1])
            idx, coef = idx[~odd], coef[~odd]
        put(d, idx, coef)

    lit_count = 2 * max(len(pos), 1)
    a = np.where(np.arange(lit_count) % 2 == 1, -1.0, 1.0)  # 2v → x_v; 2v+1 → 1 − x_v
    b = np.where(np.arange(lit_count) % 2 == 1, 1.0, 0.0)
    out: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    for d, (idx_parts, coef_parts) in groups.items():
        idx = np.concatenate(idx_parts)
        coef = np.concatenate(coef_parts)
        keep = coef != 0
        idx, coef = idx[keep], coef[keep]
        if d == 0:
            out.setdefault(0, []).append((idx, coef))
            continue
        if not np.any(idx & 1):  # no negated literal: nothing to expand
            out.setdefault(d, []).append((pos[idx >> 1], coef))
            continue
        for deg, (ti, tc) in expand_monomials(idx, coef, a, b).items():
            out.setdefault(deg, []).append((pos[ti >> 1], tc))
    return {
        d: (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        for d, parts in out.items()
    }


def _assemble(path, names, n, pos, objective, sense, rows) -> Problem:
    terms = _expand(objective, pos, n)
    constant = float(terms[0][1].sum()) if 0 in terms else 0.0
    linear = (
        np.bincount(terms[1][0][:, 0], weights=terms[1][1], minlength=n)
        if 1 in terms
        else np.zeros(n)
    )
    if 2 in terms:
        qi, qc = terms[2]
        quadratic = sp.csr_matrix((qc, (qi[:, 0], qi[:, 1])), shape=(n, n))
    else:
        quadratic = sp.csr_matrix((n, n))
    higher = {d: t for d, t in terms.items() if d > 2}

    m = len(rows)
    indptr, indices, data = [0], [], []
    lo = np.empty(m)
    hi = np.empty(m)
    for r, (row_terms, op, k, line) in enumerate(rows):
        t = _expand(row_terms, pos, n)
        nonlinear = [d for d in t if d > 1]
        if nonlinear:
            raise UnsupportedError(
                f"{path}: the constraint on line {line} (constraint {r + 1}) has a product of "
                f"{max(nonlinear)} literals; kakehashi holds linear constraints only: linearise "
                "it with an auxiliary variable per product or move it into the objective"
            )
        const = float(t[0][1].sum()) if 0 in t else 0.0
        if 1 in t:
            idx, coef = t[1]
            idx = idx[:, 0]
            uniq, inv = np.unique(idx, return_inverse=True)
            coef = np.bincount(inv.ravel(), weights=coef, minlength=uniq.size)
            indices.append(uniq)
            data.append(coef)
            indptr.append(indptr[-1] + uniq.size)
        else:
            indptr.append(indptr[-1])
        bound = k - const
        lo[r] = bound if op in (">=", "=") else -np.inf
        hi[r] = bound if op in ("<=", "=") else np.inf
    A = sp.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0),
            np.concatenate(indices) if indices else np.zeros(0, np.int64),
            np.array(indptr, dtype=np.int64),
        ),
        shape=(m, n),
    )
    arrays = _arrays(names, pos, n)
    problem = Problem(
        var_arrays=arrays,
        lower=np.zeros(n),
        upper=np.ones(n),
        vtype=np.full(n, BINARY, dtype=np.int8),
        constant=constant,
        linear=linear,
        quadratic=quadratic,
        higher_order=higher,
        A=A,
        lo=lo,
        hi=hi,
        constraint_groups=[ConstraintGroup("c", (m,), 0)] if m else [],
        sense=sense,
        name=Path(path).name.split(".")[0],
        metadata={"format": "opb", "source": str(path)},
    )
    return mark_one_hot(problem)


def _arrays(names: list[str], pos: np.ndarray, n: int) -> list[VarArray]:
    if n and all(_X_NAME.match(nm) for nm in names):  # also: declared, none used
        return [VarArray("x", (n,), 0, BINARY)]
    if not names:
        return []
    # free-form names: group "y[1]"-style labels into arrays; pos is identity here
    split = [split_label(nm) for nm in names]
    blocks = infer_blocks([s[0] for s in split], [s[1] for s in split])
    order = np.concatenate([blk.members for blk in blocks])
    if np.array_equal(order, np.arange(n)):
        arrays, start = [], 0
        for blk in blocks:
            arrays.append(VarArray(blk.name, blk.shape, start, BINARY))
            start += blk.members.size
        return arrays
    return [VarArray(nm, (), k, BINARY) for k, nm in enumerate(names)]


def _apply_pb_info(problem: Problem, path, pb_info) -> Problem:
    import dataclasses

    info_path = Path(path).with_suffix(".json") if pb_info is True else Path(pb_info)
    if not info_path.is_file():
        raise fail(
            info_path,
            "no such QPLIB-PB info file",
            "pass pb_info= the .json that came with the .opb",
        )
    try:
        doc = json.loads(info_path.read_text())
    except ValueError as exc:
        raise fail(
            info_path, f"not valid JSON ({exc})", "pass the QPLIB-PB transformer .json"
        ) from None
    ip2pb = _find(doc, "IP2PBInfo")
    if ip2pb is None:
        raise fail(
            info_path, "holds no IP2PBInfo transformer", "pass the QPLIB-PB transformer .json"
        )
    tseitin = _find(doc, "TseitinInfo")
    if ip2pb.get("nonzero_indicators") or (tseitin and tseitin.get("definitions")):
        raise UnsupportedError(
            f"{info_path}: the transformation defines auxiliary variables (indicators or Tseitin "
            "definitions); only renamings and an objective scale can be undone — load the .opb "
            "without pb_info"
        )
    frac = ip2pb.get("objective_function_scale_factor", {"numerator": 1, "denominator": 1})
    scale = float(frac["numerator"]) / float(frac["denominator"])
    if scale == 0:
        raise fail(info_path, "objective scale factor is 0", "check the file")
    original = {}
    for orig, sub in ip2pb.get("substitutions", {}).items():
        if sub.get("type") != "variable":
            raise UnsupportedError(
                f"{info_path}: variable {orig} is substituted by a {sub.get('type')}, not "
                "renamed; load the .opb without pb_info"
            )
        original[sub["name"]] = orig
    names = [original.get(f"x{k + 1}", f"x{k + 1}") for k in range(problem.num_variables)]
    return dataclasses.replace(
        problem,
        constant=problem.constant / scale,
        linear=problem.linear / scale,
        quadratic=problem.quadratic / scale,
        higher_order={d: (i, c / scale) for d, (i, c) in problem.higher_order.items()},
        sense="min" if scale > 0 else "max",
        metadata={
            **problem.metadata,
            "pb_info": str(info_path),
            "objective_scale": scale,
            "original_names": names,
        },
    )


def _find(doc, type_name: str):
    if isinstance(doc, dict):
        if doc.get("type") == type_name:
            return doc
        for v in doc.values():
            found = _find(v, type_name)
            if found is not None:
                return found
    return None
