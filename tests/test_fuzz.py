"""Fuzz suite: malformed files for every reader, odd values for every CLI option and for
``solve``'s arguments. Every case runs in a forked child under a 2 GiB address-space limit and
a per-case alarm (see tests/fuzz_server.py) and must end in a ``KakehashiError`` (exit 2 with
one line for the CLI) — never another exception, a traceback, a memory blow-up or a hang.

Cases: the hand-written ones of issue 10, plus hypothesis-generated mutations (a token
replaced by a nasty value, truncation, deleted or duplicated lines, gzip wrapping) of each
format's shipped example, with a fixed seed so a run is reproducible — 729 cases in all
(``FUZZ_COUNT=1`` prints the count; ``FUZZ_CPU_FILE=path`` has the runner write its CPU time).
"""

from __future__ import annotations

import gzip
import os
import pickle
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kakehashi.apps.base import shipped_instance_dir
from kakehashi.model.io import data_file

# the runner forks and limits address space with setrlimit: POSIX only (CI runs Linux)
pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="the fuzz runner needs os.fork and resource limits"
)
SERVER = Path(__file__).with_name("fuzz_server.py")
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class _Server:
    """The long-lived case runner; restarted if it ever dies."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.cases = 0  # how many cases this test process ran (FUZZ_COUNT=1 prints it)

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def run(self, case: dict) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        data = pickle.dumps(case)
        self.cases += 1
        try:
            self.proc.stdin.write(struct.pack(">I", len(data)) + data)
            self.proc.stdin.flush()
            head = self.proc.stdout.read(4)
            (size,) = struct.unpack(">I", head)
            return pickle.loads(self.proc.stdout.read(size))
        except (BrokenPipeError, struct.error):
            self.proc = None
            return {"outcome": "server died"}


SERVER_PROCESS = _Server()
if os.environ.get("FUZZ_COUNT"):
    import atexit

    def _report() -> None:
        if SERVER_PROCESS.proc is not None:
            SERVER_PROCESS.proc.stdin.close()  # the server ends, writing its CPU time
            SERVER_PROCESS.proc.wait(timeout=60)
        print(f"\nfuzz cases run: {SERVER_PROCESS.cases}", file=sys.stderr)

    atexit.register(_report)


def run_case(case: dict) -> dict:
    return SERVER_PROCESS.run(case)


def assert_clean_reader_outcome(result: dict, name: str) -> None:
    """A reader either reads the file or refuses it with a KakehashiError naming the file."""
    assert result["outcome"] in ("ok", "error"), result.get("traceback", result)
    if result["outcome"] == "error":
        message = result["message"]
        assert message.strip(), result
        if result.get("stage") != "validate":  # Problem.validate speaks of the problem
            assert name in message, message  # every reader error names the file


def read(name: str, data: bytes, **extra) -> dict:
    return run_case({"kind": "read", "name": name, "data": data, **extra})


# Generated cases run under smaller budgets (the same checks, met sooner): a mutation that
# declares 400 000 QPLIB variables is legal under the defaults and takes OMMX ~15 s to build.
SMALL_BUDGET = {"KAKEHASHI_MAX_VARIABLES": "200000", "KAKEHASHI_MAX_TERMS": "2000000"}


# ---------------------------------------------------------------- hand-written cases (issue 10)
def _gz(text: str) -> bytes:
    return gzip.compress(text.encode())


HANDWRITTEN = {
    "gset-huge-n.txt": b"100000000 0\n",
    "gset-huger-n.txt": b"1000000000 0\n",
    "gset-nan.txt": b"nan 1\n1 2 1\n",
    "gset-inf.txt": b"5 inf\n1 2 1\n",
    "gset-1e300.txt": b"1e300 1\n1 2 1\n",
    "gset-weight-nan.txt": b"3 2\n1 2 nan\n2 3 1\n",
    "gset-vertex-1.5.txt": b"3 1\n1.5 2 1\n",
    "gset-vertex-huge.txt": b"3 1\n1 99999999999999999999 1\n",
    "gset-more-edges.txt": b"3 1000000000\n1 2 1\n",
    "gset-empty.txt": b"",
    "gset-text.txt": b"3 1\none two three\n",
    "bqp-huge-n.bqp": b"1\n1000000000 1\n1 1 1\n",
    "bqp-nan.bqp": b"1\nnan 1\n1 1 1\n",
    "bqp-inf-count.bqp": b"inf\n3 1\n1 1 1\n",
    "bqp-1e300.bqp": b"1\n1e300 1\n1 1 1\n",
    "bqp-index-0.bqp": b"1\n3 1\n0 1 1\n",
    "opb-huge-declared.opb": (
        b"* #variable= 10000000000 #constraint= 1\nmin: +1 x1 ;\n+1 x1 >= 1 ;\n"
    ),
    "opb-rhs-nan.opb": b"min: +1 x1 ;\n+1 x1 <= nan ;\n",
    "opb-coef-inf.opb": b"min: +inf x1 x2 x3 ;\n",
    "opb-coef-1e400.opb": b"min: +1e400 x1 ;\n",
    "opb-index-beyond-int64.opb": b"min: +1 x99999999999999999999999 ;\n",
    "opb-index-huge.opb": b"min: +1 x10000000000 ;\n",
    "opb-no-semicolon.opb": b"min: +1 x1\n",
    "opb-product-in-constraint.opb": b"min: +1 x1 ;\n+1 x1 x2 >= 1 ;\n",
    "json-401-digits.json": b'{"vartype":"BINARY","linear":{"a":1' + b"0" * 400 + b"}}",
    "json-5000-digits.json": b'{"vartype":"BINARY","linear":{"a":1' + b"0" * 5000 + b"}}",
    "json-20-digit-label.json": b'{"vartype":"BINARY","linear":{"12345678901234567890":1}}',
    "json-20-digit-subscript.json": (
        b'{"vartype":"BINARY","linear":{"x[12345678901234567890]":1,"x[0]":2}}'
    ),
    "json-deep.json": b"[" * 100000 + b"]" * 100000,
    "json-nan.json": b'{"vartype":"BINARY","linear":{"a":NaN}}',
    "json-infinity-offset.json": b'{"vartype":"BINARY","linear":{"a":1},"offset":-Infinity}',
    "json-unicode-digit.json": '{"vartype":"BINARY","linear":{"²":1,"1":3}}'.encode(),
    "json-list.json": b"[1, 2, 3]",
    "json-huge-quadratic-value.json": (
        b'{"vartype":"BINARY","linear":[1,2],"quadratic":[["0","1",' + b"9" * 401 + b"]]}"
    ),
    "tsp-explicit-huge.tsp": (
        b"NAME: big\nTYPE: TSP\nDIMENSION: 1000000\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
        b"EDGE_WEIGHT_FORMAT: UPPER_ROW\nEDGE_WEIGHT_SECTION\n0 1\n1 0\nEOF\n"
    ),
    "tsp-explicit-3000.tsp": (
        b"NAME: big\nTYPE: TSP\nDIMENSION: 3000\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
        b"EDGE_WEIGHT_FORMAT: FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1\n1 0\nEOF\n"
    ),
    "tsp-coord-nan.tsp": (
        b"NAME: c\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
        b"1 0 0\n2 nan 1\n3 1 1\nEOF\n"
    ),
    "tsp-dimension-text.tsp": b"NAME: c\nDIMENSION: many\nEDGE_WEIGHT_TYPE: EUC_2D\nEOF\n",
    "tsp-dimension-huge.tsp": (
        b"NAME: c\nDIMENSION: 99999999999999999999999\nEDGE_WEIGHT_TYPE: EUC_2D\nEOF\n"
    ),
    "mps-truncated.mps": b"NAME trunc\nROWS\n N obj\n L c1\nCOLUMNS\n    x obj 1 c1",
    "mps-garbage.mps": b"\x00\x01\x02 not an mps file\n",
    "ommx-garbage.ommx": b"\x08\x96\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01garbage",
    "gz-truncated.txt.gz": _gz("16 40\n1 2 1\n")[:-6],
    "gz-not-gzip.txt.gz": b"\x1f\x8bthis is not a gzip stream",
}
# odd but well-formed: read as scalars named by their full label
READABLE = {"json-20-digit-label.json", "json-20-digit-subscript.json", "json-unicode-digit.json"}
APP_CASES = {
    "cvrp-capacity-inf.vrp": (
        "cvrp",
        b"NAME: c\nTYPE: CVRP\nDIMENSION: 3\nCAPACITY: inf\nEDGE_WEIGHT_TYPE: EUC_2D\n"
        b"NODE_COORD_SECTION\n1 0 0\n2 1 1\n3 1 1\nDEMAND_SECTION\n1 0\n2 1\n3 1\n"
        b"DEPOT_SECTION\n1\n-1\nEOF\n",
    ),
    "qap-huge-n.dat": ("qap", b"1000000000\n1 2 3 4\n"),
    "qap-nan.dat": ("qap", b"2\n1 2 3 nan\n1 2 3 4\n"),
    "bpp-huge-n.bpp": ("binpacking", b"1000000000000\n10\n4\n"),
    "bpp-capacity-inf.bpp": ("binpacking", b"2\ninf\n4\n5\n"),
    "portfolio-huge-n.txt": ("portfolio", b"1000000000\n0.1 0.2\n"),
    "portfolio-index-nan.txt": ("portfolio", b"1\n0.1 0.2\nnan 1 1\n"),
}


@pytest.mark.parametrize("name", sorted(HANDWRITTEN))
def test_handwritten_malformed_file(name):
    fmt = {"bqp": "bqp", "gset": "gset"}.get(name.split("-")[0])
    result = read(name, HANDWRITTEN[name], options={"format": fmt} if fmt else {})
    assert_clean_reader_outcome(result, name)
    assert result["outcome"] == ("ok" if name in READABLE else "error"), result


@pytest.mark.parametrize("name", sorted(APP_CASES))
def test_handwritten_malformed_app_file(name):
    use_case, data = APP_CASES[name]
    result = read(name, data, use_case=use_case)
    assert_clean_reader_outcome(result, name)
    assert result["outcome"] == "error", result


def test_qplib_declaring_a_trillion_variables_is_refused_not_aborted():
    text = data_file("tiny.qplib").read_text()
    for line, replacement in [
        ("3 # variables", "1000000000000 # variables"),
        ("1 # general linear constraints", "1000000000000 # general linear constraints"),
        ("2 # nonzeros in the lower", "1000000000000 # nonzeros in the lower"),
        ("3 # nonzeros in the constraint", "1000000000000 # nonzeros in the constraint"),
    ]:
        assert line in text
        result = read("big.qplib", text.replace(line, replacement).encode())
        assert_clean_reader_outcome(result, "big.qplib")
        assert result["outcome"] == "error", (replacement, result)


def test_gzip_bomb_is_refused_within_the_input_limit():
    # 64 MiB of blanks compress to ~64 kB; the limit is lowered so the case stays quick
    data = gzip.compress(b"16 40\n" + b" " * (64 << 20), compresslevel=1)
    result = read("bomb.txt.gz", data, env={"KAKEHASHI_MAX_INPUT_BYTES": str(8 << 20)})
    assert result["outcome"] == "error" and "inflates to more than" in result["message"]


def test_declared_size_just_under_the_budget_is_refused_by_the_content_check():
    result = read("g.txt", b"1000 5\n1 2 1\n", options={"format": "gset"})
    assert result["outcome"] == "error" and "declares 5 edges" in result["message"]


# ---------------------------------------------------------------- generated (mutation) cases
NASTY = [
    "nan", "NaN", "inf", "-inf", "+inf", "Infinity", "1e300", "-1e300", "1e400", "-1", "0",
    "-0", "10000000000", "99999999999999999999", "9" * 401, "", "x", "1.5", "0x10", "∞",
    "１", "[/]", "1e-400", "4294967296", "9223372036854775808", "-9223372036854775809",
]  # fmt: skip
nasty_token = st.one_of(
    st.sampled_from(NASTY),
    st.integers(-(10**25), 10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6),
)


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """``seed`` with one to three mutations; gzip-wrapped now and then."""
    text = seed.decode("utf-8", errors="replace")
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["token", "token", "truncate", "delete", "duplicate"]))
        parts = re.split(r"(\s+)", text)
        words = [k for k, p in enumerate(parts) if p and not p.isspace()]
        lines = text.split("\n")
        if op == "token" and words:
            parts[draw(st.sampled_from(words))] = draw(nasty_token)
            text = "".join(parts)
        elif op == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif op == "delete" and lines:
            del lines[draw(st.integers(0, len(lines) - 1))]
            text = "\n".join(lines)
        elif op == "duplicate" and lines:
            k = draw(st.integers(0, len(lines) - 1))
            lines.insert(k, lines[k])
            text = "\n".join(lines)
    data = text.encode()
    return gzip.compress(data) if draw(st.integers(0, 9)) == 0 else data


def _seed(path: Path) -> bytes:
    return path.read_bytes()


def _ommx_seed() -> bytes:
    import tempfile

    import kakehashi

    out = Path(tempfile.mkdtemp()) / "seed.ommx"
    kakehashi.save(kakehashi.load(data_file("small_mip.mps")), out)
    return out.read_bytes()


READER_SEEDS = {
    # name the child writes (its suffix picks the reader), seed file, load options
    "g.gset": (data_file("maxcut16.txt"), {"format": "gset"}),
    "b.bqp": (data_file("bqp50.txt"), {"format": "bqp", "index": 2}),
    "o.opb": (data_file("example.opb"), {}),
    "q.qplib": (data_file("tiny.qplib"), {}),
    "j.json": (data_file("qubo_example.json"), {}),
    "m.mps": (data_file("small_mip.mps"), {}),
}
APP_SEEDS = {
    "t.tsp": ("tsp", shipped_instance_dir() / "burma14.tsp"),
    "e.tsp": ("tsp", shipped_instance_dir() / "gr17.tsp"),
    "v.vrp": ("cvrp", shipped_instance_dir() / "P-n16-k8.vrp"),
    "n.dat": ("qap", shipped_instance_dir() / "nug12.dat"),
    "g.gset": ("maxcut", shipped_instance_dir() / "G11.gset"),
    "k.json": ("qkd-network", shipped_instance_dir() / "qkd-network" / "tokyo-qkd.json"),
}


@pytest.mark.parametrize("name", sorted(READER_SEEDS))
def test_generated_malformed_files(name):
    path, options = READER_SEEDS[name]

    @FUZZ
    @given(data=mutated(_seed(path)))
    def check(data):
        suffix = name + (".gz" if data[:2] == b"\x1f\x8b" else "")
        result = read(suffix, data, options=options, env=SMALL_BUDGET)
        assert_clean_reader_outcome(result, suffix)

    check()


@pytest.mark.parametrize("name", sorted(APP_SEEDS))
def test_generated_malformed_app_files(name):
    use_case, path = APP_SEEDS[name]

    @FUZZ
    @given(data=mutated(_seed(path)))
    def check(data):
        result = read(name, data, use_case=use_case, env=SMALL_BUDGET)
        assert_clean_reader_outcome(result, name)

    check()


def test_generated_malformed_ommx_bytes():
    seed = _ommx_seed()

    @settings(FUZZ, max_examples=20)  # OMMX's archive reader takes ~0.5 s a case
    @given(
        cut=st.integers(0, len(seed)),
        flips=st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)), max_size=4),
    )
    def check(cut, flips):
        data = bytearray(seed)
        for k, v in flips:
            data[k] = v
        result = read("x.ommx", bytes(data[: max(cut, 1)]), env=SMALL_BUDGET)
        assert_clean_reader_outcome(result, "x.ommx")

    check()


# ---------------------------------------------------------------- the command line's options
def assert_one_line_exit_2(result: dict) -> None:
    assert result["outcome"] == "ok", result.get("traceback", result)
    assert result["code"] == 2, result
    lines = [ln for ln in result["err"].splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result["err"]
    assert "Traceback" not in result["err"] + result["out"]


option_value = st.one_of(
    st.sampled_from(NASTY),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
# every command that reads an option value; each command line ends in a usage error or a
# missing file, so no case runs a solver
COMMANDS = [
    ["solve", "missing.json"],
    ["demo", "--backend", "no-such-backend"],
    ["apps", "run", "knapsack", "--instance", "missing.txt"],
    ["bench", "no-such-suite"],
    ["report", "missing.sqlite"],
    ["explain", "missing.json"],
    ["router", "train", "missing.sqlite", "--out", "m.npz"],
]
OPTIONS = {
    "solve": ["--time-limit", "--seed", "--max-cost", "--backend"],
    "demo": ["--time-limit", "--seed"],
    "apps": ["--seed", "--time-limit", "--baseline-time-limit", "--size"],
    "bench": ["--repeats", "--time-limit", "--seed", "--target-gap", "--pue", "--cpu-price",
              "--grid-intensity", "--watts-per-core"],
    "report": ["--target-gap", "--grid-intensity"],
    "explain": ["--time-limit", "--max-cost", "--prefer", "--router"],
    "router": ["--seed"],
}  # fmt: skip


@FUZZ
@given(
    command=st.sampled_from(COMMANDS),
    picks=st.lists(st.tuples(st.integers(0, 7), option_value), min_size=1, max_size=3),
)
def test_cli_options_with_odd_values_exit_2_in_one_line(command, picks):
    names = OPTIONS[command[0]]
    argv = list(command)
    for k, value in picks:
        argv += [names[k % len(names)], value]
    assert_one_line_exit_2(run_case({"kind": "cli", "argv": argv}))


junk_argument = st.one_of(
    st.sampled_from(["--bogus", "-x", "--", "sovle", "apps", "--version=3", "[/]", "-t", "--json"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8),
)


@FUZZ
@given(argv=st.lists(junk_argument, min_size=1, max_size=4))
def test_cli_junk_arguments_never_trace(argv):
    result = run_case({"kind": "cli", "argv": argv})
    assert result["outcome"] == "ok", result.get("traceback", result)
    assert "Traceback" not in result["err"] + result["out"]
    if result["code"] != 0:  # e.g. `kakehashi --json --help` is fine
        assert result["code"] == 2, result
        assert result["err"].strip().splitlines()[-1].startswith("error: "), result["err"]


# ---------------------------------------------------------------- solve's arguments
# kakehashi.solve's own argument checks (time_limit, seed, backend) are the backend
# contract's (issue 10 part A, kakehashi.backends.arguments); these cases check them from
# outside, each in a child with the same limits as the readers
bad_time_limit = st.one_of(
    st.sampled_from([float("inf"), float("nan"), -1.0, 0.0, 1e308, "1", "abc", [1], True]),
    st.floats(max_value=0.0),
    st.floats(min_value=1e7, allow_infinity=True),
)
bad_seed = st.one_of(
    st.sampled_from([-1, 2**64, 1.5, "7", None.__class__, True, float("nan")]),
    st.integers(max_value=-1),
    st.integers(min_value=2**63),
)
# a list is a race (issue 11): only lists that cannot race are bad
bad_backend = st.sampled_from(
    [None, 5, 1.5, "no-such-backend", "", "TABU ", [], ["tabu", "tabbu"], [5], object]
)


@FUZZ
@given(
    time_limit=bad_time_limit,
    backend=st.sampled_from(["tabu", "sa", "exact", "auto"]),
)
def test_solve_refuses_bad_time_limits(time_limit, backend):
    result = run_case(
        {"kind": "solve", "arguments": {"backend": backend, "time_limit": time_limit, "seed": 1}}
    )
    assert result["outcome"] == "error", result


@FUZZ
@given(seed=bad_seed, backend=st.sampled_from(["tabu", "sa", "exact", "auto"]))
def test_solve_refuses_bad_seeds(seed, backend):
    result = run_case(
        {"kind": "solve", "arguments": {"backend": backend, "time_limit": 0.1, "seed": seed}}
    )
    assert result["outcome"] == "error", result


@FUZZ
@given(backend=bad_backend)
def test_solve_refuses_bad_backends(backend):
    result = run_case(
        {"kind": "solve", "arguments": {"backend": backend, "time_limit": 0.1, "seed": 1}}
    )
    assert result["outcome"] == "error", result


@pytest.mark.parametrize("backend", ["tabu", "sa", "exact", "auto"])
def test_solve_with_valid_arguments_fits_the_same_limits(backend):
    # numba's compiled (cached) kernels run within the 2 GiB address space too
    result = run_case(
        {"kind": "solve", "arguments": {"backend": backend, "time_limit": 0.2, "seed": 3}}
    )
    assert result["outcome"] == "ok", result
    assert result["objective"] == -5.0
