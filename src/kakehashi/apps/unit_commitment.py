"""Unit commitment / virtual power plant dispatch over a horizon of hours.

A virtual power plant (or a small grid operator) must meet the demand of every hour from
dispatchable units (CHP plants, gas engines, biogas, diesel backup), free but variable
renewables (PV and wind, which may be curtailed), a battery, and — at a high price —
imports from the grid. It decides which units run (``on``), how much each produces, how
much renewable energy to use, when to charge and discharge the battery, and how much to
import, at least total cost: fuel (marginal), no-load and start-up costs, battery wear,
and import.

Power is discretised in blocks of ``step_mw``: a running unit produces
``p_min + step·k``, every flow is a whole number of blocks. So every variable is a bounded
integer and the problem compiles to a QUBO; with a small step this approaches continuous
dispatch. Start-up costs are the *quadratic* term ``on[t]·(1 − on[t−1])`` — natural in a
QUBO, no extra variables — where the MIP baseline uses the usual linear start-up variables.

Hours are one hour long, so a power of P MW for one period moves P MWh of energy.
The battery is modelled lossless with a cost per MWh charged or discharged (wear, and
losses valued at the price of energy).

The baseline is the HiGHS MILP solver on an independent linear formulation.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> uc = get_use_case("unit_commitment")
    >>> data = uc.generate(2, seed=0, horizon=6)
    >>> ref = uc.baseline(data, time_limit=10)
    >>> uc.validate(ref.answer, data).valid
    True
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

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

__all__ = ["Dispatch", "UnitCommitment", "UnitCommitmentData"]

_TOL = 1e-6

# (type, p_max range MW, p_min as a fraction of p_max, marginal €/MWh, no-load €/h, start-up €)
UNIT_TYPES = (
    ("chp", (20, 40), 0.4, (45, 60), (80, 150), (300, 600)),
    ("gas_engine", (10, 20), 0.3, (70, 90), (30, 60), (50, 150)),
    ("biogas", (5, 15), 0.5, (35, 45), (20, 40), (100, 200)),
    ("diesel", (5, 10), 0.2, (120, 160), (10, 20), (20, 40)),
)


@dataclasses.dataclass
class UnitCommitmentData:
    """A unit commitment / VPP dispatch instance with ``G`` units over ``T`` hours.

    Every MW figure except ``renewable_mw`` must be a multiple of ``step_mw`` (renewables
    are rounded down to it: the model cannot use a fraction of a block).

    Attributes:
        units: unit names (G).
        p_min_mw, p_max_mw: (G,) output range of a running unit.
        marginal_cost: (G,) cost per MWh produced.
        no_load_cost: (G,) cost per hour running.
        startup_cost: (G,) cost per start.
        initially_on: (G,) whether the unit runs in the hour before the horizon.
        demand_mw: (T,) demand to meet exactly in each hour.
        renewable_mw: (T,) renewable power available (may be curtailed, free).
        storage_capacity_mwh, storage_power_mw: battery size and charge/discharge limit.
        storage_initial_mwh: charge at the start.
        storage_final_min_mwh: least charge at the end (``None``: the initial charge).
        storage_cycle_cost: cost per MWh charged or discharged.
        import_max_mw: grid import limit; import_price: (T,) cost per MWh imported.
        step_mw: size of a power block.
    """

    units: list[str]
    p_min_mw: np.ndarray
    p_max_mw: np.ndarray
    marginal_cost: np.ndarray
    no_load_cost: np.ndarray
    startup_cost: np.ndarray
    initially_on: np.ndarray
    demand_mw: np.ndarray
    renewable_mw: np.ndarray
    storage_capacity_mwh: float = 0.0
    storage_power_mw: float = 0.0
    storage_initial_mwh: float = 0.0
    storage_final_min_mwh: float | None = None
    storage_cycle_cost: float = 0.0
    import_max_mw: float = 0.0
    import_price: Any = 0.0
    step_mw: float = 1.0

    def __post_init__(self) -> None:
        self.units = [str(u) for u in self.units]
        G = len(self.units)
        if G == 0:
            raise AppDataError("unit commitment needs at least one unit")
        self.demand_mw = _vec(self.demand_mw, None, "demand_mw")
        T = self.demand_mw.size
        if T == 0:
            raise AppDataError("demand_mw is empty; give one demand per hour")
        for name in ("p_min_mw", "p_max_mw", "marginal_cost", "no_load_cost", "startup_cost"):
            setattr(self, name, _vec(getattr(self, name), G, name))
        self.initially_on = np.asarray(self.initially_on, dtype=bool).reshape(-1)
        if self.initially_on.size != G:
            raise AppDataError(f"initially_on has {self.initially_on.size} entries; expected {G}")
        self.renewable_mw = _vec(self.renewable_mw, T, "renewable_mw")
        self.import_price = _vec(np.broadcast_to(self.import_price, (T,)), T, "import_price")
        self.step_mw = float(self.step_mw)
        if not self.step_mw > 0:
            raise AppDataError(f"step_mw must be positive, got {self.step_mw}")
        if self.storage_final_min_mwh is None:
            self.storage_final_min_mwh = float(self.storage_initial_mwh)
        for name in (
            "storage_capacity_mwh",
            "storage_power_mw",
            "storage_initial_mwh",
            "storage_final_min_mwh",
            "storage_cycle_cost",
            "import_max_mw",
        ):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value >= 0):
                raise AppDataError(f"{name} must be finite and non-negative, got {value}")
            setattr(self, name, value)
        for name in (
            "marginal_cost",
            "no_load_cost",
            "startup_cost",
            "renewable_mw",
            "demand_mw",
            "import_price",
        ):
            if np.any(getattr(self, name) < 0):
                raise AppDataError(f"{name} must be non-negative")
        if np.any(self.p_min_mw < 0) or np.any(self.p_min_mw > self.p_max_mw):
            raise AppDataError("each unit needs 0 <= p_min_mw <= p_max_mw")
        if self.storage_initial_mwh > self.storage_capacity_mwh or (
            self.storage_final_min_mwh > self.storage_capacity_mwh
        ):
            raise AppDataError(
                "storage_initial_mwh and storage_final_min_mwh must not exceed the capacity"
            )
        for name in (
            "p_min_mw",
            "p_max_mw",
            "demand_mw",
            "storage_capacity_mwh",
            "storage_power_mw",
            "storage_initial_mwh",
            "storage_final_min_mwh",
            "import_max_mw",
        ):
            levels = np.asarray(getattr(self, name)) / self.step_mw
            if not np.allclose(levels, np.round(levels), rtol=0, atol=1e-9):
                raise AppDataError(
                    f"{name} must be a multiple of step_mw={self.step_mw:g} (power is "
                    "dispatched in whole blocks); round the data or choose a smaller step"
                )
        most = (
            self.p_max_mw.sum()
            + self.levels(self.renewable_mw, floor=True) * self.step_mw
            + self.storage_power_mw
            + self.import_max_mw
        )
        short = np.flatnonzero(self.demand_mw > most + _TOL)
        if short.size:
            t = int(short[0])
            raise AppDataError(
                f"hour {t} demands {self.demand_mw[t]:g} MW but at most {most[t]:g} MW can be "
                "supplied (all units, renewables, battery and import); the instance is "
                "infeasible"
            )

    @property
    def num_units(self) -> int:
        return len(self.units)

    @property
    def horizon(self) -> int:
        return int(self.demand_mw.size)

    def levels(self, mw: Any, *, floor: bool = False) -> np.ndarray:
        """MW figures as whole numbers of ``step_mw`` blocks."""
        q = np.asarray(mw, dtype=np.float64) / self.step_mw
        return np.floor(q + 1e-9).astype(np.int64) if floor else np.round(q).astype(np.int64)


@dataclasses.dataclass
class Dispatch(Answer):
    """A commitment and dispatch schedule; ``objective`` is the total cost."""

    on: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0), bool))
    output_mw: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    renewable_used_mw: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    charge_mw: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    discharge_mw: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    storage_mwh: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    import_mw: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    units: list[str] = dataclasses.field(default_factory=list)

    def describe(self, max_items: int = 40) -> str:
        T = self.output_mw.shape[1] if self.output_mw.ndim == 2 else 0
        cols = min(T, max_items)

        def row(label: str, values: np.ndarray) -> str:
            return f"  {label:>12}: " + " ".join(f"{v:5.4g}" for v in values[:cols])

        lines = [f"{int(self.on.sum())} unit-hours committed over {T} hours (MW per hour)"]
        for g, name in enumerate(self.units):
            lines.append(row(name, self.output_mw[g]))
        lines.append(row("renewable", self.renewable_used_mw))
        lines.append(row("discharge", self.discharge_mw - self.charge_mw))
        lines.append(row("battery MWh", self.storage_mwh))
        lines.append(row("import", self.import_mw))
        return "\n".join(lines)


def dispatch_cost(answer: Dispatch, data: UnitCommitmentData) -> float:
    """Total cost of a schedule: fuel, no-load, start-ups, battery wear and imports."""
    on = np.asarray(answer.on, dtype=bool)
    prev = np.concatenate([data.initially_on[:, None], on[:, :-1]], axis=1)
    starts = on & ~prev
    return float(
        (data.marginal_cost[:, None] * answer.output_mw).sum()
        + (data.no_load_cost[:, None] * on).sum()
        + (data.startup_cost[:, None] * starts).sum()
        + data.storage_cycle_cost * (answer.charge_mw.sum() + answer.discharge_mw.sum())
        + (data.import_price * answer.import_mw).sum()
    )


# ---------------------------------------------------------------------- the use case
@register
class UnitCommitment(UseCase):
    """Unit commitment and VPP dispatch with renewables, a battery and grid import.

    Example:
        >>> from kakehashi.apps.unit_commitment import UnitCommitment
        >>> data = UnitCommitment().generate(3, seed=1, horizon=4)
        >>> UnitCommitment().build(data).num_variables    # 4 hours x (3 on, 3 levels, 5 flows)
        44
    """

    name = "unit_commitment"
    title = "Unit commitment / virtual power plant dispatch"
    domain = "energy"
    data_type = UnitCommitmentData
    sense = "min"
    baseline_tool = "HiGHS MILP"
    size_meaning = "dispatchable units"
    max_size = 100_000

    def generate(
        self, size: int, seed: int | None = None, *, horizon: int = 24, step_mw: float = 2.5
    ) -> UnitCommitmentData:
        """``size`` units (CHP, gas engines, biogas, diesel) over ``horizon`` hours with a
        two-peak demand curve, PV and wind, a 3-hour battery and expensive grid import.

        Example:
            >>> d = UnitCommitment().generate(4, seed=2)
            >>> d.num_units, d.horizon
            (4, 24)
        """
        if size < 1 or horizon < 1:
            raise AppDataError(
                f"need size >= 1 units and horizon >= 1 hours, got {size}, {horizon}"
            )
        rng = np.random.default_rng(seed)
        step = float(step_mw)

        def blocks(mw: Any, lowest: int = 0) -> np.ndarray:
            return np.maximum(np.round(np.asarray(mw) / step), lowest) * step

        kinds = [UNIT_TYPES[k] for k in rng.integers(0, len(UNIT_TYPES), size)]
        p_max = blocks([rng.uniform(*k[1]) for k in kinds], lowest=1)
        p_min = np.minimum(blocks([k[2] for k in kinds] * p_max, lowest=1), p_max)
        capacity = float(p_max.sum())

        hours = np.arange(horizon) % 24
        shape = (
            0.55
            + 0.25 * np.exp(-0.5 * ((hours - 8) / 2.0) ** 2)
            + 0.35 * np.exp(-0.5 * ((hours - 19) / 2.5) ** 2)
        )
        demand = blocks(0.85 * capacity * shape / 1.15 * rng.uniform(0.95, 1.05, horizon), 1)
        solar = np.clip(np.sin(np.pi * (hours - 6) / 12), 0, None) ** 1.5
        wind = np.clip(
            np.convolve(rng.normal(0.5, 0.3, horizon + 4), np.ones(5) / 5, "valid"), 0, 1
        )
        renewable = np.round(
            (0.4 * capacity * solar * rng.uniform(0.6, 1.0) + 0.2 * capacity * wind), 1
        )
        power = float(blocks(0.15 * capacity, 1))
        storage_capacity = 3 * power
        initial = float(blocks(storage_capacity / 2))
        price = np.round(150 + 100 * shape / shape.max() + rng.uniform(-10, 10, horizon), 1)
        return UnitCommitmentData(
            units=[f"{k[0]}{g}" for g, k in enumerate(kinds)],
            p_min_mw=p_min,
            p_max_mw=p_max,
            marginal_cost=np.round([rng.uniform(*k[3]) for k in kinds], 1),
            no_load_cost=np.round([rng.uniform(*k[4]) for k in kinds], 0),
            startup_cost=np.round([rng.uniform(*k[5]) for k in kinds], -1),
            initially_on=rng.random(size) < 0.5,
            demand_mw=demand,
            renewable_mw=renewable,
            storage_capacity_mwh=storage_capacity,
            storage_power_mw=power,
            storage_initial_mwh=initial,
            storage_cycle_cost=5.0,
            import_max_mw=float(blocks(0.3 * capacity, 1)),
            import_price=price,
            step_mw=step,
        )

    def build(self, data: UnitCommitmentData) -> Problem:
        from kakehashi import Model

        G, T = data.num_units, data.horizon
        step = data.step_mw
        pmin = data.levels(data.p_min_mw)
        span = data.levels(data.p_max_mw) - pmin
        m = Model("unit_commitment")
        on = m.binary("on", shape=(G, T))
        extra = m.integer("extra", shape=(G, T), lower=0, upper=np.repeat(span[:, None], T, 1))
        renewable = m.integer(
            "renewable", shape=T, lower=0, upper=data.levels(data.renewable_mw, floor=True)
        )
        output = pmin[:, None] * on + extra  # in blocks
        supply = output.sum(axis=0) + renewable
        cost = (
            (data.marginal_cost[:, None] * step * output).sum()
            + (data.no_load_cost[:, None] * on).sum()
            # a start is on[t] * (1 - on[t-1]); before the horizon the state is known
            + (data.startup_cost[:, None] * on[:, 1:] * (1 - on[:, :-1])).sum()
            + (data.startup_cost * ~data.initially_on @ on[:, 0])
        )
        if data.storage_power_mw > 0 and data.storage_capacity_mwh > 0:
            power = int(data.levels(data.storage_power_mw))
            cap = int(data.levels(data.storage_capacity_mwh))
            charge = m.integer("charge", shape=T, lower=0, upper=power)
            discharge = m.integer("discharge", shape=T, lower=0, upper=power)
            soc_lower = np.zeros(T)
            soc_lower[-1] = data.levels(data.storage_final_min_mwh)  # end-of-horizon charge
            soc = m.integer("storage", shape=T, lower=soc_lower, upper=cap)
            supply = supply + discharge - charge
            previous = np.concatenate([[0.0], np.ones(T - 1)])
            change = soc - charge + discharge
            # soc[t] - soc[t-1] - charge[t] + discharge[t] = 0, with soc[-1] the initial charge
            m.constrain(
                np.concatenate([change[:1], change[1:] - soc[:-1]])
                == data.levels(data.storage_initial_mwh) * (1 - previous),
                name="storage_balance",
            )
            cost = cost + data.storage_cycle_cost * step * (charge.sum() + discharge.sum())
        if data.import_max_mw > 0:
            imports = m.integer(
                "import", shape=T, lower=0, upper=int(data.levels(data.import_max_mw))
            )
            supply = supply + imports
            cost = cost + (data.import_price * step) @ imports
        m.minimize(cost)
        m.constrain(supply == data.levels(data.demand_mw), name="demand_balance")
        flexible = np.flatnonzero(span > 0)
        if flexible.size:
            m.constrain(
                extra[flexible] - span[flexible, None] * on[flexible] <= 0,
                name="output_only_when_on",
            )
        return m.to_problem()

    def decode(self, result: Result, data: UnitCommitmentData) -> Dispatch:
        sol = result.solution
        T = data.horizon
        step = data.step_mw
        on = np.asarray(sol["on"]).astype(bool)
        output = step * (data.levels(data.p_min_mw)[:, None] * on + sol["extra"])
        zeros = np.zeros(T)
        charge = step * sol["charge"] if "charge" in sol else zeros
        discharge = step * sol["discharge"] if "discharge" in sol else zeros
        if "storage" in sol:
            soc = step * sol["storage"].astype(float)
        else:
            soc = np.full(T, data.storage_initial_mwh)
        answer = Dispatch(
            objective=0.0,
            on=on,
            output_mw=output.astype(float),
            renewable_used_mw=(step * sol["renewable"]).astype(float),
            charge_mw=np.asarray(charge, dtype=float),
            discharge_mw=np.asarray(discharge, dtype=float),
            storage_mwh=soc,
            import_mw=np.asarray(step * sol["import"] if "import" in sol else zeros, float),
            units=list(data.units),
        )
        answer.objective = dispatch_cost(answer, data)
        return answer

    def validate(self, answer: Dispatch, data: UnitCommitmentData) -> Validation:
        G, T = data.num_units, data.horizon
        shapes = {
            "on": ((G, T), answer.on),
            "output_mw": ((G, T), answer.output_mw),
            "renewable_used_mw": ((T,), answer.renewable_used_mw),
            "charge_mw": ((T,), answer.charge_mw),
            "discharge_mw": ((T,), answer.discharge_mw),
            "storage_mwh": ((T,), answer.storage_mwh),
            "import_mw": ((T,), answer.import_mw),
        }
        errors = [
            f"{name} has shape {np.shape(v)}; expected {shape}"
            for name, (shape, v) in shapes.items()
            if np.shape(v) != shape
        ]
        if errors:
            return Validation.from_errors(errors, None)
        on = np.asarray(answer.on, dtype=bool)
        out = np.asarray(answer.output_mw, dtype=float)
        for g, t in np.argwhere(~on & (np.abs(out) > _TOL)):
            errors.append(f"{data.units[g]} is off in hour {t} but produces {out[g, t]:g} MW")
        low = on & (out < data.p_min_mw[:, None] - _TOL)
        high = on & (out > data.p_max_mw[:, None] + _TOL)
        for g, t in np.argwhere(low | high):
            errors.append(
                f"{data.units[g]} produces {out[g, t]:g} MW in hour {t}, outside its range "
                f"{data.p_min_mw[g]:g}..{data.p_max_mw[g]:g} MW"
            )

        def check_range(name: str, values: np.ndarray, upper: Any, what: str) -> None:
            upper = np.broadcast_to(np.asarray(upper, dtype=float), values.shape)
            for t in np.flatnonzero((values < -_TOL) | (values > upper + _TOL)):
                errors.append(
                    f"{name} in hour {t} is {values[t]:g}, outside 0..{upper[t]:g} ({what})"
                )

        ren = np.asarray(answer.renewable_used_mw, float)
        ch = np.asarray(answer.charge_mw, float)
        dis = np.asarray(answer.discharge_mw, float)
        soc = np.asarray(answer.storage_mwh, float)
        imp = np.asarray(answer.import_mw, float)
        check_range("renewable use", ren, data.renewable_mw, "the forecast")
        check_range("battery charging", ch, data.storage_power_mw, "the battery's power")
        check_range("battery discharging", dis, data.storage_power_mw, "the battery's power")
        check_range("battery charge", soc, data.storage_capacity_mwh, "its capacity")
        check_range("grid import", imp, data.import_max_mw, "the import limit")
        previous = np.concatenate([[data.storage_initial_mwh], soc[:-1]])
        for t in np.flatnonzero(np.abs(previous + ch - dis - soc) > _TOL):
            errors.append(
                f"battery energy does not add up in hour {t}: {previous[t]:g} MWh + "
                f"{ch[t]:g} charged - {dis[t]:g} discharged != {soc[t]:g} MWh"
            )
        if soc[-1] < data.storage_final_min_mwh - _TOL:
            errors.append(
                f"the battery ends with {soc[-1]:g} MWh; at least "
                f"{data.storage_final_min_mwh:g} MWh must remain"
            )
        supply = out.sum(axis=0) + ren + dis - ch + imp
        for t in np.flatnonzero(supply < data.demand_mw - _TOL):
            errors.append(
                f"demand not met in hour {t}: {supply[t]:g} MW supplied for "
                f"{data.demand_mw[t]:g} MW"
            )
        for t in np.flatnonzero(supply > data.demand_mw + _TOL):
            errors.append(
                f"over-supply in hour {t}: {supply[t]:g} MW supplied for {data.demand_mw[t]:g} "
                "MW (curtail renewables or lower output)"
            )
        return Validation.from_errors(errors, dispatch_cost(answer, data))

    def baseline(self, data: UnitCommitmentData, time_limit: float | None = None) -> BaselineResult:
        """HiGHS on the textbook MILP: binary commitment and start-up variables, integer
        blocks, linear start-up linking ``start[t] >= on[t] - on[t-1]``."""
        import highspy

        # HiGHS prints a banner on C-level stdout the first time; it would corrupt --json
        from kakehashi.backends.mip import silence_highs_banner

        silence_highs_banner()
        t0 = time.perf_counter()
        lp = _UcMilp(data)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", 0)
        if time_limit is not None:
            h.setOptionValue("time_limit", float(time_limit))
        h.passModel(lp.highs_model())
        h.run()
        status = h.getModelStatus()
        seconds = time.perf_counter() - t0
        sol = h.getSolution()
        if not sol.value_valid:
            raise AppDataError(
                f"HiGHS found no schedule ({h.modelStatusToString(status)}) within "
                f"{time_limit} s; give it more time"
            )
        answer = lp.answer(np.asarray(sol.col_value))
        info = h.getInfo()
        return BaselineResult(
            tool=self.baseline_tool,
            answer=answer,
            seconds=seconds,
            status="optimal" if status == highspy.HighsModelStatus.kOptimal else "feasible",
            bound=float(info.mip_dual_bound),
            info={"highs_status": h.modelStatusToString(status), "mip_gap": info.mip_gap},
        )


class _UcMilp:
    """The MILP of the baseline, as arrays (columns in named blocks, rows as triplets)."""

    def __init__(self, data: UnitCommitmentData) -> None:
        self.data = data
        G, T = data.num_units, data.horizon
        step = data.step_mw
        pmin = data.levels(data.p_min_mw)
        span = data.levels(data.p_max_mw) - pmin
        power = int(data.levels(data.storage_power_mw))
        cap = int(data.levels(data.storage_capacity_mwh))
        self.blocks: dict[str, slice] = {}
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.cost: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        on = self._block(
            "on",
            G * T,
            0,
            1,
            data.no_load_cost.repeat(T) + step * (data.marginal_cost * pmin).repeat(T),
        )
        start = self._block("start", G * T, 0, 1, data.startup_cost.repeat(T))
        extra = self._block("extra", G * T, 0, span.repeat(T), step * data.marginal_cost.repeat(T))
        ren = self._block("renewable", T, 0, data.levels(data.renewable_mw, floor=True), 0.0)
        ch = self._block("charge", T, 0, power, step * data.storage_cycle_cost)
        dis = self._block("discharge", T, 0, power, step * data.storage_cycle_cost)
        soc_lo = np.zeros(T)
        soc_lo[-1] = data.levels(data.storage_final_min_mwh)
        soc = self._block("storage", T, soc_lo, cap, 0.0)
        imp = self._block(
            "import", T, 0, int(data.levels(data.import_max_mw)), step * data.import_price
        )
        rows, cols, vals, lo, hi = [], [], [], [], []
        r = 0

        def row(c: list[int], v: list[float], lower: float, upper: float) -> None:
            nonlocal r
            rows.extend([r] * len(c))
            cols.extend(c)
            vals.extend(v)
            lo.append(lower)
            hi.append(upper)
            r += 1

        gt = np.arange(G * T).reshape(G, T)
        demand = data.levels(data.demand_mw)
        for t in range(T):
            c = [
                *(on.start + gt[:, t]),
                *(extra.start + gt[:, t]),
                ren.start + t,
                dis.start + t,
                ch.start + t,
                imp.start + t,
            ]
            v = [*pmin.astype(float), *np.ones(G), 1.0, 1.0, -1.0, 1.0]
            row(c, v, demand[t], demand[t])
            # soc[t] - soc[t-1] - charge[t] + discharge[t] == 0 (soc[-1] = initial)
            init = float(data.levels(data.storage_initial_mwh)) if t == 0 else 0.0
            c = [soc.start + t, ch.start + t, dis.start + t]
            v = [1.0, -1.0, 1.0]
            if t > 0:
                c.append(soc.start + t - 1)
                v.append(-1.0)
            row(c, v, init, init)
        for g in range(G):
            for t in range(T):
                k = gt[g, t]
                row([extra.start + k, on.start + k], [1.0, -float(span[g])], -np.inf, 0.0)
                # start[t] >= on[t] - on[t-1]
                if t == 0:
                    row(
                        [start.start + k, on.start + k],
                        [1.0, -1.0],
                        -float(data.initially_on[g]),
                        np.inf,
                    )
                else:
                    row(
                        [start.start + k, on.start + k, on.start + k - 1],
                        [1.0, -1.0, 1.0],
                        0.0,
                        np.inf,
                    )
        n = sum(len(c) for c in self.cost)
        self.A = sp.csr_matrix((vals, (rows, cols)), shape=(r, n))
        self.row_lo = np.asarray(lo, dtype=float)
        self.row_hi = np.asarray(hi, dtype=float)

    def _block(self, name: str, size: int, lower: Any, upper: Any, cost: Any) -> slice:
        start = sum(len(c) for c in self.cost)
        self.blocks[name] = slice(start, start + size)
        self.lower.append(np.broadcast_to(np.asarray(lower, float), (size,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, float), (size,)).copy())
        self.cost.append(np.broadcast_to(np.asarray(cost, float), (size,)).copy())
        return self.blocks[name]

    def highs_model(self) -> Any:
        import highspy

        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = int(self.A.shape[1])
        lp.num_row_ = int(self.A.shape[0])
        lp.col_cost_ = np.concatenate(self.cost)
        lp.col_lower_ = np.concatenate(self.lower)
        lp.col_upper_ = np.concatenate(self.upper)
        lp.row_lower_ = np.where(np.isfinite(self.row_lo), self.row_lo, -inf)
        lp.row_upper_ = np.where(np.isfinite(self.row_hi), self.row_hi, inf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = self.A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = self.A.indices.astype(np.int32)
        lp.a_matrix_.value_ = self.A.data
        lp.a_matrix_.num_col_ = lp.num_col_
        lp.a_matrix_.num_row_ = lp.num_row_
        lp.integrality_ = [highspy.HighsVarType.kInteger] * lp.num_col_
        model = highspy.HighsModel()
        model.lp_ = lp
        return model

    def answer(self, x: np.ndarray) -> Dispatch:
        data = self.data
        G, T = data.num_units, data.horizon
        step = data.step_mw
        x = np.round(x) + 0.0  # + 0.0 turns -0.0 into 0.0
        on = x[self.blocks["on"]].reshape(G, T).astype(bool)
        extra = x[self.blocks["extra"]].reshape(G, T)
        answer = Dispatch(
            objective=0.0,
            on=on,
            output_mw=step * (data.levels(data.p_min_mw)[:, None] * on + extra),
            renewable_used_mw=step * x[self.blocks["renewable"]],
            charge_mw=step * x[self.blocks["charge"]],
            discharge_mw=step * x[self.blocks["discharge"]],
            storage_mwh=step * x[self.blocks["storage"]],
            import_mw=step * x[self.blocks["import"]],
            units=list(data.units),
        )
        answer.objective = dispatch_cost(answer, data)
        return answer


def _vec(value: Any, size: int | None, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise AppDataError(f"{name} must be a list of numbers") from None
    if size is not None and arr.size != size:
        raise AppDataError(f"{name} has {arr.size} entries; expected {size}")
    if not np.all(np.isfinite(arr)):
        raise AppDataError(f"{name} has NaN or infinite entries")
    return arr
