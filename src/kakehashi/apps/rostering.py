"""Shift / workforce rostering: who works which shift on which day.

Staff are allocated to shifts over a horizon of days so that every shift has exactly the
staff it needs (or up to an allowed overstaffing), nobody works when unavailable, rest
rules hold (no late-then-early, no night-then-day), nobody works too many days in a row,
everyone's number of shifts stays within their contract, and the total preference cost
(unpopular shifts, unsocial hours, days people asked to have off) is as small as possible.

The model has one binary ``x[e, d, s]`` per employee, day and shift, plus an "off" column
``s = S`` so that "one shift or off each day" is an exact one-hot group rather than an
inequality (no slack bits, and engines that keep one-hot groups intact can use it).

The baseline is Google OR-Tools CP-SAT on the same rules, written independently.

Example:
    >>> from kakehashi.apps import get_use_case
    >>> rostering = get_use_case("rostering")
    >>> data = rostering.generate(4, seed=1, num_days=3)
    >>> answer = rostering.baseline(data, time_limit=5).answer
    >>> rostering.validate(answer, data).valid
    True
"""

from __future__ import annotations

import dataclasses
import os
import time
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

__all__ = ["Roster", "Rostering", "RosteringData"]

DEFAULT_SHIFTS = ("early", "late", "night")
# Forward rotation only: after a late or night shift there is too little rest for an
# early (or, after a night, a late) shift the next day — the usual 11-hour rest rule.
DEFAULT_FORBIDDEN = (("late", "early"), ("night", "early"), ("night", "late"))


@dataclasses.dataclass
class RosteringData:
    """A rostering instance.

    Attributes:
        employees: names, one per employee (``E`` of them).
        shifts: shift names (``S`` of them), e.g. ``("early", "late", "night")``.
        num_days: length of the horizon ``D``.
        demand: (D, S) staff each shift needs.
        available: (E, D, S) whether the employee may work that shift (leave, training,
            "no nights" contracts).
        preference_cost: (E, D, S) cost of giving the employee that shift (unsocial hours,
            disliked shifts, requested days off); non-negative.
        min_shifts, max_shifts: (E,) shifts per employee over the horizon (the contract).
        forbidden_successions: pairs ``(today, tomorrow)`` of shift names that may not
            follow one another (rest rules); by default late→early, night→early and
            night→late, among the shifts that exist.
        max_consecutive_days: longest run of working days allowed.
        max_overstaffing: staff a shift may have beyond its demand (0: exactly the demand).
    """

    employees: list[str]
    shifts: list[str]
    num_days: int
    demand: np.ndarray
    available: np.ndarray
    preference_cost: np.ndarray
    min_shifts: np.ndarray
    max_shifts: np.ndarray
    forbidden_successions: list[tuple[str, str]] | None = None
    max_consecutive_days: int = 5
    max_overstaffing: int = 0

    def __post_init__(self) -> None:
        self.employees = [str(e) for e in self.employees]
        self.shifts = [str(s) for s in self.shifts]
        self.num_days = int(self.num_days)
        E, D, S = len(self.employees), self.num_days, len(self.shifts)
        if E == 0 or S == 0 or D <= 0:
            raise AppDataError(
                f"a roster needs at least one employee, shift and day; got {E} employees, "
                f"{S} shifts, {D} days"
            )
        if len(set(self.shifts)) != S:
            raise AppDataError(f"shift names must be distinct, got {self.shifts}")
        self.demand = _int_array(self.demand, (D, S), "demand")
        self.available = _array(self.available, (E, D, S), "available", bool)
        self.preference_cost = _array(self.preference_cost, (E, D, S), "preference_cost", float)
        self.min_shifts = _int_array(self.min_shifts, (E,), "min_shifts")
        self.max_shifts = _int_array(self.max_shifts, (E,), "max_shifts")
        self.max_consecutive_days = int(self.max_consecutive_days)
        self.max_overstaffing = int(self.max_overstaffing)
        if self.forbidden_successions is None:  # the usual rest rules among these shifts
            self.forbidden_successions = [
                (a, b) for a, b in DEFAULT_FORBIDDEN if a in self.shifts and b in self.shifts
            ]
        self.forbidden_successions = [(str(a), str(b)) for a, b in self.forbidden_successions]
        if np.any(self.demand < 0):
            raise AppDataError("demand must be non-negative staff counts")
        if np.any(self.preference_cost < 0) or not np.all(np.isfinite(self.preference_cost)):
            raise AppDataError("preference_cost must be finite and non-negative")
        if np.any(self.min_shifts < 0) or np.any(self.min_shifts > self.max_shifts):
            raise AppDataError(
                "each employee needs 0 <= min_shifts <= max_shifts; check the contracts"
            )
        if self.max_consecutive_days < 1 or self.max_overstaffing < 0:
            raise AppDataError("max_consecutive_days must be >= 1 and max_overstaffing >= 0")
        unknown = {s for pair in self.forbidden_successions for s in pair} - set(self.shifts)
        if unknown:
            raise AppDataError(
                f"forbidden_successions name unknown shifts {sorted(unknown)}; "
                f"the shifts are {self.shifts}"
            )
        staffable = self.available.sum(axis=0)
        short = np.argwhere(staffable < self.demand)
        if short.size:
            d, s = (int(v) for v in short[0])
            raise AppDataError(
                f"day {d} shift {self.shifts[s]!r} needs {self.demand[d, s]} staff but only "
                f"{staffable[d, s]} employees are available; lower the demand or add staff"
            )

    @property
    def forbidden_pairs(self) -> list[tuple[int, int]]:
        """Forbidden successions as shift indices."""
        index = {s: k for k, s in enumerate(self.shifts)}
        return [(index[a], index[b]) for a, b in self.forbidden_successions]


@dataclasses.dataclass
class Roster(Answer):
    """A roster: ``works[e, d, s]`` is True when employee ``e`` works shift ``s`` on day ``d``.

    ``objective`` is the total preference cost.
    """

    works: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0, 0), bool))
    employees: list[str] = dataclasses.field(default_factory=list)
    shifts: list[str] = dataclasses.field(default_factory=list)

    def shift_table(self) -> list[list[str]]:
        """Per employee, per day: the shift name, ``-`` when off, ``a+b`` when doubled up."""
        out = []
        for e in range(self.works.shape[0]):
            row = []
            for d in range(self.works.shape[1]):
                on = np.flatnonzero(self.works[e, d])
                row.append("+".join(self.shifts[s] for s in on) if on.size else "-")
            out.append(row)
        return out

    def describe(self, max_items: int = 40) -> str:
        lines = [f"{int(self.works.sum())} shifts assigned"]
        for name, row in list(zip(self.employees, self.shift_table(), strict=True))[:max_items]:
            lines.append(f"  {name:>10}: " + " ".join(f"{c:>6}" for c in row))
        if len(self.employees) > max_items:
            lines.append(f"  … {len(self.employees) - max_items} more employees")
        return "\n".join(lines)


def roster_cost(works: np.ndarray, data: RosteringData) -> float:
    """Total preference cost of a roster (the domain objective)."""
    return float((data.preference_cost * works).sum())


# ---------------------------------------------------------------------- the use case
@register
class Rostering(UseCase):
    """Shift rostering under coverage, availability, rest and contract rules.

    Example:
        >>> from kakehashi.apps.rostering import Rostering
        >>> data = Rostering().generate(5, seed=0, num_days=3)
        >>> Rostering().build(data).summary()
        'rostering: 60 variables (60 binary), 59 constraints, degree 1, minimise'
    """

    name = "rostering"
    title = "Shift / workforce rostering"
    domain = "workforce"
    data_type = RosteringData
    sense = "min"
    baseline_tool = "OR-Tools CP-SAT"
    size_meaning = "employees"
    max_size = 50_000

    def generate(
        self,
        size: int,
        seed: int | None = None,
        *,
        num_days: int = 7,
        shifts: tuple[str, ...] = DEFAULT_SHIFTS,
    ) -> RosteringData:
        """A feasible week of ``size`` employees (70% full-time, 30% part-time).

        A hidden roster obeying every rule is drawn first and the demand is read off it,
        so the instance is feasible by construction; availability, preferences (disliked
        shift type, night and weekend premiums, requested days off) are drawn around it.

        Example:
            >>> d = Rostering().generate(6, seed=3)
            >>> d.demand.shape, d.available.shape
            ((7, 3), (6, 7, 3))
        """
        if size < 1:
            raise AppDataError(f"rostering needs at least one employee, got size={size}")
        rng = np.random.default_rng(seed)
        E, D, S = int(size), int(num_days), len(shifts)
        forbidden = [(a, b) for a, b in DEFAULT_FORBIDDEN if a in shifts and b in shifts]
        index = {s: k for k, s in enumerate(shifts)}
        forbidden_idx = {(index[a], index[b]) for a, b in forbidden}
        max_consec = 5
        full_time = rng.random(E) < 0.7
        max_shifts = np.where(full_time, 5, 3) * D // 7
        max_shifts = np.clip(max_shifts, 1, D)
        min_shifts = np.maximum(max_shifts - 2, 0)

        home_shift = rng.integers(0, S, E)
        target = _staffing_targets(E, D, S, rng)
        works = _greedy_roster(
            rng, target, min_shifts, max_shifts, home_shift, forbidden_idx, max_consec
        )
        # the few people the greedy pass left short of their minimum get it lowered
        min_shifts = np.minimum(min_shifts, works.sum(axis=(1, 2)))
        demand = works.sum(axis=0)

        # unavailability never touches the hidden roster, so it stays feasible
        available = np.ones((E, D, S), dtype=bool)
        leave = (rng.random((E, D)) < 0.1) & ~works.any(axis=2)
        available[leave] = False
        if "night" in index:
            no_nights = (rng.random(E) < 0.2) & ~works[:, :, index["night"]].any(axis=1)
            available[no_nights, :, index["night"]] = False

        cost = np.ones((E, D, S))
        if "night" in index:
            cost[:, :, index["night"]] += 2.0  # unsocial hours premium
        weekend = (np.arange(D) % 7) >= 5
        cost[:, weekend, :] += 1.0
        disliked = rng.integers(0, S, E)
        cost[np.arange(E), :, disliked] += 3.0
        wants_off = rng.random((E, D)) < 0.15
        cost[wants_off] += 4.0
        return RosteringData(
            employees=[f"emp{e:02d}" for e in range(E)],
            shifts=list(shifts),
            num_days=D,
            demand=demand,
            available=available,
            preference_cost=cost,
            min_shifts=min_shifts,
            max_shifts=max_shifts,
            forbidden_successions=forbidden,
            max_consecutive_days=max_consec,
        )

    def build(self, data: RosteringData) -> Problem:
        from kakehashi import Model

        E, D, S = data.available.shape
        m = Model("rostering")
        x = m.binary("x", shape=(E, D, S + 1))  # last column: day off
        work = x[:, :, :S]
        off = x[:, :, S]
        m.minimize((data.preference_cost * work).sum())
        m.one_hot(x, axis=2, name="one_shift_or_off_per_day")
        coverage = work.sum(axis=0)
        if data.max_overstaffing == 0:
            m.constrain(coverage == data.demand, name="coverage")
        else:
            m.constrain_range(
                coverage, data.demand, data.demand + data.max_overstaffing, name="coverage"
            )
        unavailable = np.nonzero(~data.available)
        if unavailable[0].size:
            m.constrain(work[unavailable] == 0, name="availability")
        pairs = data.forbidden_pairs
        if pairs and D > 1:
            rest = np.stack([work[:, :-1, a] + work[:, 1:, b] for a, b in pairs])
            m.constrain(rest <= 1, name="rest")
        k = data.max_consecutive_days
        if D > k:
            # every window of k+1 consecutive days holds at least one day off
            windows = np.stack([off[:, d : d + k + 1].sum(axis=1) for d in range(D - k)], axis=1)
            m.constrain(windows >= 1, name="max_consecutive_days")
        m.constrain_range(
            work.sum(axis=(1, 2)), data.min_shifts, data.max_shifts, name="shifts_per_employee"
        )
        return m.to_problem()

    def decode(self, result: Result, data: RosteringData) -> Roster:
        x = np.asarray(result.solution["x"])
        works = x[:, :, : len(data.shifts)].astype(bool)
        return Roster(
            objective=roster_cost(works, data),
            works=works,
            employees=list(data.employees),
            shifts=list(data.shifts),
        )

    def validate(self, answer: Roster, data: RosteringData) -> Validation:
        E, D, S = data.available.shape
        works = np.asarray(answer.works)
        if works.shape != (E, D, S):
            return Validation.from_errors(
                [
                    f"the roster has shape {works.shape}; expected (employees, days, shifts) = "
                    f"{(E, D, S)}"
                ],
                None,
            )
        works = works.astype(bool)
        errors: list[str] = []
        for e, d in np.argwhere(works.sum(axis=2) > 1):
            errors.append(f"{data.employees[e]} works more than one shift on day {d}")
        coverage = works.sum(axis=0)
        for d, s in np.argwhere(coverage < data.demand):
            errors.append(
                f"day {d} shift {data.shifts[s]!r} is under-covered: {coverage[d, s]} of "
                f"{data.demand[d, s]} staff"
            )
        for d, s in np.argwhere(coverage > data.demand + data.max_overstaffing):
            errors.append(
                f"day {d} shift {data.shifts[s]!r} is over-staffed: {coverage[d, s]} staff for a "
                f"demand of {data.demand[d, s]} (at most {data.max_overstaffing} extra allowed)"
            )
        for e, d, s in np.argwhere(works & ~data.available):
            errors.append(
                f"{data.employees[e]} is not available for shift {data.shifts[s]!r} on day {d}"
            )
        for a, b in data.forbidden_pairs:
            for e, d in np.argwhere(works[:, :-1, a] & works[:, 1:, b]):
                errors.append(
                    f"rest rule broken: {data.employees[e]} works {data.shifts[a]!r} on day {d} "
                    f"then {data.shifts[b]!r} on day {d + 1}"
                )
        working = works.any(axis=2)
        for e in range(E):
            run = longest_run(working[e])
            if run > data.max_consecutive_days:
                errors.append(
                    f"{data.employees[e]} works {run} days in a row (at most "
                    f"{data.max_consecutive_days})"
                )
        count = works.sum(axis=(1, 2))
        for e in np.flatnonzero((count < data.min_shifts) | (count > data.max_shifts)):
            errors.append(
                f"{data.employees[e]} has {count[e]} shifts; the contract says "
                f"{data.min_shifts[e]}..{data.max_shifts[e]}"
            )
        return Validation.from_errors(errors, roster_cost(works, data))

    def baseline(self, data: RosteringData, time_limit: float | None = None) -> BaselineResult:
        """OR-Tools CP-SAT on the same rules (costs scaled to integers, exactly when they
        have at most six decimals)."""
        from ortools.sat.python import cp_model

        t0 = time.perf_counter()
        E, D, S = data.available.shape
        model = cp_model.CpModel()
        x = np.empty((E, D, S), dtype=object)
        for e, d, s in np.ndindex(E, D, S):
            x[e, d, s] = model.new_bool_var(f"x_{e}_{d}_{s}")
            if not data.available[e, d, s]:
                model.add(x[e, d, s] == 0)
        for e, d in np.ndindex(E, D):
            model.add_at_most_one(x[e, d, :].tolist())
        for d, s in np.ndindex(D, S):
            staff = sum(x[:, d, s].tolist())
            model.add_linear_constraint(
                staff, int(data.demand[d, s]), int(data.demand[d, s] + data.max_overstaffing)
            )
        for a, b in data.forbidden_pairs:
            for e, d in np.ndindex(E, D - 1):
                model.add_bool_or([x[e, d, a].Not(), x[e, d + 1, b].Not()])
        k = data.max_consecutive_days
        for e in range(E):
            for d in range(D - k):
                model.add(sum(x[e, d : d + k + 1, :].ravel().tolist()) <= k)
            model.add_linear_constraint(
                sum(x[e].ravel().tolist()), int(data.min_shifts[e]), int(data.max_shifts[e])
            )
        weights, scale = integer_weights(data.preference_cost)
        model.minimize(
            sum(int(w) * v for w, v in zip(weights.ravel(), x.ravel(), strict=True) if w)
        )
        solver, status = solve_cp_sat(model, time_limit)
        seconds = time.perf_counter() - t0
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise AppDataError(
                f"CP-SAT found no roster ({solver.status_name(status)}) within "
                f"{time_limit} s; the rules may be infeasible, or give it more time"
            )
        works = np.vectorize(solver.value, otypes=[int])(x).astype(bool)
        answer = Roster(
            objective=roster_cost(works, data),
            works=works,
            employees=list(data.employees),
            shifts=list(data.shifts),
        )
        return BaselineResult(
            tool=self.baseline_tool,
            answer=answer,
            seconds=seconds,
            status="optimal" if status == cp_model.OPTIMAL else "feasible",
            bound=float(solver.best_objective_bound) / scale,
            info={"cp_sat_status": solver.status_name(status), "cost_scale": scale},
        )


# ---------------------------------------------------------------------- helpers
def longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True in a 1-D boolean array.

    Example:
        >>> longest_run(np.array([1, 1, 0, 1, 1, 1, 0], bool))
        3
    """
    best = cur = 0
    for f in np.asarray(flags, dtype=bool):
        cur = cur + 1 if f else 0
        best = max(best, cur)
    return best


def integer_weights(values: np.ndarray, max_decimals: int = 6) -> tuple[np.ndarray, int]:
    """Integer coefficients for CP-SAT (which takes integers only) and the scale used.

    The smallest power of ten ``10^k`` (k ≤ ``max_decimals``) that makes every value
    integral is used; beyond that, values are rounded at ``10^max_decimals``.

    Example:
        >>> integer_weights(np.array([1.5, 2.0]))
        (array([15, 20]), 10)
    """
    values = np.asarray(values, dtype=np.float64)
    for k in range(max_decimals + 1):
        scaled = values * 10**k
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-9):
            return np.round(scaled).astype(np.int64), 10**k
    return np.round(values * 10**max_decimals).astype(np.int64), 10**max_decimals


def solve_cp_sat(model: Any, time_limit: float | None, seed: int = 0) -> tuple[Any, int]:
    """Run CP-SAT with a time limit, a fixed seed and at most 8 workers."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.random_seed = int(seed)
    solver.parameters.num_workers = max(1, min(8, os.cpu_count() or 1))
    return solver, solver.solve(model)


def _staffing_targets(E: int, D: int, S: int, rng: np.random.Generator) -> np.ndarray:
    """Staff wanted per day and shift: about 55% of the team a day, more on early shifts
    than late ones, fewer at night and at weekends."""
    share = np.linspace(1.4, 0.6, S)
    share /= share.sum()
    weekday = np.where((np.arange(D) % 7) >= 5, 0.8, 1.0)
    base = 0.55 * E * weekday[:, None] * share[None, :]
    return np.maximum(np.round(base * rng.uniform(0.9, 1.1, (D, S))), 0).astype(np.int64)


def _greedy_roster(
    rng: np.random.Generator,
    target: np.ndarray,
    min_shifts: np.ndarray,
    max_shifts: np.ndarray,
    home_shift: np.ndarray,
    forbidden: set[tuple[int, int]],
    max_consec: int,
) -> np.ndarray:
    """A roster obeying every rule that staffs towards ``target`` day by day: people short
    of their contract minimum first, then those whose usual shift it is, then at random."""
    D, S = target.shape
    E = min_shifts.size
    works = np.zeros((E, D, S), dtype=bool)
    count = np.zeros(E, dtype=np.int64)
    run = np.zeros(E, dtype=np.int64)  # consecutive working days up to yesterday
    for d in range(D):
        yesterday = works[:, d - 1].argmax(axis=1) if d else np.full(E, -1)
        worked = works[:, d - 1].any(axis=1) if d else np.zeros(E, bool)
        free = (count < max_shifts) & (run < max_consec)
        for s in rng.permutation(S):
            ok = free & ~np.array(
                [worked[e] and (int(yesterday[e]), int(s)) in forbidden for e in range(E)]
            )
            short = np.maximum(min_shifts - count, 0)
            order = np.lexsort((rng.random(E), home_shift != s, -short))
            chosen = [e for e in order if ok[e]][: target[d, s]]
            works[chosen, d, s] = True
            free[chosen] = False
            count[chosen] += 1
        run = np.where(works[:, d].any(axis=1), run + 1, 0)
    return works


def _array(value: Any, shape: tuple[int, ...], name: str, dtype: type) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise AppDataError(f"{name} must be an array of numbers of shape {shape}") from None
    if arr.shape != shape:
        raise AppDataError(f"{name} has shape {arr.shape}; expected {shape}")
    return arr


def _int_array(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = _array(value, shape, name, float)
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise AppDataError(f"{name} must hold whole numbers")
    return arr.astype(np.int64)
