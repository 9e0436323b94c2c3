"""Readers on the shipped files and on ../shared/data: values, not just shapes."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from kakehashi.model.io import data_file, detect_format, load
from kakehashi.model.problem import BINARY, CONTINUOUS, INTEGER

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared/data is not beside this checkout)")
    return path


def all_binary(n: int) -> np.ndarray:
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


# ---------------------------------------------------------------------- Gset / rudy
def _best_known(csv_path: Path) -> dict[str, float]:
    with csv_path.open() as f:
        return {row["instance"]: float(row["best_known"]) for row in csv.DictReader(f)}


@pytest.mark.parametrize("graph", ["G1", "G2", "G3", "G43", "G48"])
def test_gset_certificates_evaluate_to_best_known_exactly(graph):
    best = _best_known(shared("gset", "best_known.csv"))
    problem = load(shared("gset", f"{graph}.txt"))
    cut_file = shared("gset", "cuts", f"{graph}.cut")
    sides = np.array(
        [
            float(line)
            for line in cut_file.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
    )
    assert problem.sense == "max"
    assert sides.shape == (problem.num_variables,)
    value = problem.objective_values(sides[None, :])[0]
    assert value == best[graph]  # exact: the objective IS the cut value
    # the complement is the same cut
    assert problem.objective_values(1 - sides[None, :])[0] == best[graph]


def test_gset_header_counts_and_weights_on_toroidal_graph():
    problem = load(shared("gset", "G11.txt"))
    assert (problem.num_variables, problem.metadata["edges"]) == (800, 1600)
    # all on one side cuts nothing; the weighted degree sums are twice the total weight
    assert problem.objective_values(np.zeros((1, 800)))[0] == 0.0
    edges = np.loadtxt(shared("gset", "G11.txt"), skiprows=1)
    assert problem.linear.sum() == pytest.approx(2 * edges[:, 2].sum())


def test_g55_loads_as_5000_vertex_maxcut():
    problem = load(shared("gset", "G55.txt"))
    assert problem.num_variables == 5000
    assert problem.metadata["edges"] == 12498
    assert problem.quadratic.nnz <= 12498


def test_shipped_maxcut16_optimum_by_enumeration():
    problem = load(data_file("maxcut16.txt"))
    values = problem.objective_values(all_binary(16))
    assert values.max() == 31.0  # the value documented in kakehashi/data/README.md
    # cut value by definition, edge by edge
    text = data_file("maxcut16.txt").read_text().split("\n", 1)[1]
    edges = np.array([line.split() for line in text.strip().splitlines()], dtype=float)
    x = all_binary(16)[12345]
    i, j, w = edges[:, 0].astype(int) - 1, edges[:, 1].astype(int) - 1, edges[:, 2]
    assert problem.objective_values(x[None])[0] == w[x[i] != x[j]].sum()


def test_gset_self_loops_and_duplicate_edges_count_as_in_the_definition(tmp_path):
    f = tmp_path / "g.txt"
    f.write_text("3 4\n1 2 1\n2 1 2\n3 3 5\n2 3 -1\n")
    p = load(f)
    for x in all_binary(3):
        expected = 3.0 * (x[0] != x[1]) - 1.0 * (x[1] != x[2])
        assert p.objective_values(x[None])[0] == expected


# ---------------------------------------------------------------------- OR-Library bqp
# Optimal 0/1 vectors for bqp50-1..10 (found by annealing here; each reaches OR-Library's
# published optimum, so they certify the reader's convention: max xᵀQx, Q symmetric).
BQP50_CERTIFICATES = {
    1: "01100110000100100001111000111100111011000001111011",
    2: "10011101100111000101011010100011111101011110010111",
    3: "10111110101111010110110000011111111111001110011100",
    4: "01111011101111001110000111111111101011010101001101",
    5: "00010111111100011001011011000111111111100110100101",
    6: "01111011110110001101110011011101101101111011110110",
    7: "11111111011110110011111011011111011111011001101111",
    8: "11001111111110000111101110111110101100011111101111",
    9: "01100011111111111001111101111111111110011010110111",
    10: "01101101101111001111101111111100001010110101001111",
}
BQP50_OPTIMA = {
    1: 2098,
    2: 3702,
    3: 4626,
    4: 3544,
    5: 4012,
    6: 3693,
    7: 4520,
    8: 4216,
    9: 3780,
    10: 3507,
}


@pytest.mark.parametrize("index", range(1, 11))
def test_bqp50_certificates_reach_the_published_optima(index):
    problem = load(data_file("bqp50.txt"), index=index)
    x = np.array([int(c) for c in BQP50_CERTIFICATES[index]], dtype=float)
    assert problem.name == f"bqp50-{index}"
    assert problem.sense == "max"
    assert problem.objective_values(x[None])[0] == BQP50_OPTIMA[index]


def test_bqp50_optima_match_shared_best_known():
    best = _best_known(shared("beasley_bqp", "best_known.csv"))
    for k, value in BQP50_OPTIMA.items():
        assert best[f"bqp50-{k}"] == value


def test_bqp_objective_is_xQx_with_Q_symmetric():
    problem = load(data_file("bqp50.txt"), index=1)
    lines = data_file("bqp50.txt").read_text().split("\n")
    n, nnz = map(int, lines[1].split())
    entries = np.array([line.split() for line in lines[2 : 2 + nnz]], dtype=float)
    Q = np.zeros((n, n))
    i, j = entries[:, 0].astype(int) - 1, entries[:, 1].astype(int) - 1
    Q[i, j] = entries[:, 2]
    Q[j, i] = entries[:, 2]
    X = np.random.default_rng(0).integers(0, 2, (20, n)).astype(float)
    assert np.allclose(problem.objective_values(X), np.einsum("ki,ij,kj->k", X, Q, X))


@pytest.mark.parametrize(("name", "n"), [("bqp100.txt", 100), ("bqp250.txt", 250)])
def test_bqp_larger_files_parse_every_problem(name, n):
    path = shared("beasley_bqp", name)
    for k in (1, 10):
        problem = load(path, index=k)
        assert problem.num_variables == n
        assert problem.name == f"{name.split('.')[0]}-{k}"


# ---------------------------------------------------------------------- OPB
def test_opb_example_matches_its_definition_on_every_assignment():
    p = load(data_file("example.opb"))
    X = all_binary(5)
    x1, x2, x3, x4, x5 = X.T
    objective = 2 * x1 - 3 * x2 * x3 + (1 - x4) + 4 * x1 * x2 * x5 - x5
    feasible = (x1 + x2 + x3 >= 1) & (x4 + (1 - x5) == 1)
    ev = p.evaluate(X)
    assert np.array_equal(ev["objective"], objective)
    assert np.array_equal(ev["feasible"], feasible)
    assert p.max_degree == 3


def test_opb_products_with_repeated_and_complementary_literals(tmp_path):
    f = tmp_path / "odd.opb"
    f.write_text(
        "* #variable= 3 #constraint= 1\n"
        "min: 3 x1 x1 -2 x2 ~x2 +5 ~x1 ~x3 x3\n +1 ~x1 ~x2 ;\n"
        "-2 x1 <= -1 ;\n"
    )
    p = load(f)
    X = all_binary(3)
    a, b, _ = X.T
    assert np.array_equal(p.objective_values(X), 3 * a + (1 - a) * (1 - b))
    assert np.array_equal(p.evaluate(X)["feasible"], a == 1)


@pytest.mark.parametrize(
    "instance", ["QPLIB_0067", "QPLIB_2512", "QPLIB_3402", "QPLIB_3506", "QPLIB_5881"]
)
def test_qplib_opb_files_match_their_headers(instance):
    path = shared("qplib", f"{instance}.opb")
    header = path.read_text().split("\n", 1)[0].split()
    declared = {header[k].rstrip("="): int(header[k + 1]) for k in range(1, len(header) - 1, 2)}
    p = load(path)
    assert p.num_variables == declared["#variable"]
    assert p.num_constraints == declared["#constraint"]
    assert p.quadratic.nnz == declared["#product"]  # every product here is a distinct pair
    assert int(np.sum(p.lo == p.hi)) == declared["#equal"]
    assert p.sense == "min"


def test_qplib_opb_with_pb_info_is_in_qplib_scale_and_sense():
    path = shared("qplib", "QPLIB_5881.opb")
    plain = load(path)
    qplib = load(path, pb_info=True)
    info = json.loads(path.with_suffix(".json").read_text())
    scale = info["first"]["second"]["objective_function_scale_factor"]["numerator"]
    assert scale == -1 and qplib.sense == "max"
    X = np.random.default_rng(1).integers(0, 2, (10, 120)).astype(float)
    assert np.allclose(plain.objective_values(X), scale * qplib.objective_values(X))
    assert qplib.metadata["original_names"][0] == "b10"  # x1 ← b10 in the renaming


def test_qplib_opb_assignment_instances_have_one_hot_rows():
    p = load(shared("qplib", "QPLIB_2512.opb"))
    assert [g.kind for g in p.constraint_groups] == ["one_hot"]


# ---------------------------------------------------------------------- QPLIB via OMMX
def test_tiny_qplib_objective_and_constraint_on_every_assignment():
    p = load(data_file("tiny.qplib"))
    assert p.sense == "max"
    X = all_binary(3)
    x1, x2, x3 = X.T
    # ½ per listed entry: (2,1,-2) → -x1·x2 and (3,3,4) → 2·x3² = 2·x3
    objective = -x1 * x2 + 2 * x3 + x1 + 3 * x2 + x3 + 0.5
    ev = p.evaluate(X)
    assert np.allclose(ev["objective"], objective)
    assert np.array_equal(ev["feasible"], x1 + x2 + x3 <= 2)


# ---------------------------------------------------------------------- MPS via OMMX
def test_small_mps_types_bounds_and_rows():
    p = load(data_file("small_mip.mps"))
    names = [va.name for va in p.var_arrays]
    assert names == ["X", "Y", "Z"]
    assert p.vtype.tolist() == [INTEGER, CONTINUOUS, BINARY]
    assert p.lower.tolist() == [0.0, -1.0, 0.0] and p.upper.tolist() == [4.0, 1.0, 1.0]
    assert [g.name for g in p.constraint_groups] == [
        "LIM1",
        "LIM2",
        "MYEQN",
        "R4",
    ]  # ranged row merged
    cases = {  # (x, y, z) → feasible?
        (1, 0.5, 1): True,
        (0, 0.5, 1): False,  # x >= 1
        (4, 0.5, 1): False,  # x + y <= 4
        (1, -0.5, 0): False,  # 2 <= x + z
        (3, 0.5, 1): True,
        (1, 0.5, 0): False,  # z - y = 0.5
    }
    X = np.array(list(cases), dtype=float)
    ev = p.evaluate(X)
    assert ev["feasible"].tolist() == list(cases.values())
    assert np.allclose(ev["objective"], X @ [1.0, 2.0, -1.0])


def test_mps_objective_constant_from_rhs_and_gzip(tmp_path):
    import gzip

    text = (
        "NAME T\nROWS\n N obj\n L c1\nCOLUMNS\n x obj 1 c1 1\n y obj 2 c1 1\n"
        "RHS\n RHS obj -5 c1 1\nBOUNDS\n UP BND x 1\n UP BND y 1\nENDATA\n"
    )
    (tmp_path / "t.mps").write_text(text)
    (tmp_path / "t.mps.gz").write_bytes(gzip.compress(text.encode()))
    for name in ("t.mps", "t.mps.gz"):
        p = load(tmp_path / name)
        assert p.constant == 5.0  # MPS: the objective row's RHS is minus the constant
        assert p.objective_values(np.array([[1.0, 0.0]]))[0] == 6.0


# ---------------------------------------------------------------------- JSON
def test_json_example_energy_on_every_assignment():
    p = load(data_file("qubo_example.json"))
    assert [(va.name, va.shape) for va in p.var_arrays] == [("x", (4,))]
    X = all_binary(4)
    x0, x1, x2, x3 = X.T
    e = 1 - 3 * x0 - 2 * x1 - 2 * x2 + x3 + 4 * x0 * x1 - x1 * x2 - 2 * x0 * x3 + 2 * x2 * x3
    assert np.array_equal(p.objective_values(X), e)


@pytest.mark.parametrize(
    "quadratic",
    [
        {"a,b": -1.0, "b,c": 2.0},
        {"a": {"b": -1.0}, "b": {"c": 2.0}},
        [["a", "b", -1.0], ["b", "c", 2.0]],
    ],
)
def test_json_spin_forms_agree(tmp_path, quadratic):
    doc = {"vartype": "spin", "linear": {"a": 0.5, "c": -1}, "quadratic": quadratic, "offset": 3}
    f = tmp_path / "ising.json"
    f.write_text(json.dumps(doc))
    p = load(f)
    assert [va.name for va in p.var_arrays] == ["a", "c", "b"]  # order of first appearance
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))
    a, c, b = S.T
    assert np.array_equal(p.objective_values(S), 3 + 0.5 * a - c - a * b + 2 * b * c)


def test_json_bracketed_labels_rebuild_arrays(tmp_path):
    doc = {
        "vartype": "BINARY",
        "linear": {"y[1,0]": 1, "y[0,1]": 2, "y[0,0]": 3, "y[1,1]": 4, "z": 5},
        "quadratic": {"y[0,0],y[1,1]": -1},
    }
    f = tmp_path / "arr.json"
    f.write_text(json.dumps(doc))
    p = load(f)
    assert [(va.name, va.shape) for va in p.var_arrays] == [("y", (2, 2)), ("z", ())]
    assert p.linear.tolist() == [3, 2, 1, 4, 5]  # C order of y, then z
    assert p.quadratic[0, 3] == -1


# ---------------------------------------------------------------------- detection
@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("bqp50.txt", "bqp"),
        ("maxcut16.txt", "gset"),
        ("apps/G11.gset", "gset"),
        ("example.opb", "opb"),
        ("small_mip.mps", "mps"),
        ("tiny.qplib", "qplib"),
        ("qubo_example.json", "json"),
    ],
)
def test_detect_format_by_suffix_and_by_content(tmp_path, name, fmt):
    assert detect_format(data_file(name)) == fmt
    anonymous = tmp_path / "problem.dat"
    anonymous.write_bytes(data_file(name).read_bytes())
    assert detect_format(anonymous) == fmt
