"""README's examples use files that ship with kakehashi, and its `kakehashi solve` lines and
file-reading Python block run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from kakehashi.cli import run

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)
FILE_TOKEN = re.compile(r"[\w./-]+\.(?:mps|qplib|opb|json|txt|gset|bqp|tsp|vrp|dat|toml|ommx)\b")
SOLVE_LINES = [
    line.split("#")[0].strip()
    for lang, body in BLOCKS
    if lang == "bash"
    for line in body.splitlines()
    if line.startswith("kakehashi solve")
]


def test_every_file_an_example_names_ships_with_kakehashi():
    from kakehashi.model.io import data_file

    named = {tok for _, body in BLOCKS for tok in FILE_TOKEN.findall(body)}
    named -= {"report.html"}
    assert named, "the README names no example files"
    for token in named:
        quoted = token.strip("'\"")
        assert (ROOT / quoted).is_file() or data_file(Path(quoted).name).is_file(), token


@pytest.mark.parametrize("line", SOLVE_LINES)
def test_readme_solve_lines_run(line, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    code = run(shlex.split(line)[1:])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "objective" in captured.out


def test_readme_file_block_runs(capsys):
    block = next(body for lang, body in BLOCKS if lang == "python" and "data_file" in body)
    exec(compile("import kakehashi\n" + block, "README.md", "exec"), {})
    assert "maxcut16" in capsys.readouterr().out
