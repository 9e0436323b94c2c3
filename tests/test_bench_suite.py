"""Suites: the shipped suite files parse, their instances build, best-known values match the
certificates shipped with them, and bad suite files get clear errors."""

from __future__ import annotations

import pytest

from kakehashi.bench.baseline import resolve_backends
from kakehashi.bench.qoblib import read_labs, read_marketsplit, read_mis, read_solution
from kakehashi.bench.suite import (
    InstanceUnavailable,
    load_suite,
    parse_suite,
    resolve_path,
    shared_data_dir,
)
from kakehashi.errors import InputFormatError, KakehashiError


@pytest.mark.parametrize("name", ["quick", "standard"])
def test_shipped_suites_build_every_available_instance(name):
    suite = load_suite(name)
    assert suite.instances and suite.repeats >= 1 and suite.backends
    for inst in suite.instances:
        if (
            str(inst.spec.get("file", inst.spec.get("data", ""))).startswith("shared:")
            and shared_data_dir() is None
        ):
            with pytest.raises(InstanceUnavailable, match="shared"):
                inst.build()
            continue
        problem = inst.build()
        target, source = inst.target(problem)
        assert problem.name == inst.name
        assert target is not None and source, inst.name


def test_quick_suite_is_small_and_uses_shipped_data_only():
    suite = load_suite("quick")
    assert suite.time_limits == (0.5,)
    assert all(not str(i.spec.get("file", "")).startswith("shared:") for i in suite.instances)
    backends, _ = resolve_backends(None, suite.backends)
    names = [b.name for b in backends]
    assert "exact" in names  # a classical exact solver is always in the default set
    assert any(b.info.modality == "classical heuristic" for b in backends)


@pytest.mark.parametrize(
    ("reader", "stem", "optimum"),
    [
        (read_labs, "labs008", 8),
        (read_labs, "labs010", 13),
        (read_labs, "labs012", 10),
        (read_mis, "farm", 10),
        (read_mis, "karate", 20),
        (read_mis, "chesapeake", 17),
        (read_marketsplit, "ms_03_050_002", 0),
    ],
)
def test_qoblib_certificates_evaluate_to_their_optimum(reader, stem, optimum):
    import numpy as np

    suffix = {read_labs: ".qs", read_mis: ".gph", read_marketsplit: ".dat"}[reader]
    problem = reader(resolve_path(f"data:bench/qoblib/{stem}{suffix}"))
    if reader is read_labs:
        n = int(stem[4:])
        bits = read_solution(resolve_path(f"data:bench/qoblib/{stem}.opt.sol"), n)
        # auxiliary z_ik = x_i x_{i+k} (Zimpl order: i outer, k inner) makes the penalty vanish
        z = [bits[i] * bits[i + k] for i in range(n) for k in range(1, n) if i + k < n]
        x = np.concatenate([bits, z])
    else:
        x = read_solution(resolve_path(f"data:bench/qoblib/{stem}.opt.sol"), problem.num_variables)
    ev = problem.evaluate(x)
    assert bool(ev["feasible"][0])
    assert ev["objective"][0] == pytest.approx(optimum)


def test_best_known_sign_follows_the_problem_sense():
    doc = {
        "suite": {"name": "t"},
        "instance": [
            {"name": "a", "generator": "maxcut-random", "params": {"n": 6, "seed": 0},
             "best_known": 5, "best_known_sense": "max"},
            {"name": "b", "generator": "maxcut-random", "params": {"n": 6, "seed": 0},
             "best_known": 5, "best_known_sense": "min"},
        ],
    }  # fmt: skip
    suite = parse_suite(doc)
    a, b = suite.instances
    assert a.target(a.build())[0] == 5.0  # built as "maximise cut": same sense
    assert b.target(b.build())[0] == -5.0  # published as a minimum of −cut


def test_exact_best_known_is_computed():
    doc = {
        "instance": [
            {
                "name": "k",
                "generator": "knapsack",
                "params": {"n": 8, "seed": 1},
                "best_known": "exact",
            }
        ]
    }
    inst = parse_suite(doc).instances[0]
    value, source = inst.target(inst.build())
    assert source == "exhaustive enumeration" and value > 0


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"suite": {}}, "no \\[\\[instance\\]\\]"),
        ({"instance": [{"generator": "knapsack"}]}, "needs a name"),
        ({"instance": [{"name": "x"}]}, "exactly one of"),
        ({"instance": [{"name": "x", "generator": "knapsack", "file": "f"}]}, "exactly one of"),
        (
            {"instance": [{"name": "x", "generator": "sk"}, {"name": "x", "generator": "sk"}]},
            "twice",
        ),
        (
            {"instance": [{"name": "x", "generator": "sk", "best_known": "big"}]},
            "number or 'exact'",
        ),
        ({"suite": {"time_limit": -1}, "instance": [{"name": "x", "generator": "sk"}]}, "positive"),
        ({"suites": {}, "instance": [{"name": "x", "generator": "sk"}]}, "unknown top-level"),
    ],
)
def test_bad_suite_documents_are_rejected_clearly(doc, message):
    with pytest.raises(InputFormatError, match=message):
        parse_suite(doc)


def test_bad_suite_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[suite\nname=1")
    with pytest.raises(InputFormatError, match="not valid TOML"):
        load_suite(bad)
    with pytest.raises(KakehashiError, match="no suite named"):
        load_suite("no-such-suite")
    doc = {"instance": [{"name": "x", "generator": "no-such-generator"}]}
    with pytest.raises(KakehashiError, match="unknown generator"):
        parse_suite(doc).instances[0].build()
    missing = parse_suite({"instance": [{"name": "m", "file": "nope.txt"}]}, base_dir=tmp_path)
    with pytest.raises(InstanceUnavailable, match="not present"):
        missing.instances[0].build()


def test_yaml_suite(tmp_path):
    pytest.importorskip("yaml")
    path = tmp_path / "s.yaml"
    path.write_text(
        "suite: {name: y, repeats: 2, time_limit: [0.1, 0.2]}\n"
        "instance:\n  - {name: k, generator: knapsack, params: {n: 6}}\n"
    )
    suite = load_suite(path)
    assert suite.name == "y" and suite.repeats == 2 and suite.time_limits == (0.1, 0.2)


def test_select_by_name_glob_and_tag():
    suite = load_suite("quick")
    assert [i.name for i in suite.select(["bqp*"]).instances] == ["bqp50-1"]
    assert {i.name for i in suite.select(["qoblib"]).instances} == {
        "labs010",
        "farm-mis",
        "ms_03_050_002",
    }
    with pytest.raises(KakehashiError, match="no instance"):
        suite.select(["zzz"])


def test_compare_suite_runs_a_suite_with_its_targets_skips_and_baseline():
    from kakehashi.bench.compare import compare_suite

    cmp = compare_suite(
        "quick", ["sb", "exact"], instances=["maxcut-g16", "bqp50-1"], repeats=1,
        time_limit=0.1, warmup=False,
    )  # fmt: skip
    runs = cmp.runs()
    assert set(runs.instance) == {"maxcut-g16", "bqp50-1"}
    # the suite runs exact enumeration only up to 17 variables: bqp50-1's is skipped
    skipped = runs[(runs.backend == "exact") & (runs.instance == "bqp50-1")]
    assert list(skipped.status) == ["skipped"]
    # bqp50-1's target is its published optimum (OR-Library), not the best value found
    assert set(runs[runs.instance == "bqp50-1"].target) == {2098.0}
    assert cmp.baseline == "exact"
    only_quantum = compare_suite(
        "quick", ["sb"], instances=["maxcut-*"], repeats=1, time_limit=0.1, warmup=False
    )
    assert set(only_quantum.runs().backend) == {"sb", "tabu"}  # a classical baseline added
    with pytest.raises(KakehashiError, match="no instance of suite 'quick' matches"):
        compare_suite("quick", ["sb"], instances=["nothing-*"])
