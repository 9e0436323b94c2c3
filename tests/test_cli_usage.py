"""Command-line usage errors: one line on stderr naming the mistake, exit status 2, never a
traceback — whatever copy of click typer carries. Error text is printed literally."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from kakehashi import __version__
from kakehashi.cli import run
from kakehashi.cli_support import print_line, usage_error_types

CLI = [sys.executable, "-m", "kakehashi.cli"]


def run_in_process(capsys, *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


# (arguments, a fragment the one error line must contain)
USAGE_ERRORS = [
    (["--bogus"], "No such option: --bogus"),
    (["sovle", "x"], "Did you mean 'solve'"),
    (["solve"], "Missing argument"),
    (["solve", "/nonexistent", "--time-limit", "abc"], "--time-limit"),
    (["solve", "x.json", "--seed", "1.5"], "--seed"),
    (["solve", "x.json", "--time-limit", "inf"], "finite number of seconds"),
    (["solve", "x.json", "--time-limit", "nan"], "finite number of seconds"),
    (["solve", "x.json", "--time-limit", "-1"], "finite number of seconds"),
    (["solve", "x.json", "--time-limit", "0"], "finite number of seconds"),
    (["solve", "x.json", "--time-limit", "1e308"], "one week"),
    (["solve", "x.json", "--seed", "-1"], "[0, 9223372036854775807]"),
    (["solve", "x.json", "--seed", "99999999999999999999999"], "[0, 9223372036854775807]"),
    (["solve", "x.json", "--max-cost", "nan"], "--max-cost"),
    (["solve", "x.json", "extra-argument"], "unexpected extra argument"),
    (["demo", "--time-limit", "inf"], "finite number of seconds"),
    (["demo", "--seed", "-5"], "[0, 9223372036854775807]"),
    (["backends", "--jsn"], "No such option"),
    (["apps", "bogus"], "No such command 'bogus'"),
    (["apps", "run"], "Missing argument"),
    (["apps", "run", "knapsack", "--size", "abc"], "--size"),
    (["apps", "run", "knapsack", "--size", "1000000000"], "outside [1, 1000000]"),
    (["apps", "run", "knapsack", "--size", "0"], "outside [1, 1000000]"),
    (["apps", "run", "knapsack", "--size", "5", "--seed", "-3"], "--seed"),
    (["apps", "run", "knapsack", "--size", "5", "--time-limit", "inf"], "finite"),
    (["apps", "run", "qap", "--size", "1000"], "outside [1, 60]"),
    (["bench"], "Missing argument"),
    (["bench", "quick", "--repeats", "0"], "[1, 10000]"),
    (["bench", "quick", "--repeats", "x"], "--repeats"),
    (["bench", "quick", "--time-limit", "inf"], "finite number of seconds"),
    (["bench", "quick", "--time-limit", "1,-2"], "finite number of seconds"),
    (["bench", "quick", "--seed", "-1"], "--seed"),
    (["bench", "quick", "--pue", "0"], "--pue"),
    (["bench", "quick", "--target-gap", "-1"], "--target-gap"),
    (["report"], "Missing argument"),
    (["explain", "x.json", "--time-limit", "-1"], "finite number of seconds"),
    (["explain", "x.json", "--max-cost", "nan"], "--max-cost"),
    (["router", "bogus"], "No such command"),
    (["router", "train", "x.sqlite", "--out", "m.npz", "--seed", "-1"], "--seed"),
    (["report", "nowhere.sqlite", "--target-gap", "nan"], "--target-gap"),
]


@pytest.mark.parametrize(
    ("args", "needle"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS]
)
def test_usage_error_is_one_line_and_exit_2(capsys, args, needle):
    code, out, err = run_in_process(capsys, *args)
    lines = error_lines(err)
    assert code == 2, (out, err)
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in out + err


@pytest.mark.parametrize("args", [[], ["apps"]])
def test_bare_group_prints_help_then_exits_2(capsys, args):
    code, out, err = run_in_process(capsys, *args)
    assert code == 2
    assert "Usage" in out + err
    assert "missing a command" in err and "Traceback" not in out + err


def test_version(capsys):
    code, out, _ = run_in_process(capsys, "--version")
    assert code == 0
    assert out.strip() == f"kakehashi {__version__}"


def test_help_exits_0(capsys):
    code, out, _ = run_in_process(capsys, "solve", "--help")
    assert code == 0 and "--time-limit" in out


def test_bench_out_naming_a_file_is_refused(capsys, tmp_path):
    afile = tmp_path / "not-a-folder"
    afile.write_text("")
    code, _, err = run_in_process(
        capsys, "bench", "quick", "--backends", "exact", "--out", str(afile)
    )
    assert code == 2
    assert "is a file, not a folder" in err and len(error_lines(err)) == 1


def test_error_text_is_printed_literally(capsys, tmp_path):
    # brackets survive, and a path containing Rich's closing tag raises no MarkupError
    path = tmp_path / "a[/]b[bold].json"
    code, _, err = run_in_process(capsys, "solve", str(path))
    assert code == 2
    assert "a[/]b[bold].json" in err


def test_print_line_keeps_brackets_and_joins_lines():
    from rich.console import Console

    console = Console(record=True, width=40)
    print_line(console, "error", "bold red", "pip install 'kakehashi[mip]'\n  then retry [/]")
    text = console.export_text()
    assert text == "error: pip install 'kakehashi[mip]' then retry [/]\n"


def test_usage_errors_of_the_vendored_click_are_recognised():
    import typer

    assert any(issubclass(typer.BadParameter, t) for t in usage_error_types())


@pytest.mark.parametrize(
    "args",
    [["--bogus"], ["solve"], ["solve", "/nonexistent", "--time-limit", "abc"]],
)
def test_installed_entry_point_never_traces(args):
    # a real process: what a user (and the before-stop check) sees
    out = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert len(error_lines(out.stderr)) == 1 and out.stderr.startswith("error: ")


@pytest.mark.parametrize(
    ("size", "seed", "needle"),
    [(10**9, 1, "outside [1, 1000000]"), (0, 1, "outside"), (1.5, 1, "whole number"),
     (5, -1, "negative"), (5, 1.5, "not an integer")],
)  # fmt: skip
def test_generators_check_size_and_seed_before_allocating(size, seed, needle):
    from kakehashi.apps import get_use_case
    from kakehashi.errors import KakehashiError

    with pytest.raises(KakehashiError, match=re.escape(needle)):
        get_use_case("knapsack").generate(size, seed=seed)


def test_control_characters_in_messages_are_escaped():
    from kakehashi.cli_support import one_line

    assert one_line("a\x1b[31mb\tc\n  d 東京") == "a\\x1b[31mb\\tc d 東京"
