"""Energy, CO2 and money per run: measured where the machine lets us, modelled (and said so)
where it does not. Prices and power draws come from the backend catalog
(``kakehashi/backends/catalog.toml``): its price model and power model decide how each run is
accounted.

Energy, in order of preference:

1. **RAPL** — the CPU's own energy counters (``/sys/class/powercap/intel-rapl*/energy_uj``,
   package and DRAM domains) read before and after the run, times the PUE. RAPL counts the
   whole socket, so other load on the machine is included: benchmark on a quiet machine.
   The counters are root-only on most Linux systems since 2020, so this is often unavailable.
2. **Power model** (Green Algorithms style, Lannelongue et al., *Adv. Sci.* 2021)::

       E = (W_core × CPU-seconds + W_GB × resident GiB × wall-seconds) × PUE

   with ``W_core`` from the catalog's ``[defaults.cpu]`` (6.25 W: a Xeon Platinum 8480+'s
   350 W TDP over 56 cores), ``W_GB`` = 0.3725 W per GiB of memory (Green Algorithms) and
   PUE 1.58 (Uptime Institute Global Data Center Survey 2023 average). CPU-seconds are
   measured (all threads, and child processes), not assumed.
3. **Machines elsewhere** (catalog power model ``system``: a QPU, a cloud device): the
   catalog's system power draw × the machine time the vendor bills (``qpu_access_time``,
   ``usage_seconds`` or ``billed_seconds`` reported by the backend, else its solve time),
   plus the local client's share by the model above. Where the catalog has no power figure
   (``unknown``) only the local client is counted, and the report says so.

CO2 = energy (kWh) × grid intensity; the default is Japan's grid — 421 g-CO2/kWh, the
Electric Power Council for a Low Carbon Society's preliminary figure for FY2023 (April
2023 – March 2024; 0.421 kg-CO2/kWh of electricity sold). Pass your own with
``AccountingConfig(grid=GridIntensity(...))`` or ``--grid-intensity``.

Money: what the backend reports, else its catalog price model — ``cpu-time`` (measured
CPU-seconds at the catalog's cloud vCPU rate, USD 0.044625 per vCPU-hour: AWS EC2 on-demand
``c7i.large``, us-east-1, 2024), ``usage`` (per task + per shot + per billed second) or
``unpublished`` (unknown, said so).
"""

from __future__ import annotations

import dataclasses
import glob
import math
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


def _catalog_cpu_defaults() -> dict[str, Any]:
    """The catalog's local-CPU rates and sources (with fallbacks when it cannot be read)."""
    out = {
        "watts_per_core": 6.25,
        "power_source": "Intel ARK, Xeon Platinum 8480+ (TDP 350 W, 56 cores)",
        "usd_per_vcpu_hour": 0.044625,
        "price_source": "AWS EC2 on-demand c7i.large (2 vCPU) USD 0.08925/h, us-east-1, 2024",
    }
    try:
        from kakehashi.backends.catalog import cpu_rates, load_catalog

        cpu = load_catalog().get("defaults", {}).get("cpu", {})
        out["usd_per_vcpu_hour"], out["watts_per_core"] = cpu_rates()
        out["price_source"] = cpu.get("price_source", out["price_source"])
        out["power_source"] = cpu.get("power_source", out["power_source"])
    except (ImportError, KakehashiError):
        pass
    return out


@dataclasses.dataclass
class AccountingConfig:
    """The assumptions behind every energy, CO2 and money figure (recorded with each run).

    ``watts_per_core`` and ``cpu_price_per_hour`` default to the backend catalog's
    ``[defaults.cpu]`` (environment overrides included).

    Example:
        >>> cfg = AccountingConfig(watts_per_core=10.0, pue=1.2)
        >>> round(cfg.model_joules(cpu_seconds=2.0, rss_gb=1.0, wall_seconds=1.0), 3)
        24.447
    """

    watts_per_core: float | None = None
    watts_per_gb: float = 0.3725
    pue: float = 1.58
    grid: GridIntensity = JAPAN_GRID
    cpu_price_per_hour: float | None = None
    cpu_price_source: str = ""
    power_source: str = ""
    currency: str = "USD"
    use_rapl: bool = True

    def __post_init__(self) -> None:
        cpu = _catalog_cpu_defaults()
        if self.watts_per_core is None:
            self.watts_per_core = float(cpu["watts_per_core"])
            self.power_source = self.power_source or str(cpu["power_source"])
        if self.cpu_price_per_hour is None:
            self.cpu_price_per_hour = float(cpu["usd_per_vcpu_hour"])
            self.cpu_price_source = self.cpu_price_source or str(cpu["price_source"])
        for name in ("watts_per_core", "watts_per_gb", "cpu_price_per_hour"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise KakehashiError(f"{name} must be a number ≥ 0, got {value!r}")
        if not self.pue >= 1:
            raise KakehashiError(f"PUE is ≥ 1 by definition, got {self.pue}; use 1.0 for none")
        if not self.grid.grams_per_kwh >= 0:
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
            "power_source": self.power_source,
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


# how long the idle baseline is sampled (once per process, before the first metered run)
IDLE_SAMPLE_SECONDS = 0.5
_IDLE_WATTS: dict[tuple[str, ...], float] = {}


def idle_watts(domains: list[Path], seconds: float = IDLE_SAMPLE_SECONDS) -> float | None:
    """Power the RAPL domains draw while this process does nothing (W), sampled once per
    process and cached: the machine's baseline — idle power plus whatever else runs —, which
    a measured run's energy must not be billed for."""
    key = tuple(str(d) for d in domains)
    if key not in _IDLE_WATTS:
        before = _read_rapl(domains)
        t0 = time.perf_counter()
        time.sleep(seconds)
        after = _read_rapl(domains)
        elapsed = time.perf_counter() - t0
        if before is None or after is None or elapsed <= 0:
            return None
        _IDLE_WATTS[key] = _rapl_delta(before, after) / elapsed
    return _IDLE_WATTS[key]


def subtract_idle(raw_joules: float, idle_w: float | None, wall_seconds: float) -> float:
    """A run's own energy: the counter's reading less the idle baseline over its wall time.

    Example:
        >>> subtract_idle(30.0, 20.0, 1.0), subtract_idle(10.0, 20.0, 1.0)
        (10.0, 0.0)
    """
    if idle_w is None:
        return raw_joules
    return max(0.0, raw_joules - idle_w * wall_seconds)


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
    rapl_joules: float | None = None  # the run's own energy: idle baseline subtracted
    rapl_raw_joules: float | None = None  # the counters' reading over the run
    idle_watts: float | None = None

    def __enter__(self) -> Meter:
        self._domains = rapl_domains() if self.use_rapl else []
        if self._domains:
            self.idle_watts = idle_watts(self._domains)
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
                self.rapl_raw_joules = _rapl_delta(self._rapl0, after)
                self.rapl_joules = subtract_idle(
                    self.rapl_raw_joules, self.idle_watts, self.wall_seconds
                )


# ---------------------------------------------------------------------- per-run accounting
# where backends report the machine time a vendor bills, in seconds (D-Wave's QPU access
# time, IBM's usage seconds, or an explicit billed_seconds)
_BILLED_KEYS = ("billed_seconds", "usage_seconds", "qpu_access_time", "qpu_access_seconds")


def _rounds(result: Any) -> list[dict[str, Any]]:
    info = getattr(result, "info", {}) or {}
    rounds = info.get("rounds")
    return [r for r in rounds if isinstance(r, dict)] if isinstance(rounds, list) else []


def billed_seconds(result: Any) -> tuple[float, str]:
    """Machine time a vendor bills for ``result``, and where the figure came from.

    Backends report it in ``result.info`` or ``result.timing.vendor`` (``billed_seconds``,
    ``usage_seconds``, D-Wave's ``qpu_access_time`` in seconds); otherwise the solve time
    stands in for it.
    """
    vendor = getattr(result.timing, "vendor", {}) or {}
    for where in (getattr(result, "info", {}) or {}, vendor):
        for key in _BILLED_KEYS:
            value = where.get(key)
            if isinstance(value, (int, float)) and value >= 0:
                return float(value), key
    return float(result.timing.solve or result.timing.total), "solve time"


def shots(result: Any) -> int:
    """Shots/reads the run used: summed over penalty rounds when the sampler reports them,
    else the number of samples returned."""
    total = 0
    for where in [getattr(result, "info", {}) or {}, *_rounds(result)]:
        for key in ("shots_used", "shots", "num_reads", "num_shots"):
            value = where.get(key)
            if isinstance(value, (int, float)) and value > 0:
                total += int(value)
                break
    return total or int(result.num_samples)


def tasks(result: Any) -> int:
    """Tasks (jobs, circuit executions) the run sent: reported, else one per penalty round."""
    rounds = _rounds(result)
    reported = [r.get("circuit_executions") for r in rounds]
    if reported and all(isinstance(v, int) for v in reported):
        return max(1, sum(reported))
    return max(1, len(rounds))


def is_remote(info: Any) -> bool:
    """True for machines that run elsewhere and draw their own power (QPUs, cloud solvers)."""
    region = (getattr(info, "region", "local") or "local").lower()
    return region != "local"


def price(
    price_model: dict[str, Any], *, seconds: float, shots: int, tasks: int = 1
) -> float | None:
    """Money for a run under a price model, or ``None`` when it cannot be priced: the same
    formula as the estimate before the run (:func:`kakehashi.backends.pricing.usage_money`;
    ``shots`` is the total over tasks).

    Example:
        >>> price({"per_task": 0.3, "per_shot": 0.00035}, seconds=0.1, shots=1000)
        0.65
    """
    if not price_model:
        return None
    from kakehashi.backends.pricing import usage_money

    return usage_money(price_model, tasks=tasks, shots=shots, seconds=seconds)[0]


def backend_profile(backend: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"price": ..., "power": ..., "region": ...}`` for a backend: its catalog entry
    (the device's, when ``options`` name one), else what its ``info`` says."""
    options = options or {}
    name = getattr(backend, "name", None)
    try:
        from kakehashi.backends.catalog import device_entry

        e = device_entry(name, options.get("device"))
        return {"price": dict(e["price"]), "power": dict(e["power"]), "region": e["region"]}
    except (ImportError, KakehashiError, KeyError, TypeError):
        pass
    info = getattr(backend, "info", None)
    pm = dict(getattr(info, "price_model", {}) or {})
    watts = getattr(info, "power_watts", None)
    if not is_remote(info):
        power = {"model": "cpu"}
    elif watts is not None:
        power = {"model": "system", "watts": watts, "source": getattr(info, "power_source", "")}
    else:
        power = {"model": "unknown", "source": getattr(info, "power_source", "")}
    if not pm and not is_remote(info):
        pm = {"model": "cpu-time"}
    return {"price": pm, "power": power, "region": getattr(info, "region", "local")}


def account_run(
    meter: Meter,
    result: Any,
    backend: Any,
    cfg: AccountingConfig,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Energy (J), CO2 (g) and money of one run, each with the method that produced it."""
    profile = backend_profile(backend, options)
    pm, power = profile["price"], profile["power"]
    local_j = (
        meter.rapl_joules * cfg.pue
        if meter.rapl_joules is not None
        else cfg.model_joules(
            cpu_seconds=meter.cpu_seconds, rss_gb=meter.rss_gb, wall_seconds=meter.wall_seconds
        )
    )
    idle = getattr(meter, "idle_watts", None)
    local_method = (
        f"measured: RAPL, idle baseline {idle:.3g} W subtracted, x PUE {cfg.pue:g}"
        if meter.rapl_joules is not None and idle is not None
        else f"measured: RAPL x PUE {cfg.pue:g}"
        if meter.rapl_joules is not None
        else f"estimated: model {cfg.watts_per_core:g} W/core x CPU-s + {cfg.watts_per_gb:g} "
        f"W/GiB x GiB x s, x PUE {cfg.pue:g}"
    )
    seconds, billed_from = billed_seconds(result)
    energy_j, method = local_j, local_method
    if power.get("model") == "system" and isinstance(power.get("watts"), (int, float)):
        energy_j = float(power["watts"]) * seconds + local_j
        method = (
            f"catalog power {float(power['watts']):g} W x billed {seconds:.4g} s ({billed_from}) "
            f"+ local client ({local_method})"
        )
    elif power.get("model") == "unknown":
        method = f"remote machine's power not published: local client only ({local_method})"
    money, currency, money_method = None, str(pm.get("currency", cfg.currency)), ""
    resources = getattr(result, "resources", None)
    reported = getattr(resources, "money", None)
    if reported is not None:
        money, currency, money_method = float(reported), resources.currency, "reported by backend"
    elif pm.get("model") == "cpu-time":
        from kakehashi.backends.pricing import cpu_money

        money = cpu_money(meter.cpu_seconds, cfg.cpu_price_per_hour)
        money_method = (
            f"CPU time at {cfg.cpu_price_per_hour:g} {cfg.currency}/vCPU-hour "
            f"({cfg.cpu_price_source})"
        )
    elif pm.get("model") == "unpublished":
        money_method = f"no list price ({pm.get('source', 'the vendor publishes none')})"
    else:
        n_tasks, n_shots = tasks(result), shots(result)
        money = price(pm, seconds=seconds, shots=n_shots, tasks=n_tasks)
        money_method = (
            f"catalog price ({_describe_price(pm)}) on {n_tasks} task(s), {n_shots} shot(s), "
            f"{seconds:.4g} s billed"
            if money is not None
            else "no usable price model in the catalog"
        )
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
    keys = ("per_task", "per_shot", "per_second", "min_seconds", "unit", "price")
    parts = [f"{k}={pm[k]}" for k in keys if k in pm]
    src = pm.get("source")
    return ", ".join(parts) + (f"; source {src}" if src else "")
