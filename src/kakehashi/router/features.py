"""Cheap instance features of a :class:`~kakehashi.model.problem.Problem`, for the router.

Everything here is a handful of vectorised passes over the problem's arrays (no compilation
to a QUBO, no search): sizes and variable types, density and degree statistics of the
interaction graph, coefficient ranges and distinct values, constraint classes, the two
extreme eigenvalues of the interaction graph's weighted adjacency (as MQLib's features use;
a capped Lanczos run), and what compiling to a QUBO would add (slack bits, penalty
dominance), estimated from the rows' activity ranges the way the compiler computes them.

The feature vector has a fixed order, :data:`FEATURE_NAMES`; the selector reads it by name.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from kakehashi.model.problem import BINARY, CONTINUOUS, INTEGER, SPIN, Problem

FEATURE_NAMES = (
    "log_n",  # log10 of the number of variables
    "log_m",  # log10(1 + number of constraint rows)
    "frac_binary",
    "frac_spin",
    "frac_integer",
    "frac_continuous",
    "log_int_span",  # log2 of the mean span of the integer variables (0 when none)
    "log_nnz",  # log10(1 + quadratic nonzeros off the diagonal)
    "density",  # off-diagonal pairs present / n(n-1)/2
    "deg_mean_rel",  # mean degree / (n - 1)
    "deg_cv",  # coefficient of variation of the degrees
    "deg_max_rel",  # max degree / (n - 1)
    "frac_isolated",  # variables with no quadratic neighbour
    "max_order",  # highest monomial degree (1 linear, 2 quadratic, ...)
    "frac_linear_weight",  # |linear| mass / (|linear| + |quadratic| mass)
    "quad_pos_frac",  # share of positive off-diagonal coefficients
    "coef_log_range",  # log10(max |coef| / min |coef|) over the objective
    "coef_distinct_log",  # log10 of the number of distinct objective coefficients
    "coef_integral",  # 1 when every objective coefficient is an integer
    "unit_weights",  # 1 when all off-diagonal |coefficients| are equal
    "eig_max_rel",  # largest eigenvalue of the weighted adjacency / its Frobenius norm
    "eig_min_rel",  # smallest eigenvalue / Frobenius norm
    "eig_ratio",  # |λ_min| / λ_max (bipartite-like graphs are near 1)
    "frac_rows_eq",
    "frac_rows_ineq",
    "frac_rows_one_hot",  # Σ x = 1 over binaries, unit coefficients
    "frac_rows_at_most_one",  # Σ x ≤ 1 over binaries, unit coefficients (no slack needed)
    "frac_rows_unit",  # rows with all coefficients ±1
    "row_len_mean_rel",  # mean row length / n
    "a_log_range",  # log10 range of |A| entries
    "rows_per_var",  # m / n
    "slack_bits_rel",  # slack bits a QUBO would add / n
    "qubo_vars_log",  # log10 of the QUBO size after encoding and slack
    "penalty_dominance",  # log10(largest row's squared-coefficient mass / objective scale)
    "maximise",  # 1 for max problems
)
# not model inputs, but reported and used for applicability
SIZE_KEYS = ("num_variables", "num_constraints", "qubo_variables", "assignments_log2")

LANCZOS_STEPS = 30  # sparse products for the spectrum: ~1 ms at 10^5 nonzeros


def features(problem: Problem) -> dict[str, float]:
    """The router's feature dict of ``problem`` (every name of :data:`FEATURE_NAMES`, plus
    ``num_variables``, ``num_constraints``, ``qubo_variables`` and ``assignments_log2``).

    Example:
        >>> import kakehashi
        >>> f = features(kakehashi.examples.small_maxcut())
        >>> f["num_variables"], f["frac_binary"], f["num_constraints"]
        (5, 1.0, 0)
    """
    n = problem.num_variables
    f: dict[str, float] = {}
    f.update(_variables(problem))
    graph = _interaction_graph(problem)
    f.update(_graph(problem, graph))
    f.update(_coefficients(problem))
    f.update(_spectrum(graph))
    f.update(_constraints(problem))
    f.update(_qubo_cost(problem, f))
    f["maximise"] = float(problem.sense == "max")
    f["num_variables"] = n
    f["num_constraints"] = problem.num_constraints
    return f


def vector(feats: dict[str, float]) -> np.ndarray:
    """The model input of a feature dict, in :data:`FEATURE_NAMES` order."""
    return np.array([float(feats[k]) for k in FEATURE_NAMES], dtype=np.float64)


# ---------------------------------------------------------------------- parts
def _variables(p: Problem) -> dict[str, float]:
    n = max(p.num_variables, 1)
    vt = p.vtype
    ints = vt == INTEGER
    spans = p.upper[ints] - p.lower[ints] + 1.0
    log2_assign = float(
        np.sum(np.where(ints, np.log2(np.maximum(p.upper - p.lower + 1.0, 1.0)), 0.0))
    ) + float(np.count_nonzero((vt == BINARY) | (vt == SPIN)))
    if np.any(vt == CONTINUOUS):
        log2_assign = math.inf
    return {
        "log_n": math.log10(n),
        "log_m": math.log10(1 + p.num_constraints),
        "frac_binary": float(np.mean(vt == BINARY)),
        "frac_spin": float(np.mean(vt == SPIN)),
        "frac_integer": float(np.mean(ints)),
        "frac_continuous": float(np.mean(vt == CONTINUOUS)),
        "log_int_span": float(np.log2(np.mean(spans))) if spans.size else 0.0,
        "assignments_log2": log2_assign,
    }


def _interaction_graph(p: Problem) -> sp.csr_matrix:
    """The symmetric weighted adjacency of the objective's pairs (higher-order terms add a
    unit-weight clique over each monomial's variables), diagonal dropped."""
    n = p.num_variables
    q = p.quadratic.tocoo()
    off = q.row != q.col
    rows, cols, vals = [q.row[off]], [q.col[off]], [q.data[off]]
    for idx, coef in p.higher_order.values():
        k = idx.shape[1]
        for a in range(k):
            for b in range(a + 1, k):
                rows.append(idx[:, a])
                cols.append(idx[:, b])
                vals.append(np.abs(coef))
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    upper = sp.coo_matrix((v, (r, c)), shape=(n, n)).tocsr()
    upper.sum_duplicates()
    return (upper + upper.T).tocsr()


def _graph(p: Problem, g: sp.csr_matrix) -> dict[str, float]:
    n = p.num_variables
    deg = np.diff(g.indptr).astype(np.float64)
    nnz_pairs = g.nnz / 2
    denom = max(n - 1, 1)
    mean = float(deg.mean()) if n else 0.0
    return {
        "log_nnz": math.log10(1 + nnz_pairs),
        "density": float(nnz_pairs / max(n * (n - 1) / 2, 1)),
        "deg_mean_rel": mean / denom,
        "deg_cv": float(deg.std() / mean) if mean > 0 else 0.0,
        "deg_max_rel": float(deg.max()) / denom if n else 0.0,
        "frac_isolated": float(np.mean(deg == 0)) if n else 0.0,
        "max_order": float(p.max_degree),
    }


def _coefficients(p: Problem) -> dict[str, float]:
    q = p.quadratic
    diag = q.diagonal()
    off = q.data[np.repeat(np.arange(q.shape[0]), np.diff(q.indptr)) != q.indices]
    higher = [c for _, c in p.higher_order.values()]
    lin = p.linear + diag  # on binaries the diagonal is linear; elsewhere close enough
    coefs = np.concatenate([lin, off, *higher]) if higher else np.concatenate([lin, off])
    nz = np.abs(coefs[coefs != 0])
    lin_mass = float(np.abs(lin).sum())
    quad_mass = float(np.abs(off).sum()) + sum(float(np.abs(c).sum()) for c in higher)
    distinct = np.unique(coefs[coefs != 0]).size
    abs_off = np.abs(off[off != 0])
    return {
        "frac_linear_weight": lin_mass / (lin_mass + quad_mass) if lin_mass + quad_mass else 0.0,
        "quad_pos_frac": float(np.mean(off > 0)) if off.size else 0.0,
        "coef_log_range": float(np.log10(nz.max() / nz.min())) if nz.size else 0.0,
        "coef_distinct_log": math.log10(1 + distinct),
        "coef_integral": float(np.all(coefs == np.round(coefs))),
        "unit_weights": float(abs_off.size > 0 and abs_off.max() == abs_off.min()),
    }


def _spectrum(g: sp.csr_matrix) -> dict[str, float]:
    """Extreme eigenvalues of the weighted adjacency, relative to its Frobenius norm.

    Dense below 65 variables, else a capped Lanczos run: these are features, not results,
    and a not-quite-converged Ritz value is kept rather than waited for.
    """
    n = g.shape[0]
    fro = float(np.sqrt(np.sum(g.data**2)))
    if g.nnz == 0 or fro == 0:
        return {"eig_max_rel": 0.0, "eig_min_rel": 0.0, "eig_ratio": 0.0}
    if n <= 64:
        vals = np.linalg.eigvalsh(g.toarray())
        lmin, lmax = float(vals[0]), float(vals[-1])
    else:
        lmin, lmax = _extreme_eigenvalues(g)
    return {
        "eig_max_rel": lmax / fro,
        "eig_min_rel": lmin / fro,
        "eig_ratio": abs(lmin) / lmax if lmax > 0 else 0.0,
    }


def _extreme_eigenvalues(g: sp.csr_matrix) -> tuple[float, float]:
    """Smallest and largest eigenvalue by a fixed number of Lanczos steps.

    Lanczos' extreme Ritz values converge first, so a few dozen steps without
    re-orthogonalisation give both ends to a few digits — features, not results. Written
    out (one sparse product per step) rather than ARPACK's ``eigsh``: ARPACK's
    reverse-communication loop costs ~0.1 ms per step in Python and needs restarts for both
    ends, several milliseconds on a 150-variable graph, where the router's whole budget at
    a 0.3 s time limit is 6 ms. The start vector is fixed: features do not depend on a seed.
    """
    from scipy.linalg import eigvalsh_tridiagonal

    n = g.shape[0]
    v = np.random.default_rng(0).standard_normal(n)
    v /= np.linalg.norm(v)
    v_prev = np.zeros(n)
    beta = 0.0
    alphas, betas = [], []
    for _ in range(min(LANCZOS_STEPS, n)):
        w = g @ v - beta * v_prev
        alpha = float(w @ v)
        w -= alpha * v
        alphas.append(alpha)
        beta = float(np.linalg.norm(w))
        if beta < 1e-10 * max(abs(alpha), 1.0):  # an invariant subspace: exact already
            break
        betas.append(beta)
        v_prev, v = v, w / beta
    vals = eigvalsh_tridiagonal(np.array(alphas), np.array(betas[: len(alphas) - 1]))
    return float(vals[0]), float(vals[-1])


def _constraints(p: Problem) -> dict[str, float]:
    m, n = p.num_constraints, max(p.num_variables, 1)
    zero = {
        "frac_rows_eq": 0.0, "frac_rows_ineq": 0.0, "frac_rows_one_hot": 0.0,
        "frac_rows_at_most_one": 0.0, "frac_rows_unit": 0.0, "row_len_mean_rel": 0.0,
        "a_log_range": 0.0, "rows_per_var": 0.0,
    }  # fmt: skip
    if m == 0:
        return zero
    A = p.A
    row_len = np.diff(A.indptr)
    rows = np.repeat(np.arange(m), row_len)
    absdata = np.abs(A.data)
    binary_col = (p.vtype == BINARY)[A.indices]
    unit = absdata == 1.0
    nonunit_rows = np.bincount(rows, weights=~unit, minlength=m)
    nonbinary_rows = np.bincount(rows, weights=~binary_col, minlength=m)
    negative_rows = np.bincount(rows, weights=A.data < 0, minlength=m)
    plain = (nonunit_rows == 0) & (nonbinary_rows == 0) & (negative_rows == 0) & (row_len > 0)
    eq = p.lo == p.hi
    one_hot = plain & eq & (p.hi == 1)
    at_most_one = plain & ~eq & (p.hi == 1) & (p.lo <= 0)
    nz = absdata[absdata > 0]
    return {
        "frac_rows_eq": float(np.mean(eq)),
        "frac_rows_ineq": float(np.mean(~eq)),
        "frac_rows_one_hot": float(np.mean(one_hot)),
        "frac_rows_at_most_one": float(np.mean(at_most_one & ~one_hot)),
        "frac_rows_unit": float(np.mean(nonunit_rows == 0)),
        "row_len_mean_rel": float(row_len.mean() / n),
        "a_log_range": float(np.log10(nz.max() / nz.min())) if nz.size else 0.0,
        "rows_per_var": m / n,
    }


def _qubo_cost(p: Problem, f: dict[str, float]) -> dict[str, float]:
    """What compiling to a QUBO would add: encoding bits, slack bits, auxiliaries for
    higher-order terms, penalty scale.

    Slack bits per inequality row: ⌈log2(reachable activity range + 1)⌉ over the row's
    bounds (what the compiler's log-encoded slack uses); at-most-one rows need none.
    """
    n = p.num_variables
    ints = p.vtype == INTEGER
    enc_bits = np.ceil(np.log2(np.maximum(p.upper - p.lower + 1.0, 2.0)))
    bits = float(np.sum(np.where(ints, enc_bits, 1.0)))
    if np.any(p.vtype == CONTINUOUS):
        return {"slack_bits_rel": 0.0, "qubo_vars_log": math.log10(max(bits, 1.0)),
                "penalty_dominance": 0.0, "qubo_variables": math.inf}  # fmt: skip
    slack = 0.0
    dominance = 0.0
    m = p.num_constraints
    if m:
        A = p.A
        pos, neg = A.maximum(0), A.minimum(0)
        lo_act = pos @ p.lower + neg @ p.upper
        hi_act = pos @ p.upper + neg @ p.lower
        eq = p.lo == p.hi
        # the slack covers the part of the activity range the row allows
        top = np.minimum(hi_act, p.hi)
        bottom = np.maximum(lo_act, p.lo)
        span = np.where(eq, 0.0, np.maximum(top - bottom, 0.0))
        amo = np.isclose(span, 1.0) & (np.diff(A.indptr) > 1)
        row_slack = np.where(amo, 0.0, np.ceil(np.log2(span + 1.0)))
        slack = float(np.sum(row_slack[np.isfinite(row_slack)]))
        obj_scale = float(np.abs(p.linear).max(initial=0.0))
        if p.quadratic.nnz:
            obj_scale = max(obj_scale, float(np.abs(p.quadratic.data).max()))
        row_mass = np.asarray(A.multiply(A).sum(axis=1)).ravel()
        if obj_scale > 0 and row_mass.size:
            dominance = math.log10(max(float(row_mass.max()), 1e-12) / obj_scale)
    # Rosenberg substitution: at most one auxiliary per degree above two of each monomial
    aux = float(sum(idx.shape[0] * (idx.shape[1] - 2) for idx, _ in p.higher_order.values()))
    total = bits + slack + aux
    return {
        "slack_bits_rel": slack / max(n, 1),
        "qubo_vars_log": math.log10(max(total, 1.0)),
        "penalty_dominance": dominance,
        "qubo_variables": total,
    }
