"""CodeCarbon's OfflineEmissionsTracker against kakehashi's own Meter + power model, on the
same short runs the benchmarks make (0.5 s and 2 s of numeric work).

Prints, side by side: the tracker's start/stop overhead, its energy split (CPU, RAM), and the
Meter's energy (RAPL with the idle baseline subtracted when readable, else the power model).
Needs ``pip install 'kakehashi[codecarbon]'`` (codecarbon 3.3.x).

    python benchmarks/energy_codecarbon.py
"""

from __future__ import annotations

import logging
import time

import numpy as np

from kakehashi.bench.accounting import AccountingConfig, Meter, rapl_domains


def work(seconds: float) -> None:
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        np.linalg.eigvalsh(rng.random((200, 200)))


def main() -> None:
    try:
        from codecarbon import OfflineEmissionsTracker
    except ImportError:
        raise SystemExit("pip install 'kakehashi[codecarbon]' to run this comparison") from None
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    cfg = AccountingConfig()
    print(f"RAPL readable here: {bool(rapl_domains())}")
    print("work  | codecarbon start / stop | cc CPU J | cc RAM J | cc total J | Meter J (method)")
    for seconds in (0.5, 0.5, 2.0):
        t0 = time.perf_counter()
        tracker = OfflineEmissionsTracker(
            country_iso_code="JPN", save_to_file=False, log_level="error",
            measure_power_secs=1, tracking_mode="process",
        )  # fmt: skip
        tracker.start()
        t1 = time.perf_counter()
        with Meter(use_rapl=True) as m:
            work(seconds)
        t2 = time.perf_counter()
        tracker.stop()
        t3 = time.perf_counter()
        d = tracker.final_emissions_data
        if m.rapl_joules is not None:
            ours, how = m.rapl_joules * cfg.pue, "RAPL − idle, × PUE"
        else:
            ours = cfg.model_joules(
                cpu_seconds=m.cpu_seconds, rss_gb=m.rss_gb, wall_seconds=m.wall_seconds
            )
            how = f"model: {m.cpu_seconds:.2f} CPU-s, {m.rss_gb:.2f} GiB"
        print(
            f"{seconds:4.1f}s | {t1 - t0:6.2f} s / {t3 - t2:5.2f} s     | "
            f"{d.cpu_energy * 3.6e6:8.2f} | {d.ram_energy * 3.6e6:8.2f} | "
            f"{d.energy_consumed * 3.6e6:10.2f} | {ours:.2f} ({how})"
        )


if __name__ == "__main__":
    main()
