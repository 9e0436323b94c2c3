"""The command line: readable output, JSON on request, one clear line and exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "kakehashi.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


QUBO_JSON = json.dumps(
    {
        "vartype": "BINARY",
        "linear": {"a": -1.0, "b": -1.0, "c": 2.0},
        "quadratic": {"a,b": 2.0, "b,c": -3.0},
        "offset": 0.5,
    }
)


def test_demo_runs_and_prints_results():
    out = run("demo", "--time-limit", "1")
    assert out.returncode == 0, out.stderr
    assert "objective" in out.stdout and "feasible" in out.stdout


def test_backends_lists_exact():
    out = run("backends", "--json")
    assert out.returncode == 0, out.stderr
    names = {row["name"]: row for row in json.loads(out.stdout)}
    assert names["exact"]["available"] is True
    for row in names.values():
        if not row["available"]:
            assert row["reason"] and row["fix"]


def test_solve_json_file(tmp_path):
    path = write(tmp_path, "q.json", QUBO_JSON)
    out = run("solve", str(path), "--backend", "exact", "--json", "--seed", "3")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    # a=1,b=1,c=1: −1 −1 +2 +2 −3 + 0.5 = −0.5; a=0,b=1,c=1: −1+2−3+0.5 = −1.5 (optimum)
    assert result["objective"] == pytest.approx(-1.5)
    assert result["seed"] == 3


def test_solve_readable_summary(tmp_path):
    path = write(tmp_path, "q.json", QUBO_JSON)
    out = run("solve", str(path), "--backend", "exact")
    assert out.returncode == 0, out.stderr
    assert "objective" in out.stdout and "backend    exact" in out.stdout


BAD_INPUTS = {
    "truncated.mps": ("NAME trunc\nROWS\n N obj\n L c1\nCOLUMNS\n    x obj 1 c1", "mps"),
    "wrong_keys.json": (json.dumps({"vartype": "BINARY", "lineaar": {"a": 1}}), "lineaar"),
    "vartype.json": (json.dumps({"vartype": "QUBIT", "linear": {"a": 1}}), "QUBIT"),
    "empty.json": (json.dumps({"vartype": "BINARY", "linear": {}, "quadratic": {}}), "empty"),
    "bounds.mps": (
        "NAME b\nROWS\n N obj\n L c1\nCOLUMNS\n    MARKER 'MARKER' 'INTORG'\n"
        "    x obj 1 c1 1\n    MARKER 'MARKER' 'INTEND'\nRHS\n    rhs c1 4\n"
        "BOUNDS\n LO bnd x 5\n UP bnd x 2\nENDATA\n",
        "bound",
    ),
    "unknown_var.mps": (
        "NAME u\nROWS\n N obj\n L c1\nCOLUMNS\n    x obj 1 c1 1\nRHS\n    rhs c1 4\n"
        "BOUNDS\n UP bnd y 2\nENDATA\n",
        "y",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_clear_line(tmp_path, name):
    text, needle = BAD_INPUTS[name]
    path = write(tmp_path, name, text)
    out = run("solve", str(path), "--backend", "exact")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    assert "error:" in out.stderr
    assert needle.lower() in out.stderr.lower()


def test_missing_file_exits_2(tmp_path):
    out = run("solve", str(tmp_path / "nope.mps"))
    assert out.returncode == 2
    assert "nope.mps" in out.stderr


def test_unknown_backend_exits_2(tmp_path):
    path = write(tmp_path, "q.json", QUBO_JSON)
    out = run("solve", str(path), "--backend", "warp-drive")
    assert out.returncode == 2
    assert "kakehashi backends" in out.stderr


def test_max_cost_refuses_before_running(tmp_path):
    path = write(tmp_path, "q.json", QUBO_JSON)
    out = run("solve", str(path), "--backend", "tabu", "--time-limit", "1", "--max-cost", "1e-9")
    assert out.returncode == 2
    assert "max_cost" in out.stderr and "nothing was sent" in out.stderr
