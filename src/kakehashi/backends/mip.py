"""`scip`, `highs`, `cpsat`: classical exact solvers on the problem's native constraints.

No penalties: constraints go to the solver as constraints, so these backends return proven
optima (or, at the time limit, the best solution with its bound and gap) — the baseline every
comparison needs.

* ``scip`` and ``highs`` go through the OMMX adapters (``Problem → ommx.v1.Instance`` by
  :func:`kakehashi.model.ommx_io.to_ommx`). SCIP keeps quadratic objectives (it solves
  non-convex MIQPs by spatial branch-and-bound); HiGHS takes linear objectives only, so every
  product with a binary factor is linearised exactly first (:func:`linearize`).
* ``cpsat`` builds an OR-Tools CP-SAT model straight from the Problem's arrays: binary and
  integer variables only, products with a binary factor linearised, products of integers as
  CP-SAT multiplication constraints, coefficients scaled to integers exactly (or refused).

Spins are replaced by binaries (``s = 2b − 1``) before solving and mapped back after.
``Result.info`` holds ``status`` (``optimal``, ``time_limit``, ``infeasible``, ``unbounded``,
``feasible``, ``no_solution``), ``bound`` (the solver's proven bound on the objective, in the
problem's sense), ``gap`` (``|objective − bound| / |objective|``) and the solver's own figures.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from kakehashi import progress
from kakehashi.backends.applicability import Applicability
from kakehashi.backends.base import BaseBackend, RunOutput, register
from kakehashi.backends.catalog import info_for
from kakehashi.backends.params import Param, merged
from kakehashi.errors import BackendError, UnsupportedError
from kakehashi.model.problem import (
    BINARY,
    CONTINUOUS,
    INTEGER,
    SPIN,
    ConstraintGroup,
    Problem,
    VarArray,
)
from kakehashi.result import Result

PRODUCT_ARRAY = "_kakehashi_product"
LINK_GROUP = "_kakehashi_product_link"
DEFAULT_TIME_LIMIT = 60.0
MAX_SCALE = 10**9  # largest factor cpsat multiplies a row (or the objective) by
_INT_LIMIT = 2**62  # CP-SAT works in int64; keep every scaled activity well inside it
_TOL = 1e-9


# ---------------------------------------------------------------------- linearisation
@dataclasses.dataclass
class Linearized:
    """A binary-form Problem whose products with a binary factor are auxiliaries.

    ``problem`` has the original variables first (spins as binaries) and the product
    variables after them; :meth:`restore` maps its solutions back to the original problem.
    """

    problem: Problem
    num_original: int
    spin_mask: np.ndarray
    num_products: int

    def restore(self, X: np.ndarray) -> np.ndarray:
        """Solutions of the linearised problem → values of the original variables."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))[:, : self.num_original].copy()
        X[:, self.spin_mask] = 2.0 * np.round(X[:, self.spin_mask]) - 1.0
        discrete = self.problem.vtype[: self.num_original] != CONTINUOUS
        X[:, discrete] = np.round(X[:, discrete])  # solvers return 0.9999999 for 1
        return X


def linearize(
    problem: Problem, *, keep_quadratic: bool, product_vtype: int = CONTINUOUS
) -> Linearized:
    """Replace products by auxiliary variables with exact linear constraints.

    * binary × binary ``z = x·y``: ``z ≤ x, z ≤ y, z ≥ x + y − 1`` (McCormick, exact on 0/1);
    * binary × bounded ``z = b·y``, ``y ∈ [L, U]``: ``L b ≤ z ≤ U b``,
      ``y − U(1 − b) ≤ z ≤ y − L(1 − b)``;
    * a product of k ≥ 3 binaries ``z = Π x``: ``z ≤ x_f`` for each factor,
      ``z ≥ Σ x_f − (k − 1)``; higher-order terms with a non-binary factor are refused;
    * ``x²`` of a binary is ``x``.

    With ``keep_quadratic`` (SCIP) the quadratic part stays as it is and only higher-order
    terms are linearised. Otherwise products of two non-binary variables stay in the
    returned problem's quadratic part for the caller to handle or refuse.

    Example:
        >>> import scipy.sparse as sp
        >>> p = Problem.from_arrays(linear=[1, 1], quadratic=sp.csr_matrix([[0, -3], [0, 0]]))
        >>> lin = linearize(p, keep_quadratic=False)
        >>> lin.num_products, lin.problem.quadratic.nnz, lin.problem.num_constraints
        (1, 0, 3)
    """
    from kakehashi.model.affine import spin_to_binary

    prob, spin_mask = spin_to_binary(problem)
    n = prob.num_variables
    binary = prob.vtype == BINARY
    linear = prob.linear.copy()
    lower, upper = prob.lower, prob.upper

    terms: list[tuple[np.ndarray, float]] = []  # (factor indices, coefficient)
    kept = sp.csr_matrix((n, n))
    if keep_quadratic:
        kept = prob.quadratic
    else:
        q = prob.quadratic.tocoo()
        diag = q.row == q.col
        bin_diag = diag & binary[q.row]
        np.add.at(linear, q.row[bin_diag], q.data[bin_diag])  # x² = x for binaries
        pair = ~diag & (binary[q.row] | binary[q.col])
        keep = ~(bin_diag | pair)
        kept = sp.csr_matrix((q.data[keep], (q.row[keep], q.col[keep])), shape=(n, n))
        terms.extend(
            (np.array([i, j]), c)
            for i, j, c in zip(
                q.row[pair].tolist(), q.col[pair].tolist(), q.data[pair].tolist(), strict=True
            )
        )
    for idx, coef in prob.higher_order.values():
        for row, c in zip(idx, coef.tolist(), strict=True):
            factors = np.unique(row)  # x·x = x for binaries
            if not binary[factors].all():
                bad = int(factors[~binary[factors]][0])
                raise UnsupportedError(
                    f"a product of {row.size} factors includes the non-binary variable "
                    f"{problem.flat_name(bad)}; exact solvers here linearise higher-order "
                    "products of binaries only. Rewrite it with binaries or use a QUBO "
                    "backend after encoding"
                )
            if factors.size == 1:
                linear[factors[0]] += c
            else:
                terms.append((factors, c))
    terms = _merge_duplicate_terms(terms)

    k = len(terms)
    z_lo, z_hi = np.zeros(k), np.zeros(k)
    rows: list[tuple[list[int], list[float], float, float]] = []  # (cols, coefs, lo, hi)
    z_linear = np.zeros(k)
    for t, (factors, c) in enumerate(terms):
        z = n + t
        z_linear[t] = c
        if binary[factors].all():
            z_hi[t] = 1.0
            rows.extend(([z, int(f)], [1.0, -1.0], -np.inf, 0.0) for f in factors)
            rows.append(
                ([z, *factors.tolist()], [1.0] + [-1.0] * factors.size, 1.0 - factors.size, np.inf)
            )
        else:  # one binary b, one bounded y
            b, y = (int(factors[0]), int(factors[1]))
            if not binary[b]:
                b, y = y, b
            L, U = float(lower[y]), float(upper[y])
            if not (np.isfinite(L) and np.isfinite(U)):
                raise UnsupportedError(
                    f"the product {problem.flat_name(b)}·{problem.flat_name(y)} needs finite "
                    f"bounds on {problem.flat_name(y)} to be linearised exactly; give it bounds"
                )
            z_lo[t], z_hi[t] = min(0.0, L), max(0.0, U)
            rows += [
                ([z, b], [1.0, -U], -np.inf, 0.0),  # z ≤ U b
                ([z, b], [1.0, -L], 0.0, np.inf),  # z ≥ L b
                ([z, y, b], [1.0, -1.0, -L], -np.inf, -L),  # z ≤ y − L(1 − b)
                ([z, y, b], [1.0, -1.0, -U], -U, np.inf),  # z ≥ y − U(1 − b)
            ]
    if k == 0:
        out = dataclasses.replace(
            prob, linear=linear, quadratic=kept, higher_order={}, metadata=dict(prob.metadata)
        )
        return Linearized(out, n, spin_mask, 0)

    N = n + k
    r = len(rows)
    indptr = np.concatenate([[0], np.cumsum([len(c) for c, _, _, _ in rows])])
    link = sp.csr_matrix(
        (
            np.concatenate([v for _, v, _, _ in rows]),
            np.concatenate([c for c, _, _, _ in rows]),
            indptr,
        ),
        shape=(r, N),
    )
    A = sp.vstack([sp.csr_matrix(prob.A, shape=(prob.num_constraints, N)), link], format="csr")
    if product_vtype == INTEGER:
        z_lo, z_hi = np.ceil(z_lo - _TOL), np.floor(z_hi + _TOL)
    out = Problem(
        var_arrays=[*prob.var_arrays, VarArray(PRODUCT_ARRAY, (k,), n, product_vtype)],
        lower=np.concatenate([lower, z_lo]),
        upper=np.concatenate([upper, z_hi]),
        vtype=np.concatenate([prob.vtype, np.full(k, product_vtype, dtype=np.int8)]),
        constant=prob.constant,
        linear=np.concatenate([linear, z_linear]),
        quadratic=_padded(kept, N),
        higher_order={},
        A=A,
        lo=np.concatenate([prob.lo, [lo for _, _, lo, _ in rows]]),
        hi=np.concatenate([prob.hi, [hi for _, _, _, hi in rows]]),
        constraint_groups=[
            *prob.constraint_groups,
            ConstraintGroup(LINK_GROUP, (r,), prob.num_constraints),
        ],
        sense=prob.sense,
        name=prob.name,
        metadata=dict(prob.metadata),
    )
    return Linearized(out, n, spin_mask, k)


def _padded(q: sp.spmatrix, size: int) -> sp.csr_matrix:
    c = sp.coo_matrix(q)
    return sp.csr_matrix((c.data, (c.row, c.col)), shape=(size, size))


def _merge_duplicate_terms(
    terms: list[tuple[np.ndarray, float]],
) -> list[tuple[np.ndarray, float]]:
    merged: dict[tuple[int, ...], float] = {}
    for factors, c in terms:
        key = tuple(sorted(int(f) for f in factors))
        merged[key] = merged.get(key, 0.0) + c
    return [(np.array(key), c) for key, c in merged.items() if c != 0.0]


# ---------------------------------------------------------------------- shared backend
@dataclasses.dataclass
class SolverOutcome:
    """What a solver run gives back, in the linearised problem's variable space."""

    status: str  # optimal | time_limit | feasible | infeasible | unbounded | no_solution
    samples: np.ndarray  # (k, N), best last or first — order does not matter
    bound: float | None
    solver_gap: float | None
    solver_seconds: float
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    build_seconds: float = 0.0  # building the solver's model (OMMX, adapter, CP-SAT proto)


class ExactSolverBackend(BaseBackend):
    """Shared steps of the MIP/CP backends: linearise, solve, map back (then the base class
    evaluates and assembles the Result)."""

    name = "mip"
    info = info_for("highs")
    default_time_limit = DEFAULT_TIME_LIMIT
    keep_quadratic = False
    product_vtype = CONTINUOUS
    needs_bounded_integers = False
    versioned: tuple[str, ...] = ()
    parameters = (
        Param("mip_gap", float, 0.0, "relative gap at which to stop", low=0.0, high=1.0),
        Param("keep", int, 32, "solutions kept from the solver's pool", low=1, high=10**6),
        Param("verbose", bool, False, "show the solver's log"),
    )

    def variable_limit(self) -> int | None:
        return None

    def run(
        self, problem: Problem, *, time_limit: float, seed: int | None, options: dict[str, Any]
    ) -> RunOutput:
        """Linearise, solve to proven optimality (relative gap ``mip_gap``) or the limit.

        Example:
            >>> import kakehashi
            >>> r = kakehashi.solve(kakehashi.examples.knapsack(10), backend="highs")
            >>> r.info["status"], r.feasible
            ('optimal', True)
        """
        t0 = time.perf_counter()
        options = dict(options)
        mip_gap = float(options.pop("mip_gap", 0.0))
        self.check_problem(problem)
        lin = linearize(
            problem, keep_quadratic=self.keep_quadratic, product_vtype=self.product_vtype
        )
        self.check_linearized(lin, problem)
        compile_seconds = time.perf_counter() - t0
        # only when someone follows the run (an executor, the job service)
        live = Incumbents(problem, lin, t0, time_limit) if progress.listening() else None
        outcome = self.run_solver(
            lin.problem,
            time_limit=time_limit,
            deadline=t0 + time_limit,
            seed=0 if seed is None else int(seed),
            mip_gap=mip_gap,
            options=options,
            on_incumbent=live,
        )
        t1 = time.perf_counter()
        X = lin.restore(outcome.samples) if outcome.samples.size else outcome.samples[:, :0]
        info: dict[str, Any] = {
            "status": outcome.status,
            "bound": outcome.bound,
            "solver_gap": outcome.solver_gap,
            "linearized_products": lin.num_products,
            "time_limit": time_limit,
            **outcome.extra,
        }
        return RunOutput(
            samples=X.reshape(-1, problem.num_variables),
            compile_seconds=compile_seconds + outcome.build_seconds,
            solve_seconds=outcome.solver_seconds,
            decode_seconds=time.perf_counter() - t1,
            vendor_timing={"solver_seconds": outcome.solver_seconds},
            info=info,
            status=outcome.status,
        )

    def finish(self, result: Result, output: RunOutput) -> None:
        """The gap of the best answer against the solver's proven bound."""
        info = result.info
        if result.num_samples:
            info["gap"] = relative_gap(result.objective, info.get("bound"))
            if not result.feasible:  # solver tolerance vs ours: say so, never hide it
                info["note"] = "the solver's answer violates a constraint beyond 1e-6"
        else:
            info["gap"] = None

    # hooks -------------------------------------------------------------------------
    def check_problem(self, problem: Problem) -> None:
        """Refuse what the solver cannot take, before any work."""

    def check_linearized(self, lin: Linearized, problem: Problem) -> None:
        """Refuse products the solver cannot take after linearisation."""

    def run_solver(
        self,
        problem: Problem,
        *,
        time_limit: float,
        deadline: float,
        seed: int,
        mip_gap: float,
        options: dict[str, Any],
        on_incumbent: Incumbents | None = None,
    ) -> SolverOutcome:
        """Build the solver's model, solve until ``deadline`` (perf_counter seconds);
        tell ``on_incumbent`` (when given) each improving solution as the solver finds it."""
        raise NotImplementedError


class Incumbents:
    """Reports a solver's improving solutions, from its callback, as the run's best so far
    (:func:`kakehashi.progress.report`), in the original problem's objective and sense."""

    def __init__(self, problem: Problem, lin: Linearized, start: float, budget: float) -> None:
        self.problem, self.lin, self.start, self.budget = problem, lin, start, budget
        self.best: float | None = None

    def row(self, values: Any) -> None:
        """An incumbent as values of the linearised problem's variables: evaluated against
        the original problem like every sample of the Result."""
        ev = self.problem.evaluate(self.lin.restore(np.asarray(values, dtype=np.float64)))
        if bool(ev["feasible"][0]):
            self.value(float(ev["objective"][0]))

    def value(self, objective: float) -> None:
        """An incumbent's objective (the solver's own figure for the problem it was given,
        which linearisation leaves equal to the original's)."""
        best, minimise = self.best, self.problem.sense == "min"
        if best is not None and (objective >= best if minimise else objective <= best):
            return
        self.best = objective
        elapsed = time.perf_counter() - self.start
        progress.report(objective=objective, feasible=True, elapsed=elapsed, budget=self.budget)


def relative_gap(objective: float, bound: float | None) -> float | None:
    """``|objective − bound| / |objective|`` (0 when they agree to 1e-9; inf when the
    objective is 0 and the bound is not), the convention of HiGHS and Gurobi.

    Example:
        >>> relative_gap(100.0, 90.0)
        0.1
    """
    if bound is None or not np.isfinite(bound):
        return None
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / abs(objective) if objective != 0 else math.inf


def _solver_seconds(deadline: float, time_limit: float) -> float:
    """What is left of the time limit once the model is built (building counts against
    it), never less than 5 % of it so that a slow build still leaves the solver a try."""
    return max(deadline - time.perf_counter(), 0.05 * time_limit)


def _fill_values(entries: dict[int, float], problem: Problem) -> np.ndarray:
    """A full solution vector from a solver's ``{id: value}``; variables the solver never
    saw (in no term and no row) take the feasible value nearest zero."""
    x = np.clip(0.0, problem.lower, problem.upper)
    discrete = problem.vtype != CONTINUOUS
    x[discrete] = np.clip(
        np.round(x[discrete]), np.ceil(problem.lower[discrete]), np.floor(problem.upper[discrete])
    )
    if entries:
        ids = np.fromiter(entries.keys(), dtype=np.int64, count=len(entries))
        x[ids] = np.fromiter(entries.values(), dtype=np.float64, count=len(entries))
    return x


def _thread_option(options: dict[str, Any], default: int) -> int:
    value = options.get("threads", options.get("num_workers", default))
    if not isinstance(value, int) or value < 1:
        raise UnsupportedError(f"threads must be a positive integer, got {value!r}")
    return value


# ---------------------------------------------------------------------- HiGHS
@register("highs")
class HighsBackend(ExactSolverBackend):
    """HiGHS through ``ommx-highs-adapter``: linear objectives, products linearised.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.small_maxcut(), backend="highs")
        >>> r.objective, r.info["status"], r.info["gap"]
        (-5.0, 'optimal', 0.0)
    """

    name = "highs"
    info = info_for("highs")
    versioned = ("highspy", "ommx-highs-adapter")
    warm_up_modules = ("highspy", "ommx_highs_adapter", "kakehashi.model.ommx_io")
    parameters = merged(
        ExactSolverBackend.parameters,
        (Param("threads", int, None, "HiGHS threads", low=1, high=4096),),
    )

    def check(self, problem: Problem) -> Applicability:
        """The catalog's check plus HiGHS's own limit: a linear objective, so products of
        two non-binary variables (no exact linearisation) are refused here, before any
        work, rather than after linearising."""
        report = super().check(problem)
        q = problem.quadratic.tocoo()
        binary = (problem.vtype == BINARY) | (problem.vtype == SPIN)
        both = np.flatnonzero(~binary[q.row] & ~binary[q.col])
        if both.size:
            i, j = int(q.row[both[0]]), int(q.col[both[0]])
            what = (
                f"{problem.flat_name(i)}²"
                if i == j
                else (f"{problem.flat_name(i)}·{problem.flat_name(j)}")
            )
            report.ok = False
            report.reasons.append(
                f"it takes linear objectives and {what} multiplies non-binary variables "
                "(no exact linearisation; use 'scip' or 'cpsat')"
            )
        return report

    def check_linearized(self, lin: Linearized, problem: Problem) -> None:
        q = lin.problem.quadratic.tocoo()
        if q.nnz:
            i, j = int(q.row[0]), int(q.col[0])
            what = (
                f"{problem.flat_name(i)}²"
                if i == j
                else f"{problem.flat_name(i)}·{problem.flat_name(j)}"
            )
            raise UnsupportedError(
                f"'highs' takes linear objectives; the term {what} multiplies non-binary "
                "variables and has no exact linearisation. Use 'scip' (quadratic terms "
                "natively) or 'cpsat' (integer products)"
            )

    def run_solver(
        self, problem, *, time_limit, deadline, seed, mip_gap, options, on_incumbent=None
    ) -> SolverOutcome:
        t_build = time.perf_counter()
        import highspy
        from ommx.adapter import InfeasibleDetected, UnboundedDetected
        from ommx_highs_adapter import OMMXHighsAdapter, OMMXHighsAdapterError

        from kakehashi.model.ommx_io import to_ommx

        silence_highs_banner()
        try:
            adapter = _bulk_rows_adapter(OMMXHighsAdapter)(
                to_ommx(problem), verbose=bool(options.get("verbose"))
            )
        except OMMXHighsAdapterError as exc:
            raise UnsupportedError(f"HiGHS cannot take this problem: {exc}") from None
        model = adapter.solver_input
        model.setOptionValue("time_limit", _solver_seconds(deadline, time_limit))
        model.setOptionValue("random_seed", int(seed) % 2**31)
        model.setOptionValue("mip_rel_gap", float(mip_gap))
        if "threads" in options:
            model.setOptionValue("threads", _thread_option(options, 1))
        # HiGHS's clock when each improving solution was found: the time to the best answer
        incumbents: list[float] = []

        def improving(event: Any) -> None:
            incumbents.append(float(event.data_out.running_time))
            if on_incumbent is not None:
                on_incumbent.value(float(event.data_out.objective_function_value))

        model.cbMipImprovingSolution.subscribe(improving)
        build = time.perf_counter() - t_build
        t = time.perf_counter()
        model.run()
        seconds = time.perf_counter() - t
        S = highspy.HighsModelStatus
        code = model.getModelStatus()
        status = {
            S.kOptimal: "optimal",
            S.kTimeLimit: "time_limit",
            S.kInfeasible: "infeasible",
            S.kUnbounded: "unbounded",
            S.kUnboundedOrInfeasible: "unbounded",
            S.kModelEmpty: "optimal",
        }.get(code, "stopped")
        hinfo = model.getInfo()
        has_solution = hinfo.primal_solution_status == 2  # kSolutionStatusFeasible
        extra = {
            "solver": "HiGHS",
            "solver_status": model.modelStatusToString(code),
            "nodes": int(hinfo.mip_node_count) if hinfo.mip_node_count >= 0 else None,
            "incumbent_seconds": incumbents,
        }
        integer = bool(np.any(problem.vtype != CONTINUOUS))
        samples = np.zeros((0, problem.num_variables))
        if has_solution and status not in ("infeasible", "unbounded"):
            try:
                state = adapter.decode_to_state(model)
            except (InfeasibleDetected, UnboundedDetected, OMMXHighsAdapterError):
                state = None
            if state is not None:
                samples = _fill_values(dict(state.entries), problem)[None, :]
        elif status == "time_limit":
            status = "no_solution"
        if integer:
            bound = float(hinfo.mip_dual_bound)
            gap = float(hinfo.mip_gap) if np.isfinite(hinfo.mip_gap) else None
        else:  # an LP: at optimality the dual objective equals the primal one
            bound = float(hinfo.objective_function_value) if status == "optimal" else None
            gap = 0.0 if status == "optimal" else None
        if bound is not None and not np.isfinite(bound):
            bound = None
        return SolverOutcome(status, samples, bound, gap, seconds, extra, build)


def _bulk_rows_adapter(base: type) -> type:
    """``OMMXHighsAdapter`` with its constraint rows added in one ``addRows`` call.

    The stock adapter builds a highspy expression object per row (measured: 6 s for the
    9,267 rows of a linearised 250-variable QUBO); reading the same OMMX constraints and
    passing them as one CSR block takes a fraction of that. Rows keep the adapter's order
    (constraint order, constant rows checked and skipped) so its decoding is unchanged.
    """
    import highspy
    from ommx.v1 import Constraint
    from ommx_highs_adapter import OMMXHighsAdapterError

    class BulkRowsHighsAdapter(base):
        def _set_constraints(self) -> None:
            column = {var_id: v.index for var_id, v in self.highs_vars.items()}
            lower, upper, starts, indices, values = [], [], [], [], []
            for constr in self.instance.constraints:
                fn = constr.function
                if fn.degree() >= 2:
                    raise OMMXHighsAdapterError("HiGHS Adapter currently only supports linear")
                terms = fn.linear_terms
                const = fn.constant_term
                eq = constr.equality == Constraint.EQUAL_TO_ZERO
                if not eq and constr.equality != Constraint.LESS_THAN_OR_EQUAL_TO_ZERO:
                    raise OMMXHighsAdapterError(f"unsupported equality {constr.equality}")
                if not terms:
                    if (abs(const) > 1e-10) if eq else (const > 1e-10):
                        raise OMMXHighsAdapterError("Infeasible constant constraint")
                    continue
                starts.append(len(indices))
                indices.extend(column[i] for i in terms)
                values.extend(terms.values())
                lower.append(-const if eq else -highspy.kHighsInf)
                upper.append(-const)
            if not lower:
                return
            status = self.model.addRows(
                len(lower),
                np.asarray(lower, dtype=np.float64),
                np.asarray(upper, dtype=np.float64),
                len(indices),
                np.asarray(starts, dtype=np.int32),
                np.asarray(indices, dtype=np.int32),
                np.asarray(values, dtype=np.float64),
            )
            if status != highspy.HighsStatus.kOk:
                raise OMMXHighsAdapterError(f"HiGHS refused the constraint rows: {status}")

    return BulkRowsHighsAdapter


_HIGHS_BANNER_SHOWN = False


def silence_highs_banner() -> None:
    """Make the process's first HiGHS solver object with file descriptor 1 pointed at
    /dev/null: HiGHS prints a banner to the C-level stdout the first time, which would
    corrupt `kakehashi solve --json` (and `apps run --json`) output. Call it before making a
    ``highspy.Highs()`` of your own; later calls do nothing.

    Example:
        >>> silence_highs_banner()  # doctest: +SKIP
        >>> import highspy; h = highspy.Highs()  # doctest: +SKIP
    """
    global _HIGHS_BANNER_SHOWN
    if _HIGHS_BANNER_SHOWN:
        return
    import sys

    import highspy

    _HIGHS_BANNER_SHOWN = True
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (embedded interpreter): nothing to corrupt
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


# ---------------------------------------------------------------------- SCIP
@register("scip")
class ScipBackend(ExactSolverBackend):
    """SCIP through ``ommx-pyscipopt-adapter``: quadratic objectives kept (spatial
    branch-and-bound), higher-order binary products linearised; its solution pool kept.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.knapsack(10), backend="scip")
        >>> r.info["status"], r.info["gap"]
        ('optimal', 0.0)
    """

    name = "scip"
    info = info_for("scip")
    keep_quadratic = True
    versioned = ("PySCIPOpt", "ommx-pyscipopt-adapter")
    warm_up_modules = ("pyscipopt", "ommx_pyscipopt_adapter", "kakehashi.model.ommx_io")

    def run_solver(
        self, problem, *, time_limit, deadline, seed, mip_gap, options, on_incumbent=None
    ) -> SolverOutcome:
        t_build = time.perf_counter()
        from ommx_pyscipopt_adapter import OMMXPySCIPOptAdapter, OMMXPySCIPOptAdapterError

        from kakehashi.model.ommx_io import to_ommx

        try:
            adapter = OMMXPySCIPOptAdapter(to_ommx(problem))
        except OMMXPySCIPOptAdapterError as exc:
            raise UnsupportedError(f"SCIP cannot take this problem: {exc}") from None
        model = adapter.solver_input
        if options.get("verbose"):
            model.hideOutput(False)
        model.setParam("limits/time", _solver_seconds(deadline, time_limit))
        model.setParam("limits/gap", float(mip_gap))
        model.setParam("randomization/randomseedshift", int(seed) % 2**31)
        if on_incumbent is not None:
            _report_scip_incumbents(model, on_incumbent)
        build = time.perf_counter() - t_build
        t = time.perf_counter()
        model.optimize()
        seconds = time.perf_counter() - t
        raw = model.getStatus()
        status = {
            "optimal": "optimal",
            "gaplimit": "optimal" if mip_gap > 0 else "feasible",
            "timelimit": "time_limit",
            "infeasible": "infeasible",
            "unbounded": "unbounded",
            "inforunbd": "unbounded",
        }.get(raw, raw)
        keep = int(options.get("keep", 32))
        # the pool, best first; values read by the variables' names (their OMMX ids)
        by_id = {int(v.name): v for v in model.getVars() if v.name.isdigit()}
        rows = []
        for sol in model.getSols()[:keep]:
            entries = {i: model.getSolVal(sol, v) for i, v in by_id.items()}
            rows.append(_fill_values(entries, problem))
        if not rows and status == "time_limit":
            status = "no_solution"
        samples = np.array(rows) if rows else np.zeros((0, problem.num_variables))
        bound = float(model.getDualbound()) if rows or status == "optimal" else None
        if bound is not None and not np.isfinite(bound):
            bound = None
        gap = float(model.getGap()) if rows else None
        extra = {
            "solver": "SCIP",
            "solver_status": raw,
            "nodes": int(model.getNNodes()),
            "solutions_found": int(model.getNSols()),
            # SCIP's clock when the best solution was found (the time to the best answer)
            "incumbent_seconds": [float(model.getSolTime(model.getBestSol()))] if rows else [],
        }
        return SolverOutcome(status, samples, bound, gap, seconds, extra, build)


def _report_scip_incumbents(model: Any, live: Incumbents) -> None:
    """An event handler telling ``live`` each new best solution SCIP finds (its objective
    in the problem's own sense, offset included)."""
    from pyscipopt import SCIP_EVENTTYPE, Eventhdlr

    class BestFound(Eventhdlr):
        def eventinit(self) -> None:
            self.model.catchEvent(SCIP_EVENTTYPE.BESTSOLFOUND, self)

        def eventexit(self) -> None:
            self.model.dropEvent(SCIP_EVENTTYPE.BESTSOLFOUND, self)

        def eventexec(self, event: Any) -> None:
            live.value(float(self.model.getSolObjVal(self.model.getBestSol())))

    model.includeEventhdlr(BestFound(), "kakehashi-best", "reports improving solutions")


# ---------------------------------------------------------------------- CP-SAT
@register("cpsat")
class CpSatBackend(ExactSolverBackend):
    """OR-Tools CP-SAT, built from the Problem's arrays: binary/integer variables,
    coefficients scaled to integers exactly, products with a binary factor linearised and
    products of integers as multiplication constraints; improving solutions kept.

    Example:
        >>> import kakehashi
        >>> r = kakehashi.solve(kakehashi.examples.random_assignment(4), backend="cpsat")
        >>> r.info["status"], r.feasible
        ('optimal', True)
    """

    name = "cpsat"
    info = info_for("cpsat")
    product_vtype = INTEGER
    versioned = ("ortools",)
    warm_up_modules = ("ortools.sat.python.cp_model",)
    reproducible_options: ClassVar[dict[str, Any]] = {"threads": 1}  # parallel workers race
    needs_bounded_integers = True  # CP-SAT works in int64: every variable needs bounds
    parameters = merged(
        ExactSolverBackend.parameters,
        (
            Param("threads", int, None, "CP-SAT workers (default: all cores)", low=1, high=4096),
            Param("num_workers", int, None, "the same as threads (CP-SAT's name)",
                  low=1, high=4096),
        ),
    )  # fmt: skip

    def check_problem(self, problem: Problem) -> None:
        cont = np.flatnonzero(problem.vtype == CONTINUOUS)
        if cont.size:
            raise UnsupportedError(
                f"'cpsat' takes binary and integer variables only; "
                f"{problem.flat_name(int(cont[0]))} is continuous. Use 'highs' or 'scip'"
            )

    def run_solver(
        self, problem, *, time_limit, deadline, seed, mip_gap, options, on_incumbent=None
    ) -> SolverOutcome:
        t_build = time.perf_counter()
        from ortools.sat.python import cp_model

        n = problem.num_variables
        lo = np.ceil(problem.lower - _TOL).astype(np.int64)
        hi = np.floor(problem.upper + _TOL).astype(np.int64)
        model = cp_model.CpModel()
        xs = [
            model.new_int_var(int(a), int(b), f"x{i}")
            for i, (a, b) in enumerate(zip(lo, hi, strict=True))
        ]

        _add_scaled_rows(model, problem, lo, hi)

        # objective: linear part plus products of integers (one scale for all)
        q = problem.quadratic.tocoo()
        lin_idx = np.flatnonzero(problem.linear)
        all_coefs = np.concatenate([problem.linear[lin_idx], q.data])
        scale = integer_scale(all_coefs, what="the objective") if all_coefs.size else 1
        obj_vars = [xs[i] for i in lin_idx]
        obj_coefs = np.round(problem.linear[lin_idx] * scale).astype(np.int64).tolist()
        for i, j, c in zip(q.row.tolist(), q.col.tolist(), q.data.tolist(), strict=True):
            corners = [lo[i] * lo[j], lo[i] * hi[j], hi[i] * lo[j], hi[i] * hi[j]]
            if i == j:
                corners.append(0)  # x² reaches 0 when the range straddles it
            z = model.new_int_var(int(min(corners)), int(max(corners)), f"p{i}_{j}")
            model.add_multiplication_equality(z, [xs[i], xs[j]])
            obj_vars.append(z)
            obj_coefs.append(round(c * scale))
        if obj_vars:
            # objective activity bound, for int64 safety (products use their own ranges)
            _check_range(
                np.asarray(obj_coefs[: lin_idx.size], dtype=np.int64),
                lo[lin_idx],
                hi[lin_idx],
                "the objective",
            )
            expr = cp_model.LinearExpr.weighted_sum(obj_vars, obj_coefs)
            model.minimize(expr) if problem.sense == "min" else model.maximize(expr)

        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = _solver_seconds(deadline, time_limit)
        solver.parameters.random_seed = int(seed) % 2**31
        solver.parameters.num_workers = _thread_option(options, os.cpu_count() or 1)
        solver.parameters.relative_gap_limit = float(mip_gap)
        solver.parameters.log_search_progress = bool(options.get("verbose"))
        collector = _SolutionCollector(xs, int(options.get("keep", 32)), on_incumbent)
        build = time.perf_counter() - t_build
        t = time.perf_counter()
        code = solver.solve(model, collector)
        seconds = time.perf_counter() - t
        status = {
            cp_model.OPTIMAL: "optimal",
            cp_model.FEASIBLE: "time_limit",
            cp_model.INFEASIBLE: "infeasible",
            cp_model.UNKNOWN: "no_solution",
        }.get(code, solver.status_name(code).lower())
        if code == cp_model.MODEL_INVALID:
            raise BackendError(
                f"CP-SAT rejected the model it was given: {model.validate()}; please report "
                "this as a kakehashi bug with the problem attached"
            )
        samples = np.array(collector.rows, dtype=np.float64).reshape(-1, n)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) and samples.shape[0] == 0:
            samples = np.array([[solver.value(x) for x in xs]], dtype=np.float64)
        bound = None
        if obj_vars and code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            bound = float(solver.best_objective_bound) / scale + problem.constant
        elif not obj_vars and samples.shape[0]:
            bound = problem.constant
        extra = {
            "solver": "OR-Tools CP-SAT",
            "solver_status": solver.status_name(code),
            "objective_scale": scale,
            "branches": int(solver.num_branches),
            "conflicts": int(solver.num_conflicts),
            "incumbent_seconds": collector.times,
        }
        return SolverOutcome(status, samples, bound, None, seconds, extra, build)


def _add_scaled_rows(model: Any, problem: Problem, lo: np.ndarray, hi: np.ndarray) -> None:
    """Every row ``lo ≤ a·x ≤ hi``, scaled to integers on its own, written straight into the
    CP-SAT model proto (six times faster than building expressions row by row)."""
    A = problem.A.tocsr()
    m = A.shape[0]
    if m == 0:
        return
    counts = np.diff(A.indptr)
    row_of = np.repeat(np.arange(m), counts)
    scales = np.ones(m, dtype=np.float64)
    fractional = np.abs(A.data - np.round(A.data)) > 1e-9
    for r in np.unique(row_of[fractional]).tolist():
        vals = A.data[A.indptr[r] : A.indptr[r + 1]]
        scales[r] = integer_scale(vals, what=lambda r=r: f"constraint {problem.constraint_name(r)}")
    coefs = np.round(A.data * scales[row_of]).astype(np.int64)
    reach = np.abs(coefs) * np.maximum(np.abs(lo), np.abs(hi))[A.indices].astype(np.float64)
    too_big = np.flatnonzero(np.bincount(row_of, weights=reach, minlength=m) >= _INT_LIMIT)
    if too_big.size:
        r = int(too_big[0])
        raise UnsupportedError(
            f"'cpsat' works in 64-bit integers and constraint {problem.constraint_name(r)}, "
            "scaled to integers, can overflow them; tighten the variable bounds or use "
            "'highs' or 'scip'"
        )
    with np.errstate(invalid="ignore"):
        lb = np.where(np.isfinite(problem.lo), np.ceil(problem.lo * scales - 1e-6), -_INT_LIMIT)
        ub = np.where(np.isfinite(problem.hi), np.floor(problem.hi * scales + 1e-6), _INT_LIMIT)
    lb = np.clip(lb, -_INT_LIMIT, _INT_LIMIT).astype(np.int64).tolist()
    ub = np.clip(ub, -_INT_LIMIT, _INT_LIMIT).astype(np.int64).tolist()
    indices, coef_list, indptr = A.indices.tolist(), coefs.tolist(), A.indptr.tolist()
    constraints = model.proto.constraints
    for r in range(m):
        a, b = indptr[r], indptr[r + 1]
        if a == b:
            continue  # an empty row holds or not by its bounds alone; validate() checked them
        ct = constraints.add()
        ct.linear.vars.extend(indices[a:b])  # variable r was created r-th: its index is r
        ct.linear.coeffs.extend(coef_list[a:b])
        ct.linear.domain.extend([lb[r], ub[r]])


def _SolutionCollector(xs: list[Any], keep: int, live: Incumbents | None = None) -> Any:
    """A CP-SAT callback keeping the last ``keep`` solutions (each better than the last),
    each also told to ``live`` when given."""
    from ortools.sat.python import cp_model

    class Collector(cp_model.CpSolverSolutionCallback):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[int]] = []
            self.times: list[float] = []  # solver wall clock of each improving solution

        def on_solution_callback(self) -> None:
            self.rows.append([self.value(x) for x in xs])
            self.times.append(float(self.wall_time))
            if live is not None:
                live.row(self.rows[-1])
            if len(self.rows) > max(1, keep):
                del self.rows[0]

    return Collector()


def integer_scale(values: np.ndarray, *, what: str | Callable[[], str]) -> int:
    """The smallest power of ten — else the least common denominator — that makes every
    value integral (to 1e-9 relative), at most :data:`MAX_SCALE`.

    Example:
        >>> integer_scale(np.array([0.5, 1.25, 3.0]), what="row")
        100
        >>> integer_scale(np.array([1 / 3, 2.0]), what="row")
        3
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[v != 0]
    if v.size == 0:
        return 1
    scale = 1
    while scale <= MAX_SCALE:
        s = v * scale
        if _integral(s):
            return scale
        scale *= 10
    lcm = 1
    for value in np.unique(v).tolist():
        den = Fraction(value).limit_denominator(10**6).denominator
        lcm = lcm * den // math.gcd(lcm, den)
        if lcm > MAX_SCALE:
            break
    s = v * lcm
    if lcm <= MAX_SCALE and _integral(s):
        return lcm
    bad = v[np.argmax(np.abs(v * 10**6 - np.round(v * 10**6)))]
    what = what() if callable(what) else what
    raise UnsupportedError(
        f"'cpsat' needs integer coefficients; {what} has coefficient {float(bad)!r}, which "
        f"no scale up to {MAX_SCALE:.0e} makes integral. Round the data (e.g. to 6 "
        "decimals) or use 'highs' or 'scip'"
    )


def _integral(scaled: np.ndarray) -> bool:
    # absolute 1e-6 on the scaled values (floats such as 0.1 · 10 = 1.0000000000000002),
    # relative 1e-12 for large ones: tight enough that 1/3 · 10^9 is not "integral"
    err = np.abs(scaled - np.round(scaled))
    return bool(np.all(err <= np.maximum(1e-6, 1e-12 * np.abs(scaled))))


def _check_range(coefs: np.ndarray, lo: np.ndarray, hi: np.ndarray, what: str) -> None:
    reach = np.abs(coefs).astype(np.float64) * np.maximum(np.abs(lo), np.abs(hi))
    if float(reach.sum()) >= _INT_LIMIT:
        raise UnsupportedError(
            f"'cpsat' works in 64-bit integers and {what}, scaled to integers, can reach "
            f"{reach.sum():.3g}; tighten the variable bounds or use 'highs' or 'scip'"
        )
