"""Benchmark metrics and accounting against hand-computed values."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from kakehashi.bench import metrics
from kakehashi.bench.accounting import (
    AccountingConfig,
    GridIntensity,
    Meter,
    _rapl_delta,
    account_run,
    billed_seconds,
    price,
)
from kakehashi.errors import KakehashiError


# ---------------------------------------------------------------------- TTS99
def test_tts99_edges_and_hand_values():
    assert metrics.tts99(0.5, 0.0) == math.inf  # never succeeds
    assert metrics.tts99(0.5, 1.0) == 0.5  # always succeeds: one run
    # t ln(0.01)/ln(1-p): p = 0.5 → 2 * 6.643856 = 13.28771
    assert metrics.tts99(2.0, 0.5) == pytest.approx(2.0 * math.log(0.01) / math.log(0.5))
    assert metrics.tts99(2.0, 0.5) == pytest.approx(13.287712, rel=1e-6)
    assert metrics.tts99(1.0, 0.1) == pytest.approx(43.708690, rel=1e-6)
    # p above the confidence: one run is already enough, never less than one run
    assert metrics.tts99(3.0, 0.995) == 3.0
    assert metrics.tts(1.0, 0.5, confidence=0.5) == 1.0


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_tts_rejects_impossible_probabilities(p):
    with pytest.raises(KakehashiError, match="success probability"):
        metrics.tts99(1.0, p)


def test_tts_with_ci_degenerate_cases():
    est, lo, hi = metrics.tts_with_ci([0.2] * 8, [True] * 8)
    assert (est, lo, hi) == (0.2, 0.2, 0.2)
    est, lo, hi = metrics.tts_with_ci([0.2] * 8, [False] * 8)
    assert est == lo == hi == math.inf
    est, lo, hi = metrics.tts_with_ci([1.0] * 10, [True] * 5 + [False] * 5, seed=3)
    assert est == pytest.approx(metrics.tts99(1.0, 0.5))
    assert lo <= est <= hi and lo >= 1.0


def test_bootstrap_interval_covers_true_tts_on_synthetic_runs():
    """95% intervals should contain the true TTS99 in about 95% of synthetic experiments."""
    p, n, trials = 0.4, 60, 200
    true = metrics.tts99(math.log(2), p)  # run times ~ Exp(1): median ln 2
    covered = 0
    for k in range(trials):
        rng = np.random.default_rng(1000 + k)
        success = rng.random(n) < p
        times = rng.exponential(1.0, n)
        _, lo, hi = metrics.tts_with_ci(times, success, seed=k, resamples=1000)
        covered += lo <= true <= hi
    assert 0.88 <= covered / trials <= 0.99


def test_bootstrap_ci_is_reproducible_and_orders_bounds():
    data = np.random.default_rng(0).normal(10, 2, 50)
    a = metrics.bootstrap_ci(data, lambda x: x.mean(axis=1), seed=5)
    b = metrics.bootstrap_ci(data, lambda x: x.mean(axis=1), seed=5)
    assert a == b and a[0] < data.mean() < a[1]


# ---------------------------------------------------------------------- gap, success, Pareto
def test_gap_and_success_by_sense():
    assert metrics.gap(95.0, 100.0, "max") == pytest.approx(0.05)
    assert metrics.gap(105.0, 100.0, "min") == pytest.approx(0.05)
    assert metrics.gap(-110.0, -100.0, "min") == pytest.approx(-0.1)  # better than target
    assert metrics.gap(3.0, 0.0, "min") == 3.0  # absolute when the target is 0
    assert metrics.gap(None, 1.0, "min") is None
    assert metrics.reached(100.0, 100.0, "max")
    assert not metrics.reached(99.0, 100.0, "max")
    assert metrics.reached(99.0, 100.0, "max", target_gap=0.01)
    assert metrics.reached(0.0, 0.0, "min") and not metrics.reached(1.0, 0.0, "min")


def test_pareto_front_and_geometric_mean():
    pts = np.array([[1, 5, 1], [2, 2, 2], [3, 3, 3], [5, 1, 1], [1, 5, 1]])
    assert metrics.pareto_front(pts).tolist() == [True, True, False, True, True]
    assert metrics.geometric_mean([1, 4, math.inf, None]) == pytest.approx(2.0)
    assert math.isnan(metrics.geometric_mean([math.inf]))


# ---------------------------------------------------------------------- accounting
def test_power_model_and_co2_by_hand():
    cfg = AccountingConfig(watts_per_core=10, watts_per_gb=0.5, pue=1.5,
                           grid=GridIntensity(400, "test", "test"))  # fmt: skip
    # (10 W × 3 CPU-s + 0.5 W/GiB × 2 GiB × 4 s) × 1.5 = (30 + 4) × 1.5 = 51 J
    joules = cfg.model_joules(cpu_seconds=3, rss_gb=2, wall_seconds=4)
    assert joules == pytest.approx(51.0)
    assert cfg.co2_grams(3.6e6) == pytest.approx(400.0)  # 1 kWh at 400 g/kWh
    with pytest.raises(KakehashiError, match="PUE"):
        AccountingConfig(pue=0.9)


def test_price_models():
    assert price({}, seconds=1, shots=10) is None
    assert price({"per_task": 0.3, "per_shot": 0.00035}, seconds=0, shots=1000) == pytest.approx(
        0.65
    )
    assert price({"per_second": 0.00145}, seconds=2.0, shots=1) == pytest.approx(0.0029)
    assert price({"per_hour": 1.6}, seconds=1800, shots=1) == pytest.approx(0.8)
    assert price({"unit": "second", "price": 2.0}, seconds=3, shots=1) == pytest.approx(6.0)
    assert price({"per_second": 1.0, "minimum": 5.0}, seconds=1, shots=1) == pytest.approx(5.0)
    assert price({"unit": "free"}, seconds=3, shots=1) == 0.0


def test_rapl_counter_wraparound():
    assert _rapl_delta([(990, 1000)], [(10, 1000)]) == pytest.approx(20e-6)
    assert _rapl_delta([(100, 1000), (5, 50)], [(300, 1000), (15, 50)]) == pytest.approx(210e-6)


def _fake_result(**info):
    timing = SimpleNamespace(solve=0.25, total=0.3, vendor={})
    return SimpleNamespace(info=info, timing=timing, num_samples=100,
                           resources=SimpleNamespace(money=None, currency="USD"))  # fmt: skip


def _uncatalogued(**info):
    return SimpleNamespace(name="not-in-the-catalog", info=SimpleNamespace(**info))


def test_cloud_machine_uses_power_times_billed_time():
    cfg = AccountingConfig(watts_per_core=10, watts_per_gb=0, pue=1.0)
    meter = Meter(use_rapl=False, wall_seconds=1.0, cpu_seconds=0.1, rss_gb=0.0)
    qpu = _uncatalogued(modality="quantum annealing", region="us-west", power_watts=25000.0,
                        price_model={"per_second": 0.6, "currency": "USD"})  # fmt: skip
    acc = account_run(meter, _fake_result(billed_seconds=0.02), qpu, cfg)
    # 25 kW × 0.02 s + local client 10 W × 0.1 CPU-s
    assert acc["energy_joules"] == pytest.approx(25000 * 0.02 + 1.0)
    assert acc["money"] == pytest.approx(0.6 * 0.02)
    assert "catalog power" in acc["energy_method"]
    assert billed_seconds(_fake_result()) == (0.25, "solve time")


def test_local_cpu_priced_at_cloud_rate():
    cfg = AccountingConfig(cpu_price_per_hour=3.6, pue=1.0, watts_per_gb=0, watts_per_core=10)
    meter = Meter(use_rapl=False, wall_seconds=2.0, cpu_seconds=4.0, rss_gb=1.0)
    cpu = _uncatalogued(modality="classical heuristic", region="local", power_watts=None,
                        price_model={})  # fmt: skip
    acc = account_run(meter, _fake_result(), cpu, cfg)
    assert acc["money"] == pytest.approx(4.0 / 3600 * 3.6)
    assert acc["energy_joules"] == pytest.approx(40.0)
    assert acc["co2_grams"] == pytest.approx(40.0 / 3.6e6 * 421.0)
    assert acc["energy_method"].startswith("estimated: model")


def test_meter_measures_cpu_time():
    with Meter(use_rapl=False) as m:
        sum(i * i for i in range(200_000))
    assert m.wall_seconds > 0 and m.cpu_seconds > 0 and m.rss_gb > 0


def test_catalog_drives_accounting_for_a_qpu_and_a_braket_device():
    cfg = AccountingConfig(watts_per_gb=0, pue=1.0)
    meter = Meter(use_rapl=False, wall_seconds=2.0, cpu_seconds=0.0, rss_gb=0.0)
    qpu_result = _fake_result()
    qpu_result.timing.vendor = {"qpu_access_time": 0.01}
    acc = account_run(meter, qpu_result, SimpleNamespace(name="dwave-qpu"), cfg)
    assert acc["energy_joules"] == pytest.approx(25000 * 0.01)  # catalog: 25 kW system power
    assert acc["money"] is None and acc["money_method"].startswith("no list price")
    braket = _fake_result(rounds=[{"shots": 100, "circuit_executions": 3}])
    acc = account_run(meter, braket, SimpleNamespace(name="qaoa-braket"), cfg,
                      {"device": "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1"})  # fmt: skip
    assert acc["money"] == pytest.approx(3 * 0.30 + 100 * 0.03)  # per task + per shot
    assert "not published" in acc["energy_method"]
