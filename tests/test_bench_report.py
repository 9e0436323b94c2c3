"""Comparisons and reports: the classical baseline is always there and always named, the
report holds its charts, tables, machine and timing spread, in HTML, Markdown and CSV."""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import subprocess

import pytest

import kakehashi
from kakehashi.backends.reference_sa import ReferenceSABackend
from kakehashi.errors import KakehashiError

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")


class FakeQuantumInspired(ReferenceSABackend):
    """The reference SA dressed as a quantum-inspired machine, to exercise the honesty rules."""

    name = "fake-qi"
    info = dataclasses.replace(ReferenceSABackend.info, modality="quantum-inspired", vendor="test")


@pytest.fixture(scope="module")
def comparison():
    problems = {
        "maxcut5": kakehashi.examples.small_maxcut(),
        "knapsack10": kakehashi.examples.knapsack(10, seed=4),
    }
    return kakehashi.compare(
        problems,
        ["exact", FakeQuantumInspired()],
        repeats=3,
        time_limit=0.2,
        best_known={"maxcut5": -5.0},
        warmup=False,
    )


def test_comparison_table(comparison):
    table = comparison.table("all")
    assert set(table.backend) == {"exact", "fake-qi"}
    assert set(table.instance) == {"maxcut5", "knapsack10"}
    exact = table[table.backend == "exact"]
    assert (exact.success_p == 1.0).all()  # the exact solver always reaches the optimum
    assert (exact.tts99 == exact.time_median).all()  # p = 1 → TTS99 = t
    for col in ("tts99_lo", "tts99_hi", "time_min", "time_max", "energy_j", "co2_g", "money"):
        assert col in table
    sources = dict(zip(table.instance, table.target_source, strict=False))
    assert sources["maxcut5"] == "given"
    assert sources["knapsack10"] == "best found in this comparison"
    assert comparison.baseline == "exact"
    per_backend = comparison.backends_table()
    assert per_backend.pareto.any()


def test_summary_names_the_classical_baseline_and_the_machine(comparison):
    text = comparison.summary()
    assert "classical baseline is exact" in text
    assert "fake-qi" in text and "same time budget of 200 ms" in text
    assert "cores usable" in text
    assert "Verdict" in text


def test_report_files(comparison, tmp_path):
    paths = comparison.report(tmp_path / "cmp.html")
    page = paths["html"].read_text()
    assert page.startswith("<!DOCTYPE html>")
    charts = re.findall(
        r"<img class='chart' id='chart-([a-z0-9-]+)'[^>]*src='data:image/png;base64,", page
    )
    assert charts == ["tts-curves", "tts99", "quality-time", "pareto"]
    assert "classical baseline is exact" in page
    assert "min / med / max" in page  # the spread of every timing
    assert "Machine:" in page and "Provenance" in page
    assert "http://" not in page and "https://" not in page  # self-contained
    md = paths["markdown"].read_text()
    assert "classical baseline is exact" in md and "### knapsack10" in md
    import pandas as pd

    csv = pd.read_csv(paths["csv"])
    assert {"instance", "backend", "success_p", "tts99", "money", "co2_g"} <= set(csv.columns)
    runs = pd.read_csv(paths["runs_csv"])
    assert len(runs) == 12 and "seed" in runs and "energy_method" in runs


def test_a_comparison_without_a_classical_backend_gets_one(tmp_path):
    cmp = kakehashi.compare(kakehashi.examples.small_maxcut(), [FakeQuantumInspired()],
                            repeats=1, time_limit=0.1, warmup=False,
                            store=tmp_path / "runs.sqlite")  # fmt: skip
    backends = set(cmp.table().backend)
    assert "fake-qi" in backends and len(backends) == 2
    added = (backends - {"fake-qi"}).pop()
    assert kakehashi.get_backend(added).info.modality.startswith("classical")
    assert cmp.baseline == added
    assert any("added as the classical baseline" in n for n in cmp.notes)
    # the note is kept in the store, so a report written later still says so
    from kakehashi.bench.compare import Comparison

    reopened = Comparison.from_store(tmp_path)
    assert any("added as the classical baseline" in n for n in reopened.analysis().notes)
    page = reopened.report(tmp_path / "later.html")["html"].read_text()
    assert "added as the classical baseline" in page


def test_refusing_without_a_classical_baseline():
    with pytest.raises(KakehashiError, match="no classical baseline"):
        kakehashi.compare(kakehashi.examples.small_maxcut(), [FakeQuantumInspired()],
                          repeats=1, time_limit=0.1, baseline="require", warmup=False)  # fmt: skip
    with pytest.raises(KakehashiError, match="cannot run here: unknown backend"):
        kakehashi.compare(kakehashi.examples.small_maxcut(), ["exact"], baseline="no-such-backend")


def test_named_baseline_is_named(tmp_path):
    cmp = kakehashi.compare(kakehashi.examples.small_maxcut(), ["exact"], repeats=1,
                            time_limit=0.1, baseline="reference-sa", warmup=False)  # fmt: skip
    assert cmp.baseline == "reference-sa"
    assert "classical baseline is reference-sa" in cmp.summary()


def test_better_than_best_known_is_flagged():
    cmp = kakehashi.compare({"m": kakehashi.examples.small_maxcut()}, ["exact"], repeats=1,
                            time_limit=0.1, best_known={"m": -4.0}, warmup=False)  # fmt: skip
    assert any("better than the best-known" in w for w in cmp.analysis().warnings)


def test_grid_intensity_override_rescales_co2(comparison):
    base = comparison.analysis()
    other = comparison.analysis(grid_g_per_kwh=base.accounting["grid_g_per_kwh"] * 2)
    a, b = base.runs.co2_grams.sum(), other.runs.co2_grams.sum()
    assert math.isclose(b, 2 * a, rel_tol=1e-9)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_report_renders_in_headless_chromium(comparison, tmp_path):
    """Chromium loads the page and decodes every embedded chart (the page's own script
    records how many images rendered with a non-zero size)."""
    page = comparison.report(tmp_path / "r.html")["html"]
    out = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
         "--dump-dom", page.as_uri()],
        capture_output=True, timeout=120,
    )  # fmt: skip
    dom = out.stdout.decode()
    body = re.search(r"<body[^>]*>", dom)
    assert body, out.stderr.decode()[-2000:]
    total = re.search(r'data-charts-total="(\d+)"', body.group(0))
    rendered = re.search(r'data-charts-rendered="(\d+)"', body.group(0))
    assert total and rendered, body.group(0)
    assert int(total.group(1)) == 4 and int(rendered.group(1)) == 4


def test_a_named_baseline_must_be_classical(monkeypatch):
    from kakehashi.bench import baseline

    monkeypatch.setattr(baseline, "_lookup", lambda name: (FakeQuantumInspired(), ""))
    with pytest.raises(KakehashiError, match="not a classical one"):
        baseline.ensure_baseline([kakehashi.get_backend("exact")], "fake-qi")
