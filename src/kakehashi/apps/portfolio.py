"""Portfolio selection with cardinality and budget (Markowitz mean–variance).

An investor splits a budget into ``num_lots`` equal lots and buys whole lots of at most
``max_assets`` different assets, each between ``min_lots`` and ``max_lots`` lots when held,
spending the whole budget. The weights are ``w = lots / num_lots``; minimise
``risk_aversion · wᵀΣw − μᵀw`` (risk minus expected return).

The model chooses one holding level per asset: a one-hot binary ``choice[i, k]`` ("asset i
holds k lots", ``k = 0`` meaning not held), so ``lots = choice @ [0, 1, …, U]``. Levels
outside ``{0} ∪ [min_lots, max_lots]`` are fixed to 0; the budget is an equality on
``lots``; the cardinality limit says at least ``N − max_assets`` assets choose level 0. There
are no indicator-linking inequalities, so the only slack bits are the cardinality row's.
Measured with simulated annealing, this one-hot form gave feasible samples far more often
than bounded integers linked to ``held`` indicators (see docs/apps/portfolio.md).

The baseline is SCIP solving the mixed-integer quadratic programme (MIQP) directly, with
the risk term as a convex quadratic constraint on an epigraph variable. Instances can be
read from the OR-Library portfolio files of Chang, Meade, Beasley and Sharaiha (2000)
(``port1.txt`` … ``port5.txt``: assets, mean and standard deviation of returns, then
pairwise correlations).

Example:
    >>> from kakehashi.apps import get_use_case
    >>> pf = get_use_case("portfolio")
    >>> data = pf.generate(6, seed=0)
    >>> ref = pf.baseline(data, time_limit=10)
    >>> pf.validate(ref.answer, data).valid
    True
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from kakehashi.apps.base import (
    Answer,
    AppDataError,
    BaselineResult,
    UseCase,
    Validation,
    register,
)
from kakehashi.model.problem import Problem
from kakehashi.result import Result

__all__ = ["Portfolio", "PortfolioData", "PortfolioSelection", "read_orlib_portfolio"]

SECTORS = ("tech", "health", "finance", "energy", "consumer", "industrial")


@dataclasses.dataclass
class PortfolioData:
    """A cardinality- and budget-constrained mean–variance instance with ``N`` assets.

    Attributes:
        assets: asset names (N).
        expected_return: (N,) expected return per period.
        covariance: (N, N) covariance of returns (symmetric positive semidefinite).
        num_lots: the budget in equal lots; all of it is invested.
        max_assets: most assets held at once (the cardinality limit).
        max_lots: (N,) or scalar, most lots of one asset (concentration limit).
        min_lots: (N,) or scalar, fewest lots of an asset that is held (minimum buy-in).
        risk_aversion: weight ``λ`` of the variance against the expected return.
    """

    assets: list[str]
    expected_return: np.ndarray
    covariance: np.ndarray
    num_lots: int
    max_assets: int
    max_lots: Any = None
    min_lots: Any = 1
    risk_aversion: float = 1.0

    def __post_init__(self) -> None:
        self.assets = [str(a) for a in self.assets]
        N = len(self.assets)
        if N == 0:
            raise AppDataError("a portfolio needs at least one asset")
        self.expected_return = np.asarray(self.expected_return, dtype=np.float64).reshape(-1)
        self.covariance = np.asarray(self.covariance, dtype=np.float64)
        if self.expected_return.size != N or self.covariance.shape != (N, N):
            raise AppDataError(
                f"expected_return must have {N} entries and covariance shape {(N, N)}; got "
                f"{self.expected_return.size} and {self.covariance.shape}"
            )
        if not (np.all(np.isfinite(self.expected_return)) and np.all(np.isfinite(self.covariance))):
            raise AppDataError("expected_return and covariance must be finite")
        if not np.allclose(self.covariance, self.covariance.T, atol=1e-10):
            raise AppDataError("covariance must be symmetric")
        if np.linalg.eigvalsh(self.covariance).min() < -1e-8 * max(1.0, abs(self.covariance).max()):
            raise AppDataError(
                "covariance is not positive semidefinite; estimate it from returns, or "
                "shrink it towards its diagonal"
            )
        self.num_lots = int(self.num_lots)
        self.max_assets = int(self.max_assets)
        if self.num_lots < 1 or self.max_assets < 1:
            raise AppDataError("num_lots and max_assets must be at least 1")
        self.max_lots = _lots(
            self.num_lots if self.max_lots is None else self.max_lots, N, "max_lots"
        )
        self.min_lots = _lots(self.min_lots, N, "min_lots")
        if np.any(self.min_lots < 1) or np.any(self.min_lots > self.max_lots):
            raise AppDataError("each asset needs 1 <= min_lots <= max_lots")
        self.risk_aversion = float(self.risk_aversion)
        if not self.risk_aversion >= 0:
            raise AppDataError("risk_aversion must be non-negative")
        most = np.sort(np.minimum(self.max_lots, self.num_lots))[::-1][: self.max_assets].sum()
        if most < self.num_lots or self.min_lots.min() > self.num_lots:
            raise AppDataError(
                f"the budget of {self.num_lots} lots cannot be invested in at most "
                f"{self.max_assets} assets with these lot limits; raise max_assets or max_lots"
            )

    @property
    def num_assets(self) -> int:
        return len(self.assets)


@dataclasses.dataclass
class Portfolio(Answer):
    """Lots bought per asset; ``objective`` is ``λ·variance − expected return``."""

    lots: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    assets: list[str] = dataclasses.field(default_factory=list)
    expected_return: float = 0.0
    variance: float = 0.0

    @property
    def weights(self) -> np.ndarray:
        total = self.lots.sum()
        return self.lots / total if total else self.lots.astype(float)

    def holdings(self) -> dict[str, int]:
        return {a: int(n) for a, n in zip(self.assets, self.lots, strict=True) if n}

    def describe(self, max_items: int = 40) -> str:
        held = ", ".join(f"{a}:{n}" for a, n in list(self.holdings().items())[:max_items])
        return (
            f"lots {{{held}}}  return {self.expected_return:.4g}  "
            f"risk (sd) {np.sqrt(max(self.variance, 0.0)):.4g}"
        )


def portfolio_scores(lots: np.ndarray, data: PortfolioData) -> tuple[float, float, float]:
    """``(objective, expected return, variance)`` of a portfolio given in lots."""
    w = np.asarray(lots, dtype=np.float64) / data.num_lots
    ret = float(data.expected_return @ w)
    var = float(w @ data.covariance @ w)
    return data.risk_aversion * var - ret, ret, var


def holding_levels(data: PortfolioData) -> np.ndarray:
    """The lots an asset may hold, ``0 … max(max_lots)`` (per-asset limits are constraints)."""
    return np.arange(int(data.max_lots.max()) + 1, dtype=np.int64)


def _portfolio(lots: np.ndarray, data: PortfolioData) -> Portfolio:
    obj, ret, var = portfolio_scores(lots, data)
    return Portfolio(obj, np.asarray(lots), list(data.assets), ret, var)


# ---------------------------------------------------------------------- the use case
@register
class PortfolioSelection(UseCase):
    """Mean–variance portfolio with a cardinality limit, whole lots and a full budget.

    Example:
        >>> from kakehashi.apps.portfolio import PortfolioSelection
        >>> data = PortfolioSelection().generate(5, seed=2)
        >>> PortfolioSelection().build(data).var_arrays[0].shape  # 5 assets x levels 0..5
        (5, 6)
    """

    name = "portfolio"
    title = "Portfolio selection with cardinality and budget"
    domain = "finance"
    data_type = PortfolioData
    sense = "min"
    baseline_tool = "SCIP MIQP"
    size_meaning = "assets"
    max_size = 1_000
    # OR-Library files are plain ``.txt`` (as are Gset graphs): read them by path, not by a
    # shipped-instance suffix that would claim other use cases' files
    file_suffixes = ()

    def generate(
        self,
        size: int,
        seed: int | None = None,
        *,
        num_lots: int = 10,
        max_assets: int | None = None,
        risk_aversion: float = 2.0,
    ) -> PortfolioData:
        """``size`` stocks from a one-market, six-sector factor model of annual returns
        (market premium 6%, betas 0.6–1.4, sector and idiosyncratic volatility), a budget
        of ``num_lots`` lots, at most ``max_assets`` (default ``max(2, size // 3)``)
        holdings of at most 40% each.

        Example:
            >>> d = PortfolioSelection().generate(8, seed=1)
            >>> d.covariance.shape, d.max_assets
            ((8, 8), 2)
        """
        if size < 1:
            raise AppDataError(f"portfolio needs at least one asset, got size={size}")
        rng = np.random.default_rng(seed)
        N = int(size)
        sector = rng.integers(0, len(SECTORS), N)
        beta = rng.uniform(0.6, 1.4, N)
        market_vol, sector_vol = 0.16, rng.uniform(0.05, 0.12, len(SECTORS))
        idio = rng.uniform(0.10, 0.35, N)
        exposure = np.zeros((N, 1 + len(SECTORS)))
        exposure[:, 0] = beta
        exposure[np.arange(N), 1 + sector] = 1.0
        factor_var = np.diag(np.concatenate([[market_vol**2], sector_vol**2]))
        covariance = exposure @ factor_var @ exposure.T + np.diag(idio**2)
        # CAPM-like expected returns plus a little alpha: riskier is not always better
        expected = 0.02 + 0.06 * beta + rng.normal(0.0, 0.02, N)
        if max_assets is None:
            max_assets = max(2, N // 3)
        max_assets = min(int(max_assets), N)
        max_lots = max(1, int(np.ceil(0.4 * num_lots)))
        if max_lots * max_assets < num_lots:
            max_lots = int(np.ceil(num_lots / max_assets))
        return PortfolioData(
            assets=[f"{SECTORS[s][:4].upper()}{i:02d}" for i, s in enumerate(sector)],
            expected_return=np.round(expected, 5),
            covariance=np.round(covariance, 6),
            num_lots=num_lots,
            max_assets=max_assets,
            max_lots=max_lots,
            min_lots=1,
            risk_aversion=risk_aversion,
        )

    def read(
        self,
        path: str | Path,
        *,
        num_lots: int = 10,
        max_assets: int = 10,
        max_lots: int | None = None,
        risk_aversion: float = 1.0,
    ) -> PortfolioData:
        """An OR-Library portfolio file (see :func:`read_orlib_portfolio`)."""
        return read_orlib_portfolio(
            path,
            num_lots=num_lots,
            max_assets=max_assets,
            max_lots=max_lots,
            risk_aversion=risk_aversion,
        )

    def build(self, data: PortfolioData) -> Problem:
        from kakehashi import Model

        N, L = data.num_assets, data.num_lots
        levels = holding_levels(data)
        m = Model("portfolio")
        choice = m.binary("choice", shape=(N, levels.size))
        lots = choice @ levels.astype(np.float64)
        risk = ((lots @ data.covariance) * lots).sum() * (data.risk_aversion / L**2)
        m.minimize(risk - (data.expected_return / L) @ lots)
        m.one_hot(choice, axis=1, name="one_level_per_asset")
        m.constrain(lots.sum() == L, name="budget")
        if data.max_assets < N:
            m.constrain(choice[:, 0].sum() >= N - data.max_assets, name="cardinality")
        allowed = (levels == 0) | (
            (levels >= data.min_lots[:, None]) & (levels <= data.max_lots[:, None])
        )
        if not allowed.all():
            m.constrain(choice[~allowed] == 0, name="lot_limits")
        return m.to_problem()

    def decode(self, result: Result, data: PortfolioData) -> Portfolio:
        # read through the same expression as the model (not argmax): a sample that breaks
        # the one-hot rule shows up as a broken portfolio instead of being repaired
        lots = np.asarray(result.solution["choice"]) @ holding_levels(data)
        return _portfolio(lots.astype(np.int64), data)

    def validate(self, answer: Portfolio, data: PortfolioData) -> Validation:
        N = data.num_assets
        lots = np.asarray(answer.lots)
        if lots.shape != (N,):
            return Validation.from_errors(
                [f"the portfolio lists {lots.shape} lots; expected one per asset ({N})"], None
            )
        errors: list[str] = []
        if np.any(lots != np.round(lots)):
            errors.append("lots must be whole numbers")
        lots = np.round(lots).astype(np.int64)
        if lots.sum() != data.num_lots:
            errors.append(
                f"budget: {lots.sum()} lots invested, the budget is exactly {data.num_lots}"
            )
        held = np.flatnonzero(lots != 0)
        if held.size > data.max_assets:
            errors.append(
                f"cardinality exceeded: {held.size} assets held, at most {data.max_assets}"
            )
        for i in np.flatnonzero(lots < 0):
            errors.append(f"{data.assets[i]} has a short position of {lots[i]} lots")
        for i in held:
            if lots[i] > 0 and not data.min_lots[i] <= lots[i] <= data.max_lots[i]:
                errors.append(
                    f"{data.assets[i]} holds {lots[i]} lots, outside "
                    f"{data.min_lots[i]}..{data.max_lots[i]}"
                )
        return Validation.from_errors(errors, portfolio_scores(lots, data)[0])

    def baseline(self, data: PortfolioData, time_limit: float | None = None) -> BaselineResult:
        """SCIP on the MIQP: integer lots, binary indicators, ``t ≥ λ wᵀΣw`` (convex)."""
        import pyscipopt

        t0 = time.perf_counter()
        N, L = data.num_assets, data.num_lots
        scip = pyscipopt.Model("portfolio")
        scip.hideOutput()
        scip.setParam("randomization/randomseedshift", 0)
        if time_limit is not None:
            scip.setParam("limits/time", float(time_limit))
        lots = [
            scip.addVar(f"lots_{i}", vtype="I", lb=0, ub=int(data.max_lots[i])) for i in range(N)
        ]
        held = [scip.addVar(f"held_{i}", vtype="B") for i in range(N)]
        risk = scip.addVar("risk", lb=0.0, ub=None)
        scip.addCons(pyscipopt.quicksum(lots) == L)
        scip.addCons(pyscipopt.quicksum(held) <= data.max_assets)
        for i in range(N):
            scip.addCons(lots[i] <= int(data.max_lots[i]) * held[i])
            scip.addCons(lots[i] >= int(data.min_lots[i]) * held[i])
        q = data.risk_aversion / L**2
        scip.addCons(
            pyscipopt.quicksum(
                q * data.covariance[i, j] * lots[i] * lots[j]
                for i in range(N)
                for j in range(N)
                if data.covariance[i, j] != 0
            )
            <= risk
        )
        scip.setObjective(
            risk - pyscipopt.quicksum(data.expected_return[i] / L * lots[i] for i in range(N)),
            "minimize",
        )
        scip.optimize()
        status = scip.getStatus()
        seconds = time.perf_counter() - t0
        if scip.getNSols() == 0:
            raise AppDataError(
                f"SCIP found no portfolio (status {status}) within {time_limit} s; give it "
                "more time"
            )
        best = scip.getBestSol()
        chosen = np.array([round(scip.getSolVal(best, v)) for v in lots], dtype=np.int64)
        return BaselineResult(
            tool=self.baseline_tool,
            answer=_portfolio(chosen, data),
            seconds=seconds,
            status="optimal" if status == "optimal" else "feasible",
            bound=float(scip.getDualbound()),
            info={"scip_status": status, "gap": scip.getGap()},
        )


def read_orlib_portfolio(
    path: str | Path,
    *,
    num_lots: int = 10,
    max_assets: int = 10,
    max_lots: int | None = None,
    risk_aversion: float = 1.0,
) -> PortfolioData:
    """Read an OR-Library portfolio file (Chang et al. 2000, ``port1.txt`` … ``port5.txt``).

    The format: the number of assets ``N``; ``N`` lines ``mean stddev`` of weekly returns;
    then lines ``i j correlation`` (1-based) for every pair ``i <= j``. The budget, lot and
    cardinality rules are not in the file and are given as arguments.

    Example:
        >>> import tempfile, os
        >>> text = "2\\n0.004 0.04\\n0.002 0.02\\n1 1 1.0\\n1 2 0.3\\n2 2 1.0\\n"
        >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        ...     _ = f.write(text)
        >>> d = read_orlib_portfolio(f.name, num_lots=4, max_assets=2); os.unlink(f.name)
        >>> round(float(d.covariance[0, 1]), 6)
        0.00024
    """
    from kakehashi.model.io.readers_common import declared_count, fail, parse_numbers, read_text

    path = Path(path)
    nums = parse_numbers(read_text(path), path, "an OR-Library portfolio file")
    layout = "expected N, then N lines 'mean stddev', then lines 'i j correlation'"
    if nums.size == 0:
        raise fail(path, "the file is empty", layout)
    n = declared_count(
        path,
        nums[0],
        "the asset count N of this OR-Library portfolio file",
        line=1,
        present=(nums.size - 1) // 2,
    )
    rest = nums[1 + 2 * n :]
    if n < 1 or rest.size % 3:
        raise fail(path, f"not an OR-Library portfolio file ({nums.size} numbers)", layout)
    stats = nums[1 : 1 + 2 * n].reshape(n, 2)
    rest = rest.reshape(-1, 3)
    corr = np.eye(n)
    if rest.size and (rest[:, :2].min() < 1 or rest[:, :2].max() > n):
        raise fail(path, f"correlation indices must lie in 1..{n}", layout)
    ij = rest[:, :2].astype(np.int64) - 1
    corr[ij[:, 0], ij[:, 1]] = rest[:, 2]
    corr[ij[:, 1], ij[:, 0]] = rest[:, 2]
    sd = stats[:, 1]
    return PortfolioData(
        assets=[f"asset{i + 1}" for i in range(n)],
        expected_return=stats[:, 0],
        covariance=corr * np.outer(sd, sd),
        num_lots=num_lots,
        max_assets=min(max_assets, n),
        max_lots=max_lots,
        risk_aversion=risk_aversion,
    )


def _lots(value: Any, n: int, name: str) -> np.ndarray:
    try:
        arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    except ValueError:
        raise AppDataError(f"{name} must be a number or one number per asset ({n})") from None
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise AppDataError(f"{name} must hold whole numbers")
    return arr.astype(np.int64)
