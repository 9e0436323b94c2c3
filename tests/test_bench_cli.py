"""`kakehashi bench` and `kakehashi report` from the command line."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from kakehashi.cli import app

pytest.importorskip("matplotlib")

SUITE = """
[suite]
name = "tiny"
repeats = 2
time_limit = 0.2
backends = [["exact"], ["reference-sa"]]

[[instance]]
name = "mc8"
generator = "maxcut-random"
params = { n = 8, seed = 4 }
best_known = "exact"

[[instance]]
name = "ks8"
generator = "knapsack"
params = { n = 8, seed = 5 }
"""


@pytest.fixture
def suite_file(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SUITE)
    return path


def test_bench_then_report(suite_file, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    res = runner.invoke(app, ["bench", str(suite_file), "--out", str(out), "--time-limit", "0.1"])
    assert res.exit_code == 0, res.output
    assert "8 new runs" in res.output
    assert "classical baseline is exact" in res.output
    for name in ("runs.sqlite", "report.html", "report.md", "report.csv", "report-runs.csv"):
        assert (out / name).is_file(), name
    # resuming: nothing left to do
    res = runner.invoke(
        app, ["bench", str(suite_file), "--out", str(out), "--time-limit", "0.1", "--no-report"]
    )
    assert res.exit_code == 0 and "0 new runs, 8 already stored" in res.output
    # a report from the store alone, with another grid intensity and a named baseline
    html = tmp_path / "again" / "r.html"
    res = runner.invoke(
        app, ["report", str(out / "runs.sqlite"), "--out", str(html), "--grid-intensity", "100",
              "--baseline", "reference-sa"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert html.is_file() and html.with_suffix(".md").is_file()
    assert "classical baseline is reference-sa" in html.read_text()
    assert "100 g-CO2/kWh" in html.read_text()


def test_bench_options(suite_file, tmp_path):
    runner = CliRunner()
    out = tmp_path / "o2"
    res = runner.invoke(
        app, ["bench", str(suite_file), "--backends", "reference-sa", "--repeats", "1",
              "--time-limit", "0.05,0.1", "--instances", "ks*", "--out", str(out), "--no-report"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "1 instances × 1 backends (reference-sa) × 1 repeats × 0.05 s, 0.1 s" in res.output
    assert "2 new runs" in res.output


def test_errors_exit_2_with_a_message(tmp_path, suite_file, monkeypatch, capsys):
    from kakehashi.cli import main

    cases = [
        (["bench", "no-such-suite"], "no suite named"),
        (["bench", str(suite_file), "--backends", "no-such-backend", "--out", str(tmp_path / "x")],
         "none of the requested backends"),
        (["bench", str(suite_file), "--time-limit", "fast", "--out", str(tmp_path / "y")],
         "must be numbers"),
        (["report", str(tmp_path / "nothing")], "no runs store"),
        (["bench", str(suite_file), "--pue", "0.5", "--out", str(tmp_path / "z")], "PUE"),
    ]  # fmt: skip
    for args, message in cases:
        monkeypatch.setattr(sys, "argv", ["kakehashi", *args])
        with pytest.raises(SystemExit) as exc:
            main()
        captured = capsys.readouterr()
        assert exc.value.code == 2, (args, captured.out, captured.err)
        assert message in " ".join((captured.err + captured.out).split()), (args, captured.err)
