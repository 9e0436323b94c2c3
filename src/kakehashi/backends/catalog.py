"""The backend catalog (catalog.toml) as Python: BackendInfo, availability, cost and energy.

The catalog is data: one TOML entry per backend name with its family, modality, vendor,
hardware, limits, accepted forms, price model, power draw, TRL and region. Backends take
their :class:`~kakehashi.backends.base.BackendInfo` from it with :func:`info_for`, check
whether they can run here with :func:`catalog_availability`, and estimate money and energy
before a run with :func:`estimate` — the single place where prices are applied, so every
backend (local, annealer, gate-based) is priced the same way.

Users override any field without editing the package: ``KAKEHASHI_CATALOG=/path/to.toml``
(same layout, merged over the built-in file), ``KAKEHASHI_CPU_USD_PER_VCPU_HOUR`` and
``KAKEHASHI_CPU_WATTS_PER_CORE`` for local CPU work.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import functools
import math
import os
import tomllib
from pathlib import Path
from typing import Any

from kakehashi.backends.base import MODALITIES, Availability, BackendInfo, module_available
from kakehashi.backends.pricing import cpu_money, usage_money
from kakehashi.errors import BudgetError, KakehashiError

CATALOG_PATH = Path(__file__).with_name("catalog.toml")
OVERRIDE_ENV = "KAKEHASHI_CATALOG"
CPU_PRICE_ENV = "KAKEHASHI_CPU_USD_PER_VCPU_HOUR"
CPU_WATTS_ENV = "KAKEHASHI_CPU_WATTS_PER_CORE"

REQUIRED_FIELDS = (
    "family",
    "modality",
    "vendor",
    "hardware",
    "technology",
    "accepts",
    "max_variables",
    "connectivity",
    "max_shots",
    "trl",
    "region",
    "extra",
    "requires",
    "credentials",
    "description",
    "price",
    "power",
)
ACCEPTED_FORMS = ("qubo", "constrained", "mip", "circuit")
PRICE_MODELS = ("cpu-time", "usage", "unpublished")
POWER_MODELS = ("cpu", "system", "unknown")
NONE = "none"  # the catalog's word for "no limit / not applicable" (TOML has no null)


class CatalogError(KakehashiError):
    """The catalog (or a user's override of it) is malformed or lacks an entry."""


# ---------------------------------------------------------------------- loading
@functools.lru_cache(maxsize=1)
def load_catalog() -> dict[str, Any]:
    """The parsed catalog: the built-in file with ``$KAKEHASHI_CATALOG`` merged over it.

    Example:
        >>> cat = load_catalog()
        >>> cat["backends"]["highs"]["modality"]
        'classical exact'
    """
    with CATALOG_PATH.open("rb") as fh:
        data = tomllib.load(fh)
    override = os.environ.get(OVERRIDE_ENV)
    if override:
        path = Path(override).expanduser()
        try:
            with path.open("rb") as fh:
                extra = tomllib.load(fh)
        except FileNotFoundError:
            raise CatalogError(
                f"{OVERRIDE_ENV}={override} names a file that does not exist; fix the path "
                "or unset the variable"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"the catalog override {path} is not valid TOML: {exc}") from None
        data = _deep_merge(data, extra)
    return data


def reload_catalog() -> dict[str, Any]:
    """Forget the cached catalog (after changing ``$KAKEHASHI_CATALOG``) and load it again."""
    load_catalog.cache_clear()
    entry.cache_clear()
    return load_catalog()


def catalog_names() -> list[str]:
    """Every backend name the catalog describes (registered here or not)."""
    return list(load_catalog()["backends"])


@functools.cache
def entry(name: str) -> dict[str, Any]:
    """The catalog entry of backend ``name``, checked, with CPU defaults filled in.

    Example:
        >>> entry("scip")["extra"]
        'mip'
    """
    backends = load_catalog()["backends"]
    if name not in backends:
        raise CatalogError(
            f"backend {name!r} has no entry in the catalog ({CATALOG_PATH.name}); add one "
            f"with the fields {', '.join(REQUIRED_FIELDS)}"
        )
    return _checked(name, _fill_defaults(copy.deepcopy(backends[name])))


def device_entry(name: str, device: Any = None) -> dict[str, Any]:
    """The entry of ``name`` with the fields of the device table entry matching ``device``.

    ``device`` is matched against the entry's ``devices`` keys as shell-style patterns
    (``"*ionq/Aria*"``, ``"fake*"``); a device object is matched by its ``name`` or ``arn``.

    Example:
        >>> device_entry("qaoa-ibm", "FakeSherbrooke")["price"]["model"]
        'cpu-time'
    """
    base = entry(name)
    if device is None:
        return base
    label = _device_label(device)
    for pattern, fields in base.get("devices", {}).items():
        if fnmatch.fnmatch(label.lower(), pattern.lower()):
            merged = {k: v for k, v in base.items() if k != "devices"}
            merged = _deep_merge(merged, copy.deepcopy(fields))
            # a device's own price/power replace the backend's wholesale, never half-merge
            for key in ("price", "power"):
                if key in fields:
                    merged[key] = copy.deepcopy(fields[key])
            merged["device"] = label
            return _checked(f"{name} (device {label})", _fill_defaults(merged))
    return {**base, "device": label}


def _device_label(device: Any) -> str:
    if isinstance(device, str):
        return device
    for attr in ("arn", "name", "backend_name"):
        value = getattr(device, attr, None)
        if callable(value):
            try:
                value = value()
            except TypeError:
                value = None
        if isinstance(value, str):
            return value
    return type(device).__name__


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _fill_defaults(e: dict[str, Any]) -> dict[str, Any]:
    """CPU-priced entries take currency, source and date from ``[defaults.cpu]``."""
    cpu = load_catalog().get("defaults", {}).get("cpu", {})
    price = e.get("price")
    if isinstance(price, dict) and price.get("model") == "cpu-time":
        price.setdefault("currency", cpu.get("currency", "USD"))
        price.setdefault("source", cpu.get("price_source", ""))
        price.setdefault("as_of", cpu.get("price_as_of", ""))
        price.setdefault("verified", False)
    power = e.get("power")
    if isinstance(power, dict) and power.get("model") == "cpu":
        power.setdefault("source", cpu.get("power_source", ""))
    e.setdefault("threads", 1)
    return e


def _checked(name: str, e: dict[str, Any]) -> dict[str, Any]:
    missing = [f for f in REQUIRED_FIELDS if f not in e]
    if missing:
        raise CatalogError(f"catalog entry {name!r} lacks {', '.join(missing)}; add them")
    if e["modality"] not in MODALITIES:
        raise CatalogError(
            f"catalog entry {name!r} has modality {e['modality']!r}; use one of "
            f"{', '.join(MODALITIES)}"
        )
    bad_forms = set(e["accepts"]) - set(ACCEPTED_FORMS)
    if bad_forms:
        raise CatalogError(
            f"catalog entry {name!r} accepts unknown forms {sorted(bad_forms)}; use "
            f"{', '.join(ACCEPTED_FORMS)}"
        )
    trl = e["trl"]
    if not (isinstance(trl, int) and 1 <= trl <= 9):
        raise CatalogError(f"catalog entry {name!r} has trl {trl!r}; use an integer 1..9")
    price, power = e["price"], e["power"]
    if price.get("model") not in PRICE_MODELS:
        raise CatalogError(
            f"catalog entry {name!r} has price model {price.get('model')!r}; use one of "
            f"{', '.join(PRICE_MODELS)}"
        )
    for key in ("currency", "source", "as_of"):
        if not price.get(key):
            raise CatalogError(f"catalog entry {name!r}: price.{key} is missing; add it")
    if power.get("model") not in POWER_MODELS:
        raise CatalogError(
            f"catalog entry {name!r} has power model {power.get('model')!r}; use one of "
            f"{', '.join(POWER_MODELS)}"
        )
    if power["model"] == "system" and not isinstance(power.get("watts"), (int, float)):
        raise CatalogError(f"catalog entry {name!r}: power.watts is missing; add it")
    if not power.get("source"):
        raise CatalogError(f"catalog entry {name!r}: power.source is missing; add it")
    return e


def _none(value: Any) -> Any:
    return None if value == NONE else value


# ---------------------------------------------------------------------- BackendInfo
def cpu_rates() -> tuple[float, float]:
    """``(USD per vCPU-hour, W per busy core)`` for local CPU work, environment first."""
    cpu = load_catalog().get("defaults", {}).get("cpu", {})
    return (
        _env_float(CPU_PRICE_ENV, cpu.get("usd_per_vcpu_hour", 0.0)),
        _env_float(CPU_WATTS_ENV, cpu.get("watts_per_core", 0.0)),
    )


def _env_float(var: str, default: float) -> float:
    raw = os.environ.get(var)
    if raw is None or raw == "":
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        raise CatalogError(f"{var}={raw!r} is not a number; set it to e.g. 0.05") from None
    if not (math.isfinite(value) and value >= 0):
        raise CatalogError(f"{var}={raw!r} must be a finite number ≥ 0")
    return value


def thread_count(e: dict[str, Any], options: dict[str, Any] | None = None) -> int:
    """Threads a CPU backend occupies: an explicit option, else the catalog's ``threads``."""
    options = options or {}
    for key in ("num_workers", "threads", "num_threads"):
        value = options.get(key)
        if isinstance(value, int) and value > 0:
            return value
    threads = e.get("threads", 1)
    if threads == "all":
        return os.cpu_count() or 1
    return max(1, int(threads))


def info_for(name: str) -> BackendInfo:
    """The :class:`BackendInfo` of backend ``name``, built from its catalog entry.

    Example:
        >>> info_for("highs").modality
        'classical exact'
    """
    e = entry(name)
    power = e["power"]
    if power["model"] == "cpu":
        watts: float | None = thread_count(e) * cpu_rates()[1]
    elif power["model"] == "system":
        watts = float(power["watts"])
    else:
        watts = None
    return BackendInfo(
        family=e["family"],
        modality=e["modality"],
        vendor=e["vendor"],
        hardware=e["hardware"],
        technology=e["technology"],
        accepts=tuple(e["accepts"]),
        max_variables=_none(e["max_variables"]),
        connectivity=e["connectivity"],
        max_shots=_none(e["max_shots"]),
        price_model=copy.deepcopy(e["price"]),
        power_watts=watts,
        power_source=power["source"],
        trl=e["trl"],
        region=e["region"],
        extra=_none(e["extra"]),
        description=e["description"],
    )


def catalog_availability(name: str, device: Any = None) -> Availability:
    """Whether backend ``name`` can run here: its Python packages (``requires``) importable,
    and — when it needs credentials — one of its environment variables set. ``device``
    selects a device table entry (a local fake device needs no credentials).

    The reason and the fix are exact: the missing module and the ``pip install`` that
    provides it, or the environment variable(s) to set.

    Example:
        >>> catalog_availability("exact").ok
        True
    """
    e = device_entry(name, device)
    extra = _none(e["extra"])
    for module in e["requires"]:
        avail = module_available(module, extra or "all")
        if not avail:
            return avail
    creds = list(e["credentials"])
    if creds and not any(os.environ.get(var) for var in creds):
        which = creds[0] if len(creds) == 1 else "one of " + ", ".join(creds)
        return Availability(
            False,
            f"no credentials: {which} is not set",
            f"export {creds[0]}=<your credential>",
        )
    return Availability(True)


# ---------------------------------------------------------------------- estimates
@dataclasses.dataclass
class Estimate:
    """Money and energy a run would take, before it runs. ``None`` means unknown.

    ``seconds`` is the time the machine is busy (CPU wall time × threads for local
    backends is in ``cpu_seconds``); ``basis`` says in words how the figures were made.
    """

    backend: str
    money: float | None
    currency: str
    energy_joules: float | None
    seconds: float | None
    cpu_seconds: float | None = None
    shots: int | None = None
    tasks: int | None = None
    device: str | None = None
    basis: str = ""
    price_source: str = ""
    power_source: str = ""
    upper_bound: bool = False  # True when seconds is a time limit the run may not use up

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def default_seconds(backend: Any, e: dict[str, Any], options: dict[str, Any]) -> float | None:
    """The wall time a local run may take: the time limit, else the backend's default."""
    tl = options.get("time_limit")
    if tl is not None:
        return float(tl)
    if "default_seconds" in e:
        return float(e["default_seconds"])
    dtl = getattr(backend, "default_time_limit", None)
    return None if dtl is None else float(dtl)


def estimate(backend: Any, problem: Any = None, **options: Any) -> Estimate:
    """Money and energy of running ``problem`` on ``backend`` with ``options``, from the catalog.

    Local CPU backends cost ``threads × seconds`` at the configured cloud vCPU rate, where
    seconds is the time limit (an upper bound: heuristics may stop earlier, exact solvers
    stop at optimality). Cloud backends cost ``per_task × tasks + per_shot × shots +
    per_second × device seconds``; shots come from ``shots=``/``num_reads=`` or the
    catalog's default, tasks from ``tasks=`` (a QAOA backend passes its number of circuit
    executions). Energy is power × busy time; unknown where the catalog has no figure.

    Example:
        >>> import kakehashi
        >>> est = estimate("highs", kakehashi.examples.knapsack(8), time_limit=10)
        >>> est.currency, est.money > 0, est.upper_bound
        ('USD', True, True)
    """
    if isinstance(backend, str):
        from kakehashi.backends.base import get_backend

        name = backend
        try:
            backend = get_backend(name)
        except KakehashiError:
            backend = None
    else:
        name = backend.name
    e = device_entry(name, options.get("device"))
    price, power = e["price"], e["power"]
    usd_per_vcpu_hour, watts_per_core = cpu_rates()
    threads = thread_count(e, options)
    local = price["model"] == "cpu-time" or power["model"] == "cpu"
    est = Estimate(
        backend=name,
        money=None,
        currency=price["currency"],
        energy_joules=None,
        seconds=None,
        device=e.get("device"),
        price_source=price["source"],
        power_source=power["source"],
    )
    if local:
        seconds = _local_seconds(backend, e, problem, options)
        if seconds is not None:
            est.seconds = seconds
            est.cpu_seconds = seconds * threads
            est.upper_bound = e.get("runtime", "time_limit") == "time_limit"
    else:
        est.shots = _first_int(options, ("shots", "num_reads"), e.get("default_shots"))
        est.tasks = _first_int(options, ("tasks",), e.get("default_tasks", 1)) or 1
        est.seconds = _device_seconds(e, est.shots, est.tasks, options)

    if price["model"] == "cpu-time":
        if est.cpu_seconds is not None:
            est.money = cpu_money(est.cpu_seconds, usd_per_vcpu_hour)
            est.basis = (
                f"{threads} thread(s) × {est.seconds:.3g} s at {usd_per_vcpu_hour:g} "
                f"{est.currency}/vCPU-hour"
                + (" (time limit: an upper bound)" if est.upper_bound else "")
            )
        else:
            est.basis = "no time limit given and no default: pass time_limit="
    elif price["model"] == "usage":
        total_shots = None if est.shots is None else est.shots * (est.tasks or 1)
        est.money, est.basis = usage_money(
            price, tasks=est.tasks or 1, shots=total_shots, seconds=est.seconds
        )
    else:
        est.basis = f"no list price: {price['source']}"

    if power["model"] == "cpu" and est.cpu_seconds is not None:
        est.energy_joules = est.cpu_seconds * watts_per_core
    elif power["model"] == "system" and est.seconds is not None:
        est.energy_joules = float(power["watts"]) * est.seconds
    return est


def _local_seconds(
    backend: Any, e: dict[str, Any], problem: Any, options: dict[str, Any]
) -> float | None:
    if e.get("runtime") == "enumeration" and problem is not None:
        import numpy as np

        spans = np.where(problem.vtype == 1, 2.0, problem.upper - problem.lower + 1.0)
        assignments = float(np.prod(np.maximum(spans, 1.0)))
        return assignments * float(e.get("seconds_per_assignment", 0.0))
    return default_seconds(backend, e, options)


def _device_seconds(
    e: dict[str, Any], shots: int | None, tasks: int, options: dict[str, Any]
) -> float | None:
    timing = e.get("timing")
    if timing is None:
        secs = options.get("time_limit") or e.get("default_seconds")
        return None if secs is None else float(secs) * tasks
    per_shot = float(timing.get("seconds_per_shot", 0.0))
    if per_shot and shots is None:
        return None
    return tasks * (float(timing.get("seconds_per_task", 0.0)) + per_shot * (shots or 0))


def _first_int(options: dict[str, Any], keys: tuple[str, ...], default: Any) -> int | None:
    for key in keys:
        value = options.get(key)
        if value is not None:
            return int(value)
    return None if default is None or default == NONE else int(default)


def check_budget(est: Estimate, max_cost: float | None) -> None:
    """Raise :class:`BudgetError` when ``est`` may exceed ``max_cost`` (or cannot be priced).

    Example:
        >>> check_budget(Estimate("x", money=2.0, currency="USD", energy_joules=None,
        ...                       seconds=None), max_cost=5.0)  # fits: returns None
    """
    if max_cost is None:
        return
    if not (isinstance(max_cost, (int, float)) and math.isfinite(max_cost) and max_cost >= 0):
        raise BudgetError(f"max_cost must be a number ≥ 0 (in {est.currency}), got {max_cost!r}")
    if est.money is None:
        raise BudgetError(
            f"backend {est.backend!r} cannot be priced before the run ({est.basis or 'no price'}), "
            f"so max_cost={max_cost:g} cannot be guaranteed; set the price in a "
            f"{OVERRIDE_ENV} override, or drop max_cost"
        )
    if est.money > max_cost:
        raise BudgetError(
            f"backend {est.backend!r} would cost about {est.money:.4g} {est.currency} "
            f"({est.basis}), more than max_cost={max_cost:g}; nothing was sent. Lower the "
            "time limit, shots or tasks, raise max_cost, or choose a cheaper backend"
        )


def describe_price(price: dict[str, Any]) -> str:
    """A short human line for a price model, for `kakehashi backends`."""
    model = price.get("model")
    cur = price.get("currency", "USD")
    if model == "cpu-time":
        return "CPU time"
    if model == "unpublished":
        return "no list price"
    parts = []
    if price.get("per_task"):
        parts.append(f"{price['per_task']:g}/task")
    if price.get("per_shot"):
        parts.append(f"{price['per_shot']:g}/shot")
    if price.get("per_second"):
        parts.append(f"{price['per_second']:g}/s")
    return f"{cur} " + " + ".join(parts) if parts else f"{cur} by device"


def estimate_run(backend: Any, problem: Any, **options: Any) -> Estimate:
    """``backend.estimate(problem, **options)`` where the backend has one (it may know its
    shots and tasks better), else the catalog's generic :func:`estimate`."""
    method = getattr(backend, "estimate", None)
    if callable(method):
        return method(problem, **options)
    return estimate(backend, problem, **options)


def catalog_row(name: str) -> dict[str, Any]:
    """The catalog facts `kakehashi backends` shows for ``name`` (empty when uncatalogued)."""
    try:
        e, info = entry(name), info_for(name)
    except CatalogError:
        return {"price": "?", "power_watts": None, "trl": None}
    return {
        "technology": info.technology,
        "accepts": list(info.accepts),
        "max_variables": info.max_variables,
        "region": info.region,
        "price": describe_price(e["price"]) + (" + by device" if e.get("devices") else ""),
        "price_model": e["price"],
        "power_watts": info.power_watts,
        "power_source": info.power_source,
        "trl": info.trl,
        "extra": info.extra,
    }


def catalog_caption() -> str:
    """The footnote of `kakehashi backends`: how CPU time is priced, what W means."""
    usd, watts = cpu_rates()
    return (
        f"CPU time at {usd:g} USD per vCPU-hour ({CPU_PRICE_ENV}); W = power drawn while "
        f"busy ({watts:g} W per core: {CPU_WATTS_ENV}); prices and sources in "
        "docs/backends.md"
    )
