"""The runs store has one writer: a second benchmark on the same store is refused with a clear
error, two processes adding the same machine do not collide, a finished run is never
overwritten; suite values are checked with the key named."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kakehashi.bench.store import RunStore
from kakehashi.bench.suite import parse_suite
from kakehashi.errors import InputFormatError, KakehashiError

MACHINE = {
    "fingerprint": "f1", "hostname": "h", "cpu_model": "c", "cores_logical": 2,
    "cores_usable": 2, "memory_gb": 1.0, "os": "linux", "python": "3.11", "rapl": False,
}  # fmt: skip
KEY = {"instance": "i", "backend": "b", "repeat": 0, "time_limit": 1.0, "seed": 7}


def test_second_writer_is_refused_while_the_first_writes(tmp_path):
    path = tmp_path / "runs.sqlite"
    first, second = RunStore(path), RunStore(path)
    with first.writing():
        with pytest.raises(KakehashiError, match="another kakehashi benchmark is writing"):
            with second.writing():
                pass
        with first.writing():  # re-entrant for the holder
            pass
    with second.writing():  # free again once the first is done
        pass


def test_second_writer_in_another_process_is_refused(tmp_path):
    path = tmp_path / "runs.sqlite"
    store = RunStore(path)
    script = textwrap.dedent(
        f"""
        from kakehashi.bench.store import RunStore
        from kakehashi.errors import KakehashiError
        try:
            with RunStore({str(path)!r}).writing():
                print("acquired")
        except KakehashiError as exc:
            print("refused:", exc)
        """
    )
    with store.writing():
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.startswith("refused: another kakehashi benchmark"), out.stderr
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "acquired", out.stderr


def test_the_same_machine_added_twice_gets_one_id(tmp_path):
    path = tmp_path / "runs.sqlite"
    a, b = RunStore(path), RunStore(path)
    assert a.machine_id(MACHINE) == b.machine_id(MACHINE) == a.machine_id(MACHINE)
    assert len(a.machines()) == 1


def test_a_finished_run_is_never_overwritten_an_errored_one_is_retried():
    store = RunStore(":memory:")
    assert store.record_run({**KEY, "status": "error", "error": "boom"})
    assert store.record_run({**KEY, "status": "ok", "objective": 1.0})
    assert not store.record_run({**KEY, "status": "ok", "objective": 99.0})
    assert not store.record_run({**KEY, "status": "error", "error": "later"})
    (row,) = store.runs()
    assert row["status"] == "ok" and row["objective"] == 1.0


BASE = {"instance": [{"name": "m", "generator": "maxcut-5"}]}


@pytest.mark.parametrize(
    ("suite", "needle"),
    [
        ({"time_limit": "abc"}, "time_limit = 'abc'"),
        ({"time_limit": float("inf")}, "time_limit = inf"),
        ({"time_limit": [1, -2]}, "time_limit"),
        ({"time_limit": []}, "time_limit"),
        ({"repeats": "x"}, "repeats = 'x'"),
        ({"repeats": 0}, "repeats = 0"),
        ({"repeats": True}, "repeats = True"),
        ({"backends": 5}, "backends = 5"),
        ({"backends": ["tabu", 3]}, "backends = list"),
        ({"seed": -1}, "seed = -1"),
        ({"seed": 1.5}, "seed = 1.5"),
        ({"name": 3}, "name = 3"),
        ({"max_variables": {"exact": "x"}}, "max_variables.exact = 'x'"),
        ({"max_variables": 4}, "max_variables = 4"),
        ({"backend_options": {"sa": 1}}, "backend_options.sa = 1"),
    ],
)
def test_suite_values_are_checked_with_the_key_named(suite, needle):
    with pytest.raises(InputFormatError, match="suite") as exc:
        parse_suite({**BASE, "suite": suite})
    assert needle in str(exc.value)


@pytest.mark.parametrize(
    "instance",
    [
        {"name": "m", "generator": "maxcut-5", "params": 3},
        {"name": "m", "generator": "maxcut-5", "tags": "fast"},
        {"name": "m", "generator": "maxcut-5", "best_known": float("nan")},
    ],
)
def test_instance_values_are_checked(instance):
    with pytest.raises(InputFormatError, match="instance 'm'"):
        parse_suite({"instance": [instance]})


def test_suite_that_is_not_a_table():
    with pytest.raises(InputFormatError, match=r"\[suite\] must be a table"):
        parse_suite({**BASE, "suite": 5})


def test_bench_on_an_out_folder_in_use_exits_2(tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text('[suite]\nname = "s"\n[[instance]]\nname = "m"\ngenerator = "maxcut-5"\n')
    out = tmp_path / "out"
    out.mkdir()
    cmd = [sys.executable, "-m", "kakehashi.cli", "bench", str(suite), "--backends", "exact"]
    with RunStore(out / "runs.sqlite").writing():
        done = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "another kakehashi benchmark is writing" in done.stderr
    assert "Traceback" not in done.stderr
