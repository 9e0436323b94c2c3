"""Energy, CO2 and money per run: measured where the machine lets us, modelled (and said so)
where it does not.

Energy, in order of preference:

1. **RAPL** — the CPU's own energy counters (``/sys/class/powercap/intel-rapl*/energy_uj``,
   package and DRAM domains) read before and after the run, times the PUE. RAPL counts the
   whole socket, so other load on the machine is included: benchmark on a quiet machine.
   The counters are root-only on most Linux systems since 2020, so this is often unavailable.
2. **Power model** (Green Algorithms style, Lannelongue et al., *Adv. Sci.* 2021)::

       E = (W_core × CPU-seconds + W_GB × resident GiB × wall-seconds) × PUE

   with ``W_core`` = 10 W per core in use (an assumption: a server CPU's TDP shared over its
   cores is 4–12 W, e.g. 280 W / 64 cores; set yours), ``W_GB`` = 0.3725 W per GiB of memory
   (Green Algorithms) and PUE 1.58 (Uptime Institute Global Data Center Survey 2023 average).
3. **Cloud machines** (a QPU, a remote service): the catalog's system power draw (W) × the
   machine time the vendor bills (``billed_seconds`` reported by the backend, else its solve
   time), plus the local client's share by the model above.

CO2 = energy (kWh) × grid intensity; the default is Japan's grid — 421 g-CO2/kWh, the
Electric Power Council for a Low Carbon Society's preliminary figure for FY2023 (April
2023 – March 2024; 0.421 kg-CO2/kWh of electricity sold). Pass your own with
``AccountingConfig(grid=GridIntensity(...))`` or ``--grid-intensity``.

Money: what the backend reports, else its catalog price model (per task, per shot, per
second of billed machine time), else local CPU time priced at a cloud rate — by default
USD 0.0446 per vCPU-hour (AWS EC2 on-demand ``c7i.large``, 2 vCPU at USD 0.08925/h,
us-east-1, 2024).
"""

from __future__ import annotations

import dataclasses
import glob
import os
import resource
import time
from pathlib import Path
from typing import Any

from kakehashi.errors import KakehashiError

RAPL_GLOB = "/sys/class/powercap/intel-rapl*"


@dataclasses.dataclass(frozen=True)
class GridIntensity:
    """Grams of CO2 emitted per kWh drawn from a grid, with where the figure comes from."""

    grams_per_kwh: float
    region: str
    source: str
    year: int | None = None

    def describe(self) -> str:
        year = f", {self.year}" if self.year else ""
        return f"{self.grams_per_kwh:g} g-CO2/kWh ({self.region}{year}; {self.source})"


JAPAN_GRID = GridIntensity(
    421.0,
    "Japan",
    "Electric Power Council for a Low Carbon Society (ELCS), preliminary FY2023 "
    "(Apr 2023 - Mar 2024) emission factor 0.421 kg-CO2/kWh of electricity sold",
    2023,
)


@dataclasses.dataclass
class AccountingConfig:
    """The assumptions behind every energy, CO2 and money figure (recorded with each run).

    Example:
        >>> cfg = AccountingConfig(pue=1.2)
        >>> round(cfg.model_joules(cpu_seconds=2.0, rss_gb=1.0, wall_seconds=1.0), 3)
        24.447
    """

    watts_per_core: float = 10.0
    watts_per_gb: float = 0.3725
    pue: float = 1.58
    grid: GridIntensity = JAPAN_GRID
    cpu_price_per_hour: float = 0.0446
    cpu_price_source: str = (
        "AWS EC2 on-demand c7i.large (2 vCPU) USD 0.08925/h, us-east-1, 2024, per vCPU-hour"
    )
    currency: str = "USD"
    use_rapl: bool = True

    def __post_init__(self) -> None:
        for name in ("watts_per_core", "watts_per_gb", "cpu_price_per_hour"):
            if getattr(self, name) < 0:
                raise KakehashiError(f"{name} must be ≥ 0, got {getattr(self, name)}")
        if self.pue < 1:
            raise KakehashiError(f"PUE is ≥ 1 by definition, got {self.pue}; use 1.0 for none")
        if self.grid.grams_per_kwh < 0:
            raise KakehashiError("grid intensity must be ≥ 0 g-CO2/kWh")

    def model_joules(self, *, cpu_seconds: float, rss_gb: float, wall_seconds: float) -> float:
        """Energy by the power model: cores in use, resident memory, facility overhead."""
        it = self.watts_per_core * cpu_seconds + self.watts_per_gb * rss_gb * wall_seconds
        return it * self.pue

    def co2_grams(self, joules: float | None) -> float | None:
        return None if joules is None else joules / 3.6e6 * self.grid.grams_per_kwh

    def describe(self) -> dict[str, Any]:
        """The assumptions as a flat dict (stored with runs, printed in reports)."""
        return {
            "watts_per_core": self.watts_per_core,
            "watts_per_gb": self.watts_per_gb,
            "pue": self.pue,
            "grid_g_per_kwh": self.grid.grams_per_kwh,
            "grid": self.grid.describe(),
            "cpu_price_per_hour": self.cpu_price_per_hour,
            "cpu_price_source": self.cpu_price_source,
            "currency": self.currency,
        }


# ---------------------------------------------------------------------- RAPL
def rapl_domains() -> list[Path]:
    """Readable RAPL energy counters: CPU packages and DRAM (sub-zones of a package other
    than DRAM are inside the package figure and are left out to avoid double counting)."""
    out = []
    for zone in sorted(glob.glob(RAPL_GLOB) + glob.glob(RAPL_GLOB + "/intel-rapl*")):
        path = Path(zone)
        depth = path.name.count(":")
        try:
            name = (path / "name").read_text().strip()
            (path / "energy_uj").read_text()
        except OSError:
            continue
        if depth == 1 or name == "dram":
            out.append(path)
    return out


def _read_rapl(domains: list[Path]) -> list[tuple[int, int]] | None:
    try:
        readings = []
        for d in domains:
            energy = int((d / "energy_uj").read_text())
            try:
                wrap = int((d / "max_energy_range_uj").read_text())
            except OSError:
                wrap = 0
            readings.append((energy, wrap))
        return readings
    except (OSError, ValueError):
        return None


def _rapl_delta(before: list[tuple[int, int]], after: list[tuple[int, int]]) -> float:
    total = 0
    for (e0, wrap), (e1, _) in zip(before, after, strict=True):
        # the counter wraps at max_energy_range_uj
        total += e1 - e0 if e1 >= e0 else e1 + wrap - e0
    return total / 1e6


# ---------------------------------------------------------------------- measuring a run
def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _rss_gb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        pass
    # ru_maxrss is in KiB on Linux (bytes on macOS): a peak, the best we have there
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**30 if os.uname().sysname == "Darwin" else 2**20)


@dataclasses.dataclass
class Meter:
    """Measures one run: wall time, CPU time (all threads and children), resident memory,
    and RAPL energy when the counters are readable.

    Example:
        >>> with Meter(use_rapl=False) as m:
        ...     _ = sum(range(10000))
        >>> m.wall_seconds >= 0 and m.cpu_seconds >= 0 and m.rapl_joules is None
        True
    """

    use_rapl: bool = True
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    rss_gb: float = 0.0
    rapl_joules: float | None = None

    def __enter__(self) -> Meter:
        self._domains = rapl_domains() if self.use_rapl else []
        self._rapl0 = _read_rapl(self._domains) if self._domains else None
        self._cpu0 = _cpu_seconds()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_seconds = time.perf_counter() - self._t0
        self.cpu_seconds = max(0.0, _cpu_seconds() - self._cpu0)
        self.rss_gb = _rss_gb()
        if self._rapl0 is not None:
            after = _read_rapl(self._domains)
            if after is not None:
                self.rapl_joules = _rapl_delta(self._rapl0, after)


# ---------------------------------------------------------------------- per-run accounting
_BILLED_KEYS = ("billed_seconds", "usage_seconds", "qpu_access_seconds")


def billed_seconds(result: Any) -> tuple[float, str]:
    """Machine time a vendor bills for ``result``, and where the figure came from.

    Backends report it as ``result.info["billed_seconds"]`` (or in ``timing.vendor``);
    otherwise the solve time stands in for it.
    """
    for where in (getattr(result, "info", {}) or {}, getattr(result.timing, "vendor", {}) or {}):
        for key in _BILLED_KEYS:
            value = where.get(key)
            if isinstance(value, (int, float)) and value >= 0:
                return float(value), key
    return float(result.timing.solve or result.timing.total), "solve time"


def shots(result: Any) -> int:
    """Shots/reads a vendor bills per task: reported by the backend, else the sample count."""
    info = getattr(result, "info", {}) or {}
    for key in ("shots", "num_reads", "num_shots"):
        value = info.get(key)
        if isinstance(value, (int, float)) and value > 0:
            return int(value)
    return int(result.num_samples)


def is_remote(info: Any) -> bool:
    """True for machines that run elsewhere and draw their own power (QPUs, cloud solvers)."""
    region = (getattr(info, "region", "local") or "local").lower()
    modality = getattr(info, "modality", "") or ""
    return region != "local" or modality.startswith("quantum")


def price(
    price_model: dict[str, Any], *, seconds: float, shots: int, tasks: int = 1
) -> float | None:
    """Money for one task under a catalog price model, or ``None`` when the model is empty.

    Understands ``per_task``, ``per_shot``, ``per_second``, ``per_minute``, ``per_hour``
    (summed when several are given), ``minimum`` (per task), or ``{"unit": ..., "price": ...}``.

    Example:
        >>> price({"per_task": 0.3, "per_shot": 0.00035}, seconds=0.1, shots=1000)
        0.65
    """
    if not price_model:
        return None
    model = dict(price_model)
    if "unit" in model and "price" in model:
        unit = str(model["unit"]).lower().removeprefix("per_").removeprefix("per ")
        model[f"per_{unit}"] = model["price"]
    if str(model.get("unit", "")).lower() == "free":
        return 0.0
    rates = {
        "per_task": tasks,
        "per_shot": shots * tasks,
        "per_second": seconds,
        "per_minute": seconds / 60.0,
        "per_hour": seconds / 3600.0,
    }
    known = [k for k in rates if isinstance(model.get(k), (int, float))]
    if not known:
        return None
    total = sum(float(model[k]) * rates[k] for k in known)
    minimum = model.get("minimum")
    if isinstance(minimum, (int, float)):
        total = max(total, float(minimum) * tasks)
    return round(total, 12)


def account_run(
    meter: Meter, result: Any, backend_info: Any, cfg: AccountingConfig
) -> dict[str, Any]:
    """Energy (J), CO2 (g) and money of one run, each with the method that produced it."""
    local_j = (
        meter.rapl_joules * cfg.pue
        if meter.rapl_joules is not None
        else cfg.model_joules(
            cpu_seconds=meter.cpu_seconds, rss_gb=meter.rss_gb, wall_seconds=meter.wall_seconds
        )
    )
    local_method = (
        f"RAPL x PUE {cfg.pue:g}"
        if meter.rapl_joules is not None
        else f"model: {cfg.watts_per_core:g} W/core x CPU-s + {cfg.watts_per_gb:g} W/GiB x "
        f"GiB x s, x PUE {cfg.pue:g}"
    )
    seconds, billed_from = billed_seconds(result)
    watts = getattr(backend_info, "power_watts", None)
    energy_j, method = local_j, local_method
    if is_remote(backend_info):
        if watts is not None:
            energy_j = float(watts) * seconds + local_j
            method = (
                f"catalog power {float(watts):g} W x billed {seconds:.4g} s ({billed_from}) "
                f"+ local client ({local_method})"
            )
        else:
            method = f"remote machine's power unknown: local client only ({local_method})"
    money, currency, money_method = None, cfg.currency, ""
    resources = getattr(result, "resources", None)
    reported = getattr(resources, "money", None)
    pm = dict(getattr(backend_info, "price_model", {}) or {})
    if reported is not None:
        money, currency, money_method = float(reported), resources.currency, "reported by backend"
    else:
        priced = price(pm, seconds=seconds, shots=shots(result))
        if priced is not None:
            money = priced
            currency = str(pm.get("currency", cfg.currency))
            money_method = f"catalog price model ({_describe_price(pm)}) on {seconds:.4g} s billed"
        elif not is_remote(backend_info):
            money = meter.cpu_seconds / 3600.0 * cfg.cpu_price_per_hour
            money_method = (
                f"local CPU time at {cfg.cpu_price_per_hour:g} {cfg.currency}/vCPU-hour "
                f"({cfg.cpu_price_source})"
            )
        else:
            money_method = "no price model in the catalog for this remote machine"
    return {
        "energy_joules": energy_j,
        "energy_method": method,
        "co2_grams": cfg.co2_grams(energy_j),
        "grid_g_per_kwh": cfg.grid.grams_per_kwh,
        "money": money,
        "currency": currency,
        "money_method": money_method,
        "billed_seconds": seconds,
    }


def _describe_price(pm: dict[str, Any]) -> str:
    parts = [f"{k}={v}" for k, v in pm.items() if k.startswith("per_") or k in ("unit", "price")]
    src = pm.get("source")
    return ", ".join(parts) + (f"; source {src}" if src else "")
