"""`kakehashi apps`: the registry, list and run, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from kakehashi.apps import get_use_case, use_case_names
from kakehashi.cli import app
from kakehashi.errors import KakehashiError

MINE = ("tsp", "cvrp", "qap", "knapsack", "binpacking", "maxcut", "partition")


def run(*args: str):
    """In-process run (a subprocess costs seconds of imports); errors come back as exceptions."""
    return CliRunner().invoke(app, ["apps", *args])


def test_registry_holds_every_use_case_with_its_contract():
    names = use_case_names()
    for name in MINE:
        assert name in names
        uc = get_use_case(name)
        assert uc.title and uc.baseline_tool and uc.sense in ("min", "max")


def test_unknown_use_case_names_the_close_ones():
    with pytest.raises(KakehashiError, match="Did you mean tsp"):
        get_use_case("tps")


def test_list_shows_use_cases_and_shipped_instances():
    out = run("list", "--json")
    assert out.exit_code == 0, out.output
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert set(MINE) <= set(rows)
    assert {"burma14", "ulysses16", "gr17"} <= set(rows["tsp"]["instances"])
    assert "nug12" in rows["qap"]["instances"]


def test_run_prints_answer_check_and_baseline():
    out = run("run", "knapsack", "--size", "10", "--seed", "3", "--backend", "exact")
    assert out.exit_code == 0, out.output
    assert "check      valid" in out.stdout
    assert "baseline   dynamic programming" in out.stdout
    assert "gap        +0.00%" in out.stdout


def test_run_json_on_a_generated_tsp():
    out = run("run", "tsp", "--size", "5", "--seed", "1", "--backend", "exact", "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["valid"] and doc["baseline"]["status"] == "optimal"
    assert doc["answer"]["objective"] == doc["baseline"]["answer"]["objective"]
    assert sorted(doc["answer"]["tour"]) == list(range(5))


def test_run_without_an_instance_or_size_is_a_clear_error():
    out = run("run", "tsp", "--backend", "exact")
    assert isinstance(out.exception, KakehashiError)
    assert "--instance" in str(out.exception) and "burma14" in str(out.exception)


def test_run_with_an_unknown_instance_exits_2_with_one_line():
    cmd = [sys.executable, "-m", "kakehashi.cli", "apps", "run", "tsp", "--instance", "nowhere17"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2
    assert "nowhere17" in out.stderr and "Traceback" not in out.stderr


def test_a_missing_baseline_tool_is_reported_not_fatal(monkeypatch):
    from kakehashi.errors import BackendUnavailableError

    ks = get_use_case("knapsack")

    def unavailable(data, time_limit=None):
        raise BackendUnavailableError("the baseline needs X; pip install 'kakehashi[mip]'")

    monkeypatch.setattr(ks, "baseline", unavailable)
    run = ks.run(ks.generate(8, seed=0), backend="exact")
    assert run.validation.valid and run.baseline is None
    assert "pip install" in run.baseline_error
    assert "baseline   not run" in run.summary()


def test_cvrp_without_enough_slots_is_refused_with_advice():
    from kakehashi.apps.cvrp import CvrpData

    d = CvrpData(
        distances=[[0, 1, 1, 1, 1, 1]] + [[1] * 6 for _ in range(5)],
        demand=[0, 2, 2, 2, 2, 2],
        capacity=5,
        vehicles=2,
    )  # each truck fits 2 customers of demand 2: 4 slots for 5 customers
    with pytest.raises(KakehashiError, match="add trucks"):
        get_use_case("cvrp").build(d)
