"""Malformed input gives one clear KakehashiError naming the file, the fault and the fix."""

from __future__ import annotations

import gzip
import json

import pytest

from kakehashi.errors import InputFormatError, KakehashiError, UnsupportedError
from kakehashi.model.io import data_file, load, save
from kakehashi.model.problem import Problem


def _load_error(path, **options) -> str:
    with pytest.raises(InputFormatError) as info:
        load(path, **options)
    message = str(info.value)
    assert "Traceback" not in message and "Stack backtrace" not in message
    return message


def test_truncated_mps_is_reported_not_read_as_a_smaller_problem(tmp_path):
    lines = data_file("small_mip.mps").read_text().splitlines()
    cut = tmp_path / "cut.mps"
    cut.write_text("\n".join(lines[: lines.index("RHS")]) + "\n")  # stops after COLUMNS
    message = _load_error(cut)
    assert str(cut) in message
    assert "ENDATA" in message and "truncated" in message
    assert "re-download" in message


def test_truncated_gzipped_mps(tmp_path):
    data = gzip.compress(data_file("small_mip.mps").read_bytes())
    cut = tmp_path / "cut.mps.gz"
    cut.write_bytes(data[: len(data) // 2])
    message = _load_error(cut)
    assert str(cut) in message and "gzip" in message


def test_mps_with_broken_section_names_the_file_and_ommx_reason(tmp_path):
    bad = tmp_path / "bad.mps"
    bad.write_text("NAME X\nOBJSENSE\n    MAXIMIZE\nROWS\n N obj\nCOLUMNS\n x obj 1\nENDATA\n")
    message = _load_error(bad)
    assert str(bad) in message and "MPS" in message


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            {"vartype": "BINARY", "h": {"a": 1}, "J": {"a,b": 1}},
            ["'h'", "'J'", "'linear'", "'quadratic'"],
        ),
        ({"type": "SPIN", "linear": {"a": 1}}, ["'type'", "'vartype'"]),
        ({"linear": {"a": 1}}, ["'vartype' is missing"]),
        ({"vartype": "BINARY"}, ["neither 'linear' nor 'quadratic'"]),
        ({"vartype": "BINARY", "quadratic": {"a,b,c": 1}}, ["'a,b,c'", "exactly two"]),
        ({"vartype": "BINARY", "linear": {"a": "one"}}, ["linear['a']", "not a finite number"]),
        ([1, 2], ["top level is a list"]),
    ],
)
def test_wrong_json_keys_and_values(tmp_path, doc, expected):
    f = tmp_path / "q.json"
    f.write_text(json.dumps(doc))
    message = _load_error(f)
    assert str(f) in message
    for part in expected:
        assert part in message


def test_unknown_vartype(tmp_path):
    f = tmp_path / "q.json"
    f.write_text(json.dumps({"vartype": "INTEGER", "linear": {"a": 1}}))
    message = _load_error(f)
    assert "unknown vartype 'INTEGER'" in message and '"BINARY"' in message and '"SPIN"' in message


def test_invalid_json_syntax(tmp_path):
    f = tmp_path / "q.json"
    f.write_text('{"vartype": "BINARY", "linear": {"a": 1}')
    message = _load_error(f)
    assert str(f) in message and "not valid JSON" in message


def test_file_of_unknown_format(tmp_path):
    f = tmp_path / "notes.xyz"
    f.write_text("these are meeting notes, not a problem\n")
    message = _load_error(f)
    assert str(f) in message
    assert "cannot tell the file's format" in message and "format=" in message
    assert "mps" in message and "json" in message


def test_unknown_format_name(tmp_path):
    message = _load_error(data_file("bqp50.txt"), format="lp")
    assert "unknown format 'lp'" in message


def test_missing_file(tmp_path):
    missing = tmp_path / "nope" / "G99.txt"
    message = _load_error(missing)
    assert str(missing) in message and "no such file" in message and "check the path" in message


def test_directory_instead_of_file(tmp_path):
    message = _load_error(tmp_path)
    assert "directory" in message


def test_truncated_gset(tmp_path):
    lines = data_file("maxcut16.txt").read_text().splitlines()
    f = tmp_path / "g.txt"
    f.write_text("\n".join(lines[:20]) + "\n")
    message = _load_error(f, format="gset")
    assert (
        "declares 48 edges" in message
        and "19 complete edge lines" in message
        and "truncated" in message
    )


def test_gset_vertex_out_of_range(tmp_path):
    f = tmp_path / "g.gset"
    f.write_text("3 2\n1 2 1\n2 7 1\n")
    message = _load_error(f)
    assert "edge line 2" in message and "outside 1..3" in message


def test_bqp_index_out_of_range_and_truncation(tmp_path):
    message = _load_error(data_file("bqp50.txt"), index=11)
    assert "index=11" in message and "1..10" in message
    f = tmp_path / "cut.bqp"
    f.write_text(data_file("bqp50.txt").read_text()[:5000])
    message = _load_error(f, index=3)
    assert "ends inside problem" in message


def test_option_that_does_not_apply():
    message = _load_error(data_file("maxcut16.txt"), index=2)
    assert "'index'" in message and "gset takes no options" in message


def test_opb_errors(tmp_path):
    f = tmp_path / "cut.opb"
    f.write_text("min: +1 x1 -2 x2 ;\n+1 x1 +1 x2 >= 1 ;\n+1 x1 +1")
    assert "without ';'" in _load_error(f)
    g = tmp_path / "rel.opb"
    g.write_text("min: +1 x1 ;\n+1 x1 +1 x2 ;\n")
    assert "line 2" in _load_error(g)
    h = tmp_path / "nonlinear.opb"
    h.write_text("min: +1 x1 ;\n+1 x1 x2 +1 x3 >= 1 ;\n")
    with pytest.raises(UnsupportedError, match=r"line 2.*product"):
        load(h)


def test_every_reader_error_is_a_kakehashi_error(tmp_path):
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00\x01\x02 binary junk")
    for fmt in ("mps", "qplib", "ommx", "opb", "gset", "bqp", "json"):
        with pytest.raises(KakehashiError):
            load(garbage, format=fmt)


def test_save_to_unknown_format_or_missing_folder(tmp_path):
    p = Problem.from_arrays(linear=[1.0])
    with pytest.raises(UnsupportedError, match="writes ommx, mps, json"):
        save(p, tmp_path / "p.lp")
    with pytest.raises(InputFormatError, match="does not exist"):
        save(p, tmp_path / "missing" / "p.json")
