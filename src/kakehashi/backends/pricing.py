"""Money for a run under a catalog price model: ONE formula, before and after the run.

The estimate before a run (:func:`kakehashi.backends.catalog.estimate`, and so the
``max_cost=`` cap) and the accounting after it (:func:`kakehashi.bench.accounting.price`)
both call :func:`usage_money`, so the two can never disagree about what a price means.

Quantities, always the same meaning:

* ``tasks``: jobs / circuit executions / QPU problems sent;
* ``shots``: the **total** number of shots (reads) over all tasks — an estimate multiplies
  shots per task by tasks before calling here;
* ``seconds``: the device seconds billed, raised to ``min_seconds`` per task.

Price fields (catalog ``[backends.*.price]``, model ``usage``): ``per_task``, ``per_shot``,
``per_second`` (with ``min_seconds`` per task), ``per_minute``, ``per_hour``, ``minimum``
(money per task, a floor), ``{"unit": "second", "price": 2.0}`` and ``{"unit": "free"}``.

Example:
    >>> usage_money({"per_task": 0.3, "per_shot": 0.00035, "currency": "USD"},
    ...             tasks=1, shots=1000, seconds=None)
    (0.65, '1 task(s) × 0.3 USD + 1000 shot(s) × 0.00035 USD')
"""

from __future__ import annotations

from typing import Any

_TIME_UNITS = {"per_second": 1.0, "per_minute": 60.0, "per_hour": 3600.0}


def normalised(price: dict[str, Any]) -> dict[str, Any]:
    """``{"unit": "second", "price": p}`` spelled as ``{"per_second": p}``."""
    model = dict(price)
    if "unit" in model and "price" in model:
        unit = str(model["unit"]).lower().removeprefix("per_").removeprefix("per ")
        model[f"per_{unit}"] = model["price"]
    return model


def usage_money(
    price: dict[str, Any], *, tasks: int, shots: int | None, seconds: float | None
) -> tuple[float | None, str]:
    """``(money, basis)`` of ``tasks`` tasks, ``shots`` shots in all and ``seconds`` billed.

    ``money`` is ``None`` (and ``basis`` says which figure is missing) when the price needs
    a quantity that is unknown, or when the model has no rate at all.
    """
    model = normalised(price)
    cur = model.get("currency", "USD")
    if model.get("model") == "unpublished":
        return None, f"no list price: {model.get('source', 'the vendor publishes none')}"
    if str(model.get("unit", "")).lower() == "free":
        return 0.0, "free"
    tasks = max(int(tasks), 1)
    money = 0.0
    parts: list[str] = []
    # a rate of 0 still makes the model priced (money 0), it just needs no quantity
    rated = any(_numeric(model.get(k)) for k in ("per_task", "per_shot", *_TIME_UNITS))
    if _rate(model, "per_task"):
        money += float(model["per_task"]) * tasks
        parts.append(f"{tasks} task(s) × {float(model['per_task']):g} {cur}")
    if _rate(model, "per_shot"):
        if shots is None:
            return None, "the number of shots is unknown: pass shots="
        money += float(model["per_shot"]) * shots
        parts.append(f"{shots} shot(s) × {float(model['per_shot']):g} {cur}")
    for key, unit_seconds in _TIME_UNITS.items():
        if not _rate(model, key):
            continue
        if seconds is None:
            return None, "the device time is unknown: pass time_limit= or shots="
        billed = max(float(seconds), float(model.get("min_seconds", 0.0)) * tasks)
        money += float(model[key]) * billed / unit_seconds
        parts.append(f"{billed:.3g} s × {float(model[key]):g} {cur}/{key[4:]}")
    if not rated:
        return None, "no usable rate in the price model"
    minimum = model.get("minimum")
    if isinstance(minimum, (int, float)) and money < float(minimum) * tasks:
        money = float(minimum) * tasks
        parts.append(f"raised to the minimum {float(minimum):g} {cur} per task")
    return round(money, 12), " + ".join(parts)


def cpu_money(cpu_seconds: float, usd_per_vcpu_hour: float) -> float:
    """Local CPU work at a cloud vCPU rate: ``cpu_seconds × rate / 3600``.

    Example:
        >>> cpu_money(3600.0, 0.05)
        0.05
    """
    return cpu_seconds * usd_per_vcpu_hour / 3600.0


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _rate(model: dict[str, Any], key: str) -> bool:
    return _numeric(model.get(key)) and model[key] != 0
