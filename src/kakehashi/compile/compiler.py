"""Problem → Qubo: encodings, slack variables, higher-order reduction and penalty weights.

Every step is sparse linear algebra over the Problem's arrays:

1. ``x = E b + d`` (encode.py) turns the objective into a QUBO over ``b``: linear
   ``Eᵀc + Eᵀ(Q+Qᵀ)d``, pairs ``EᵀQE``.
2. Terms of degree > 2 (binary/spin variables only) are reduced to pairs by Rosenberg
   substitution ``y = b_i b_j`` with a penalty ``M(b_i b_j − 2b_i y − 2b_j y + 3y)``, one pair
   for all terms sharing it, in vectorised rounds.
3. Each constraint row ``lo ≤ a·x ≤ hi`` becomes ``a'·z = t`` (inequalities gain log-encoded
   slack bits) and the penalty ``w_r (a'·z − t)²``; for all rows at once that is
   ``zᵀCᵀWCz − 2tᵀWCz + tᵀWt``, one sparse product.
4. Weights start from the objective's scale (the largest change one bit flip can make to it),
   so they never explode; the adaptive loop (backends/penalty_loop.py) raises those that
   stay violated.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from kakehashi.compile.encode import encode_variables, log_coefficients
from kakehashi.compile.qubo import Qubo, strictly_upper
from kakehashi.errors import ModelError, UnsupportedError
from kakehashi.model.problem import INTEGER, SPIN, Problem

_INTEGRAL_TOL = 1e-9


@dataclasses.dataclass
class Compiled:
    """A Problem compiled to a Qubo, with everything needed to re-weight and decode.

    Example:
        >>> import kakehashi
        >>> c = compile_problem(kakehashi.examples.knapsack(8))
        >>> c.decode(np.zeros((1, c.num_binaries))).shape  # 0/1 samples -> problem values
        (1, 8)
    """

    problem: Problem
    E: sp.csr_matrix  # (n, nb) x = E b + d
    d: np.ndarray
    sign: float  # +1 for min, -1 for max (objective was negated)
    obj_h: np.ndarray  # objective QUBO over all z (padded with zeros for aux/slack)
    obj_upper: sp.csr_matrix  # strictly upper pair coefficients (incl. reduction penalties)
    obj_offset: float
    C: sp.csr_matrix  # (r, N) penalty rows over z = [b, aux, slack]
    t: np.ndarray  # (r,)
    row_group: np.ndarray  # (r,) index into group_names
    at_most_one: np.ndarray  # (r,) bool: Σ x ≤ 1 rows, penalised pairwise without slack
    group_names: list[str]
    weights: np.ndarray  # (len(group_names),)
    num_encoded: int  # nb: bits that encode problem variables
    num_aux: int  # reduction auxiliaries
    num_slack: int
    qubo: Qubo = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.qubo = self._assemble(self.weights)

    @property
    def num_binaries(self) -> int:
        return self.num_encoded + self.num_aux + self.num_slack

    @property
    def weight_map(self) -> dict[str, float]:
        return {g: float(w) for g, w in zip(self.group_names, self.weights, strict=True)}

    def _assemble(self, weights: np.ndarray) -> Qubo:
        h = self.obj_h.copy()
        upper = self.obj_upper
        offset = self.obj_offset
        w = weights[self.row_group]
        eq = ~self.at_most_one
        if eq.any():
            # w (C z − t)² for rows that are equalities (inequalities carry their slack)
            C, t, we = self.C[eq], self.t[eq], w[eq]
            WC = sp.diags(we) @ C
            h_pen, upper_pen = _fold_symmetric(C.T.tocsr() @ WC)  # CSR @ CSR stays CSR
            h = h + h_pen - 2.0 * (WC.T @ t)
            upper = upper + upper_pen
            offset += float(t @ (we * t))
        if self.at_most_one.any():
            # Σx ≤ 1 over binaries: w Σ_{i<j} x_i x_j = w ((Σx)² − Σx) / 2, no slack needed
            C, wa = self.C[self.at_most_one], w[self.at_most_one]
            _, upper_pen = _fold_symmetric(C.T.tocsr() @ (sp.diags(wa) @ C).tocsr())
            upper = upper + 0.5 * upper_pen
        return Qubo(h, offset=offset, decoder=self, upper=upper.tocsr())

    def with_weights(self, weights: dict[str, float] | np.ndarray) -> Compiled:
        """The same compilation with other penalty weights (only the penalty part is rebuilt)."""
        new = np.asarray(
            [weights.get(g, w) for g, w in zip(self.group_names, self.weights, strict=True)]
            if isinstance(weights, dict)
            else weights,
            dtype=np.float64,
        )
        return dataclasses.replace(self, weights=new)

    def decode(self, Z: np.ndarray) -> np.ndarray:
        """0/1 samples over the Qubo's variables → values of the problem's variables."""
        Z = np.atleast_2d(np.asarray(Z, dtype=np.float64))
        if Z.shape[1] != self.num_binaries:
            raise ValueError(f"samples have {Z.shape[1]} columns; the Qubo has {self.num_binaries}")
        return np.asarray(self.E @ Z[:, : self.num_encoded].T).T + self.d

    def encode(self, X: np.ndarray) -> np.ndarray:
        """Problem values → binaries ``b`` (encoded part only), for warm starts and tests."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        B = np.zeros((X.shape[0], self.num_encoded))
        E = self.E.tocsr()
        for i in range(self.problem.num_variables):
            lo, hi = E.indptr[i], E.indptr[i + 1]
            cols, coefs = E.indices[lo:hi], E.data[lo:hi]
            rest = X[:, i] - self.d[i]
            # greedy from the largest coefficient down: exact for log and unary encodings
            for k in np.argsort(-coefs, kind="stable"):
                take = rest >= coefs[k] - 1e-9
                B[take, cols[k]] = 1.0
                rest = rest - take * coefs[k]
        return B


def compile_problem(
    problem: Problem,
    *,
    weights: dict[str, float] | float | None = None,
    integer_encoding: str = "log",
) -> Compiled:
    """Compile ``problem`` to a penalised :class:`Qubo` (in ``.qubo``), minimisation form.

    ``weights`` fixes penalty weights per constraint group (a dict) or scales the automatic
    ones (a float); unnamed groups keep their automatic weight.

    Example:
        >>> import numpy as np, scipy.sparse as sp
        >>> from kakehashi.model.problem import Problem
        >>> p = Problem.from_arrays(linear=[1, 1], A=sp.csr_matrix([[1, 1]]), lo=[1], hi=[1])
        >>> c = compile_problem(p)
        >>> c.qubo.num_variables
        2
    """
    problem.validate()
    sign = 1.0 if problem.sense == "min" else -1.0
    E, d = encode_variables(problem, integer_encoding)
    nb = E.shape[1]

    # 1. objective over b
    Q = problem.quadratic * sign
    c = problem.linear * sign
    const = sign * problem.constant
    if _is_identity(E, d):
        # all variables are binaries: b = x, so the objective is already over b
        lin, pairs = c, Q
    else:
        lin = E.T @ (c + Q @ d + Q.T @ d)
        const += float(c @ d) + float(d @ (Q @ d))
        pairs = (E.T @ (Q @ E)).tocsr()

    # 2. higher-order terms (binary/spin only) → pairs with auxiliaries
    extra_h, extra_pairs, const_extra, num_aux = _reduce_higher_order(problem, E, d, sign, nb)
    lin_total = np.concatenate([lin, np.zeros(num_aux)])
    lin_total[: extra_h.size] += extra_h
    const += const_extra

    # 3. constraints → penalty rows with slack
    C, t, row_group, amo, group_names, num_slack = _penalty_rows(problem, E, d, nb + num_aux)
    N = nb + num_aux + num_slack
    h = np.concatenate([lin_total, np.zeros(num_slack)])
    upper = _pad_square(sp.csr_matrix(pairs), N)
    if extra_pairs is not None:
        r, cc, v = extra_pairs
        upper = upper + sp.csr_matrix((v, (r, cc)), shape=(N, N))
    # the objective in canonical form once: diagonal folded into h, pairs strictly upper
    objective = Qubo.from_upper(h, upper)
    h, upper = objective.h, objective.upper
    C = sp.csr_matrix(C, shape=(C.shape[0], N))

    # 4. automatic weights from the objective's scale
    auto = initial_weights(h, upper, C, row_group, len(group_names))
    w = auto
    if isinstance(weights, (int, float)):
        w = auto * float(weights)
    elif isinstance(weights, dict):
        unknown = set(weights) - set(group_names)
        if unknown:
            raise ModelError(
                f"penalty weights name unknown constraint groups {sorted(unknown)}; "
                f"this problem has {group_names}"
            )
        w = np.array([float(weights.get(g, a)) for g, a in zip(group_names, w, strict=True)])
    return Compiled(
        problem=problem,
        E=E.tocsr(),
        d=d,
        sign=sign,
        obj_h=h,
        obj_upper=upper,
        obj_offset=const,
        C=C,
        t=t,
        row_group=row_group,
        at_most_one=amo,
        group_names=group_names,
        weights=w,
        num_encoded=nb,
        num_aux=num_aux,
        num_slack=num_slack,
    )


def _pad_square(M: sp.csr_matrix, N: int) -> sp.csr_matrix:
    """``M`` (n × n) as the top-left block of an N × N CSR, by extending ``indptr`` only."""
    n = M.shape[0]
    if n == N:
        return M
    indptr = np.concatenate([M.indptr, np.full(N - n, M.indptr[-1], dtype=M.indptr.dtype)])
    return sp.csr_matrix((M.data, M.indices, indptr), shape=(N, N))


def _fold_symmetric(P: sp.csr_matrix) -> tuple[np.ndarray, sp.csr_matrix]:
    """``zᵀPz`` for symmetric ``P`` as (linear diag, strictly upper pairs ``2 P_ij``)."""
    P.sum_duplicates()
    return P.diagonal(), 2.0 * strictly_upper(P)


def _is_identity(E: sp.csr_matrix, d: np.ndarray) -> bool:
    n, nb = E.shape
    return (
        n == nb
        and E.nnz == n
        and not d.any()
        and bool(np.all(E.data == 1.0))
        and bool(np.array_equal(E.indices, np.arange(n)))
        and bool(np.array_equal(E.indptr, np.arange(n + 1)))
    )


# ---------------------------------------------------------------------- penalty weights
def initial_weights(
    h: np.ndarray, upper: sp.spmatrix, C: sp.csr_matrix, row_group: np.ndarray, num_groups: int
) -> np.ndarray:
    """Per-group weight: the largest objective change one bit flip can make, over the bits
    the group touches, divided by the smallest squared coefficient of its rows (the least
    non-zero penalty a violation costs). Bounded by the objective's own coefficients, so
    it cannot explode the way ``1 + (max f − min f)`` rules do."""
    if num_groups == 0:
        return np.zeros(0)
    absu = abs(sp.csr_matrix(upper))
    flip = np.abs(h) + np.asarray(absu.sum(axis=0)).ravel() + np.asarray(absu.sum(axis=1)).ravel()
    global_scale = float(flip.max(initial=0.0)) or 1.0
    weights = np.full(num_groups, global_scale)
    if C.shape[0]:
        Cabs = abs(C).tocsr()
        # per row: max flip over the row's variables
        row_max = np.zeros(C.shape[0])
        row_min_coef = np.full(C.shape[0], np.inf)
        rows = np.repeat(np.arange(C.shape[0]), np.diff(Cabs.indptr))
        np.maximum.at(row_max, rows, flip[Cabs.indices])
        np.minimum.at(row_min_coef, rows, Cabs.data)
        row_min_coef[~np.isfinite(row_min_coef)] = 1.0
        row_w = np.maximum(row_max, 1e-12) / np.maximum(row_min_coef, 1e-12) ** 2
        row_w[row_max == 0] = global_scale / np.maximum(row_min_coef[row_max == 0], 1e-12) ** 2
        weights = np.zeros(num_groups)
        np.maximum.at(weights, row_group, row_w)
        weights[weights == 0] = global_scale
    return weights


# ---------------------------------------------------------------------- constraints
def _penalty_rows(
    problem: Problem, E: sp.csr_matrix, d: np.ndarray, first_slack: int
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, list[str], int]:
    """Rows ``C z = t`` (slack columns from ``first_slack`` on), their groups, and which
    rows are at-most-one rows (penalised pairwise, no slack, ``t`` unused)."""
    group_names = [g.name for g in problem.constraint_groups]
    m = problem.num_constraints
    if m == 0:
        empty = np.zeros(0, dtype=np.int64)
        return sp.csr_matrix((0, first_slack)), np.zeros(0), empty, empty.astype(bool), [], 0
    row_group = np.zeros(m, dtype=np.int64)
    for gi, g in enumerate(problem.constraint_groups):
        row_group[g.start : g.stop] = gi
    AE = (problem.A @ E).tocsr()
    shift = problem.A @ d
    lo = problem.lo - shift
    hi = problem.hi - shift
    pos = AE.maximum(0)
    neg = AE.minimum(0)
    act_max = np.asarray(pos.sum(axis=1)).ravel()
    act_min = np.asarray(neg.sum(axis=1)).ravel()
    lo_eff = np.maximum(lo, act_min)
    hi_eff = np.minimum(hi, act_max)
    impossible = np.flatnonzero(lo_eff > hi_eff + 1e-9)
    if impossible.size:
        r = int(impossible[0])
        raise ModelError(
            f"constraint {problem.constraint_name(r)} can never hold: its left side ranges over "
            f"[{act_min[r] + shift[r]:g}, {act_max[r] + shift[r]:g}] but it must lie in "
            f"[{problem.lo[r]:g}, {problem.hi[r]:g}]; fix the constraint or the bounds"
        )
    equality = np.abs(hi_eff - lo_eff) <= 1e-9
    redundant = (lo <= act_min + 1e-9) & (hi >= act_max - 1e-9) & ~equality
    at_most_one = _at_most_one_rows(AE, lo_eff, hi_eff) & ~equality & ~redundant
    keep = ~redundant
    # inequality rows: a·b − s = lo_eff, s ∈ [0, hi_eff − lo_eff] (log-encoded slack)
    ineq = np.flatnonzero(keep & ~equality & ~at_most_one)
    integral = _row_is_integral(AE, lo_eff, hi_eff)
    slack_rows, slack_cols, slack_vals = [], [], []
    col = first_slack
    for r in ineq:
        span = hi_eff[r] - lo_eff[r]
        if integral[r]:
            coeffs = log_coefficients(round(span))
        else:
            # non-integral rows: slack on a grid of 1/64 of the smallest coefficient —
            # an approximation of the continuous slack, documented in docs/compile.md
            step = _grid_step(AE, r)
            coeffs = log_coefficients(int(np.ceil(span / step))) * step
            coeffs[-1] -= coeffs.sum() - span if coeffs.sum() > span else 0.0
        k = coeffs.size
        slack_rows.append(np.full(k, r))
        slack_cols.append(np.arange(col, col + k))
        slack_vals.append(-coeffs)
        col += k
    num_slack = col - first_slack
    t = lo_eff  # equalities: a·b = lo; inequalities: a·b − s = lo
    AEc = AE.tocoo()
    rows = [AEc.row, *slack_rows]
    cols = [AEc.col, *slack_cols]
    vals = [AEc.data, *slack_vals]
    C = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(m, first_slack + num_slack),
    )
    kept = np.flatnonzero(keep)
    return C[kept], t[kept], row_group[kept], at_most_one[kept], group_names, num_slack


def _at_most_one_rows(AE: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Rows ``Σ b ≤ 1`` over bits with coefficient 1 (lower side not binding)."""
    rows = np.repeat(np.arange(AE.shape[0]), np.diff(AE.indptr))
    not_unit = np.zeros(AE.shape[0], dtype=bool)
    not_unit[rows[np.abs(AE.data - 1.0) > _INTEGRAL_TOL]] = True
    return ~not_unit & (np.diff(AE.indptr) >= 2) & (np.abs(hi - 1.0) <= 1e-9) & (lo <= 1e-9)


def _row_is_integral(AE: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    frac = np.abs(AE.data - np.round(AE.data)) > _INTEGRAL_TOL
    rows = np.repeat(np.arange(AE.shape[0]), np.diff(AE.indptr))
    bad = np.zeros(AE.shape[0], dtype=bool)
    bad[rows[frac]] = True
    for side in (lo, hi):
        fin = np.isfinite(side)
        bad[fin] |= np.abs(side[fin] - np.round(side[fin])) > _INTEGRAL_TOL
    return ~bad


def _grid_step(AE: sp.csr_matrix, r: int) -> float:
    data = np.abs(AE.data[AE.indptr[r] : AE.indptr[r + 1]])
    return float(data[data > 0].min()) / 64.0 if data.size else 1.0


# ---------------------------------------------------------------------- higher order
def _reduce_higher_order(
    problem: Problem, E: sp.csr_matrix, d: np.ndarray, sign: float, nb: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray] | None, float, int]:
    """Turn terms of degree ≥ 3 into linear/pair terms over b plus auxiliaries.

    Returns ``(linear over b and aux, (rows, cols, vals) pair terms, constant, num_aux)``.
    """
    if not problem.higher_order:
        return np.zeros(nb), None, 0.0, 0
    vt = problem.vtype
    # map each problem variable to its single bit; spins expand as 2b − 1
    bit_of = np.full(problem.num_variables, -1, dtype=np.int64)
    Er = E.tocsr()
    counts = np.diff(Er.indptr)
    single = counts == 1
    bit_of[single] = Er.indices[Er.indptr[:-1][single]]
    terms: list[tuple[np.ndarray, np.ndarray]] = []  # (bits (m,k), coef)
    for _degree, (idx, coef) in problem.higher_order.items():
        if np.any(vt[idx] == INTEGER) or np.any(bit_of[idx] < 0):
            raise UnsupportedError(
                "higher-order terms over integer variables cannot be compiled to a QUBO; "
                "use binary variables in products of three or more"
            )
        coef = coef * sign
        spins = vt[idx] == SPIN
        if spins.any():
            terms.extend(_expand_spin_terms(bit_of[idx], coef, spins))
        else:
            terms.append((bit_of[idx], coef))
    return _rosenberg(terms, nb)


def _expand_spin_terms(
    bits: np.ndarray, coef: np.ndarray, spins: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Π s_i with s = 2b − 1 expands into Σ over subsets; done per term (spin HUBOs are rare)."""
    out: dict[int, list] = {}
    m, k = bits.shape
    for t in range(m):
        factors = [
            ((1.0, bits[t, j]), (-1.0, None)) if spins[t, j] else ((1.0, bits[t, j]),)
            for j in range(k)
        ]
        scale = [2.0 if spins[t, j] else 1.0 for j in range(k)]
        expansions = [((coef[t], ()))]
        for j in range(k):
            new = []
            for c, vs in expansions:
                for fc, v in factors[j]:
                    if v is None:
                        new.append((c * fc, vs))
                    else:
                        new.append((c * fc * scale[j], (*vs, v)))
            expansions = new
        for c, vs in expansions:
            out.setdefault(len(vs), []).append((vs, c))
    result = []
    for deg, items in out.items():
        arr = np.array([v for v, _ in items], dtype=np.int64).reshape(len(items), deg)
        result.append((arr, np.array([c for _, c in items])))
    return result


def _rosenberg(
    terms: list[tuple[np.ndarray, np.ndarray]], nb: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray], float, int]:
    """Vectorised rounds: in every term of degree ≥ 3 replace its first two bits by one
    auxiliary shared by all terms with the same pair, until every term has degree ≤ 2."""
    lin = np.zeros(nb)
    const = 0.0
    pr, pc, pv = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    # group terms by degree after deduplicating repeated bits (b·b = b)
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    for bits, coef in terms:
        bits = np.sort(bits, axis=1)
        for row_bits, c in _dedupe_rows(bits, coef):
            pending.append((row_bits, c))
    next_aux = nb
    while pending:
        by_deg: dict[int, list] = {}
        for bits, coef in pending:
            by_deg.setdefault(bits.shape[1], []).append((bits, coef))
        pending = []
        high = []
        for deg, items in by_deg.items():
            bits = np.concatenate([b for b, _ in items])
            coef = np.concatenate([c for _, c in items])
            if deg == 0:
                const += float(coef.sum())
            elif deg == 1:
                lin_full = np.zeros(max(next_aux, nb))
                np.add.at(lin_full, bits[:, 0], coef)
                lin = _pad_add(lin, lin_full)
            elif deg == 2:
                pr.append(bits[:, 0])
                pc.append(bits[:, 1])
                pv.append(coef)
            else:
                high.append((bits, coef))
        if not high:
            break
        for b, c in high:
            pair_key = b[:, 0] * (1 << 32) + b[:, 1]
            uniq, inv = np.unique(pair_key, return_inverse=True)
            aux = next_aux + np.arange(uniq.size)
            next_aux += uniq.size
            strength = 1.0 + np.bincount(inv, weights=np.abs(c), minlength=uniq.size)
            i, j = uniq >> 32, uniq & 0xFFFFFFFF
            # M (b_i b_j − 2 b_i y − 2 b_j y + 3 y)
            pr.extend([i, i, j])
            pc.extend([j, aux, aux])
            pv.extend([strength, -2 * strength, -2 * strength])
            lin = _pad_add(lin, _vec_at(aux, 3 * strength, next_aux))
            reduced = np.concatenate([aux[inv][:, None], b[:, 2:]], axis=1)
            pending.append((np.sort(reduced, axis=1), c))
    num_aux = next_aux - nb
    lin = _pad_add(lin, np.zeros(next_aux))
    return lin, (np.concatenate(pr), np.concatenate(pc), np.concatenate(pv)), const, num_aux


def _dedupe_rows(bits: np.ndarray, coef: np.ndarray):
    """Yield (bits, coef) groups with repeated bits in a term collapsed (b·b = b)."""
    if bits.shape[1] <= 1:
        yield bits, coef
        return
    dup = np.any(bits[:, 1:] == bits[:, :-1], axis=1)
    if dup.any():
        for t in np.flatnonzero(dup):
            u = np.unique(bits[t])
            yield u[None, :], coef[t : t + 1]
    if (~dup).any():
        yield bits[~dup], coef[~dup]


def _pad_add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = max(a.size, b.size)
    out = np.zeros(n)
    out[: a.size] += a
    out[: b.size] += b
    return out


def _vec_at(idx: np.ndarray, vals: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    np.add.at(out, idx, vals)
    return out
