"""qkd-network: the key-rate physics against Lo, Ma & Chen (2005), the model's optimum against
brute force, the validator on broken plans, the generator, the reader and the QUBO path."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import numpy as np
import pytest

import kakehashi
from kakehashi.apps import AppDataError, get_use_case, use_case_names
from kakehashi.apps._qkd_keyrate import DecoyBB84, binary_entropy
from kakehashi.apps.qkd_network import QkdNetworkData, make_plan
from kakehashi.errors import InputFormatError, KakehashiError

pytest.importorskip("highspy")

QKD = get_use_case("qkd-network")


# ---------------------------------------------------------------------- physics
def test_reach_matches_lo_ma_chen_for_gys():
    # Lo, Ma & Chen (PRL 94, 230504, Fig. 1): with GYS's parameters the asymptotic
    # decoy-state key reaches about 140 km. We ask for 140 km within ±5 km.
    assert DecoyBB84().max_distance_km() == pytest.approx(140.0, abs=5.0)


def test_optimal_signal_intensity_is_about_one_half():
    # Lo, Ma & Chen: with GYS's parameters the optimal mu is about 0.5 (it falls a little
    # near the end of the reach). We ask for 0.5 ± 0.05 up to 100 km.
    p = DecoyBB84()
    for length in (0.0, 25.0, 50.0, 100.0):
        assert p.best_mu(length) == pytest.approx(0.5, abs=0.05)


def test_rate_is_the_papers_formula():
    # the GLLP/decoy expression written out here once more, at one length and mu
    p = DecoyBB84(mean_photon_number=0.48)
    L, mu, y0, ed = 60.0, 0.48, 1.7e-6, 0.033
    eta = 0.045 * 10 ** (-0.21 * L / 10)
    q_mu = y0 + 1 - math.exp(-eta * mu)
    e_mu = (0.5 * y0 + ed * (1 - math.exp(-eta * mu))) / q_mu
    y1 = y0 + eta - y0 * eta
    q1 = y1 * mu * math.exp(-mu)
    e1 = (0.5 * y0 + ed * eta) / y1
    h = lambda x: -x * math.log2(x) - (1 - x) * math.log2(1 - x)  # noqa: E731
    expected = 0.5 * (-q_mu * 1.22 * h(e_mu) + q1 * (1 - h(e1)))
    assert p.rate_per_pulse(L) == pytest.approx(expected, rel=1e-12)
    assert p.key_rate_bps(L) == pytest.approx(expected * 1e9, rel=1e-12)


def test_rate_falls_with_length_and_stops_beyond_reach():
    p = DecoyBB84()
    rates = [p.key_rate_bps(L) for L in (0, 20, 40, 80, 120, 140)]
    assert all(a > b > 0 for a, b in itertools.pairwise(rates))
    assert p.key_rate_bps(150.0) == 0.0
    assert DecoyBB84(repetition_rate_hz=2e6).key_rate_bps(50) == pytest.approx(
        p.key_rate_bps(50) * 2e-3
    )
    # a lossier fibre (the Tokyo testbed's 0.3 dB/km) shortens the reach in proportion
    assert p.max_distance_km(0.3) == pytest.approx(p.max_distance_km() * 0.21 / 0.3, rel=1e-4)
    assert float(binary_entropy(0.11)) == pytest.approx(0.4999, abs=1e-3)


def test_bad_physics_parameters_are_refused():
    with pytest.raises(AppDataError, match="misalignment"):
        DecoyBB84(misalignment=0.6)
    with pytest.raises(AppDataError, match="ec_inefficiency"):
        DecoyBB84(ec_inefficiency=0.9)


# ---------------------------------------------------------------------- brute force
def _all_simple_paths(data: QkdNetworkData, a: int, b: int) -> list[list[int]]:
    usable = data.units_per_pair() >= 1
    adj = {i: set() for i in range(data.num_sites)}
    for e in np.flatnonzero(usable):
        u, v = data.links[e]
        adj[int(u)].add(int(v))
        adj[int(v)].add(int(u))
    out: list[list[int]] = []

    def walk(path: list[int]) -> None:
        for nxt in sorted(adj[path[-1]]):
            if nxt in path:
                continue
            if nxt == b:
                out.append([*path, nxt])
            elif data.trusted_allowed[nxt]:
                walk([*path, nxt])

    walk([a])
    return out


def brute_force_cost(data: QkdNetworkData) -> float:
    """The cheapest plan by trying every protection of every demand over every chain."""
    L = data.max_trusted_nodes
    per_pair = data.units_per_pair()
    units = data.demand_units()
    link_of = data.link_index()
    options = []
    for d, (a, b) in enumerate(data.demands.tolist()):
        cls = data.security[d]
        opts = [] if cls == "qkd" else [(None, True)]
        for path in _all_simple_paths(data, a, b):
            if cls == "pqc" or len(path) - 2 <= L:
                opts.append((path, False))
            opts.append((path, True))
        options.append(opts)
    best = math.inf
    for choice in itertools.product(*options):
        load = np.zeros(data.num_links)
        trusted, gateways, hops = set(), set(), 0
        for d, (path, pqc) in enumerate(choice):
            if path:
                for u, v in itertools.pairwise(path):
                    load[link_of[(u, v)]] += units[d]
                trusted |= set(path[1:-1])
                hops += units[d] * (len(path) - 1)
            if pqc:
                gateways |= set(data.demands[d].tolist())
        pairs = np.ceil(load / np.maximum(per_pair, 1))
        if np.any(pairs > data.max_pairs_per_link):
            continue
        cost = (
            data.pair_cost @ pairs
            + data.trusted_node_cost[list(trusted)].sum()
            + data.gateway_cost[list(gateways)].sum()
            + data.capacity_unit_cost * hops
        )
        best = min(best, float(cost))
    return best


def diamond(**changes) -> QkdNetworkData:
    """Four sites: a short two-hop path and a long direct link whose one pair is too small
    for both QKD-required demands, so capacity, relays and PQC all matter."""
    fields = dict(
        sites=["a", "b", "c", "d"],
        coords_km=[[0, 0], [50, 20], [100, 0], [50, -20]],
        links=[[0, 1], [1, 2], [0, 2], [0, 3], [3, 2]],
        length_km=[60.0, 60.0, 120.0, 40.0, 70.0],
        demands=[[0, 2], [0, 2], [1, 3], [0, 1]],
        rate_bps=[3000.0, 2500.0, 8000.0, 20000.0],
        security=["qkd", "qkd", "qkd_or_pqc", "pqc"],
        pair_cost=[100.0, 100.0, 80.0, 100.0, 100.0],
        trusted_node_cost=[60.0, 70.0, 60.0, 40.0],
        gateway_cost=15.0,
        capacity_unit_cost=0.5,
        max_trusted_nodes=1,
        max_pairs_per_link=2,
        routes_per_demand=50,
    )
    fields.update(changes)
    return QkdNetworkData(**fields)


def highs_optimum(data: QkdNetworkData):
    result = kakehashi.solve(QKD.build(data), backend="highs", time_limit=30, seed=0)
    assert result.info["status"] == "optimal"
    answer = QKD.decode(result, data)
    check = QKD.validate(answer, data)
    assert check.valid, check.errors
    assert answer.objective == pytest.approx(result.objective)  # model cost == domain cost
    return answer


ONE_PAIR = {"max_pairs_per_link": 1}
DIRECT, VIA_B, VIA_D = ["a", "c"], ["a", "b", "c"], ["a", "d", "c"]


@pytest.mark.parametrize(
    ("changes", "a_c_chains", "a_c_mode"),
    [
        ({}, [DIRECT, DIRECT], "qkd"),  # two pairs on the direct 120 km link
        (ONE_PAIR, [VIA_D, VIA_D], "qkd"),  # one pair is too small: relay at d (cheaper than b)
        ({**ONE_PAIR, "max_trusted_nodes": 0}, [VIA_D, VIA_D], "qkd+pqc"),  # relay needs PQC
        ({**ONE_PAIR, "trusted_allowed": [True, True, True, False]}, [VIA_B, VIA_B], "qkd"),
        ({**ONE_PAIR, "security": ["qkd", "qkd_or_pqc", "qkd_or_pqc", "pqc"]}, [DIRECT, []], None),
    ],
    ids=["two-pairs", "relay-d", "relay-needs-pqc", "d-untrusted", "fallback-pqc"],
)
def test_highs_optimum_equals_brute_force_on_a_diamond(changes, a_c_chains, a_c_mode):
    data = diamond(**changes)
    answer = highs_optimum(data)
    assert answer.objective == pytest.approx(brute_force_cost(data))
    # the two a–c demands (3 + 3 key units) overfill one pair of the 120 km link (4 units)
    assert [p["route"] for p in answer.protection[:2]] == a_c_chains
    if a_c_mode:
        assert {p["mode"] for p in answer.protection[:2]} == {a_c_mode}


def test_scip_baseline_agrees_with_highs_and_brute_force():
    pytest.importorskip("pyscipopt")
    data = diamond(**ONE_PAIR)
    ref = QKD.baseline(data, time_limit=30, solver="scip")
    assert ref.tool == "SCIP MILP" and ref.status == "optimal"
    assert ref.objective == pytest.approx(brute_force_cost(data))
    with pytest.raises(AppDataError, match="unknown baseline solver"):
        QKD.baseline(data, solver="gurobi")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_highs_optimum_equals_brute_force_on_generated_networks(seed):
    data = dataclasses.replace(QKD.generate(4, seed=seed), routes_per_demand=50)
    assert highs_optimum(data).objective == pytest.approx(brute_force_cost(data))


# ---------------------------------------------------------------------- validation
@pytest.fixture(scope="module")
def tokyo():
    data = QKD.load("tokyo-qkd")
    return data, QKD.baseline(data, time_limit=30)


def test_tokyo_plan_is_optimal_valid_and_explained(tokyo):
    data, ref = tokyo
    assert ref.status == "optimal"
    check = QKD.validate(ref.answer, data)
    assert check.valid, check.errors
    assert check.objective == pytest.approx(ref.objective)
    costs = ref.answer.costs
    assert costs["total"] == pytest.approx(
        costs["qkd_pairs"] + costs["trusted_nodes"] + costs["pqc_gateways"] + costs["key_capacity"]
    )
    by_demand = {p["demand"]: p for p in ref.answer.protection}
    # 100 + 20 + 10 kbit/s of QKD-required key leave Koganei; one 45 km pair makes 110
    assert ref.answer.pairs[0] == 2
    hongo = by_demand["Koganei–Hongo"]
    assert hongo["mode"] == "qkd" and hongo["trusted_relays"] == ["Otemachi"]
    assert "within the limit of 1" in hongo["reason"]
    assert by_demand["Hakusan–Hongo"]["mode"] == "pqc"


def test_validator_rejects_a_rate_short_link(tokyo):
    data, ref = tokyo
    pairs = ref.answer.pairs.copy()
    pairs[0] = 1  # Koganei–Otemachi: 130 kbit/s reserved on one 110 kbit/s pair
    errors = QKD.validate(dataclasses.replace(ref.answer, pairs=pairs), data).errors
    assert any("key rate short on link Koganei–Otemachi" in e for e in errors), errors


def test_validator_rejects_a_missing_trusted_node(tokyo):
    data, ref = tokyo
    trusted = ref.answer.trusted.copy()
    trusted[data.sites.index("Otemachi")] = False
    errors = QKD.validate(dataclasses.replace(ref.answer, trusted=trusted), data).errors
    assert any("relayed at Otemachi, which has no trusted node" in e for e in errors), errors


def test_validator_rejects_violated_security_classes(tokyo):
    data, ref = tokyo
    d_qkd = next(d for d in range(data.num_demands) if data.security[d] == "qkd")
    routes = [list(r) for r in ref.answer.routes]
    routes[d_qkd] = []
    pqc = ref.answer.pqc.copy()
    pqc[d_qkd] = True
    errors = QKD.validate(dataclasses.replace(ref.answer, routes=routes, pqc=pqc), data).errors
    assert any("(QKD required) gets no QKD key" in e for e in errors), errors
    assert any("has no PQC gateway" in e for e in errors), errors
    # a QKD-required key over two relays (limit 1) without PQC on top
    hongo = data.demand_name(1)
    assert hongo == "Koganei–Hongo"
    s = {n: i for i, n in enumerate(data.sites)}
    routes = [list(r) for r in ref.answer.routes]
    routes[1] = [[s["Koganei"], s["Shinjuku"], s["Otemachi"], s["Hongo"]]]
    trusted = ref.answer.trusted | np.isin(np.arange(data.num_sites), [s["Shinjuku"]])
    pairs = np.maximum(ref.answer.pairs, 1)
    plan = make_plan(data, pairs, trusted, ref.answer.gateways, routes, ref.answer.pqc)
    errors = QKD.validate(plan, data).errors
    assert errors == [
        "demand Koganei–Hongo (QKD required) relays its QKD key through 2 trusted nodes, more "
        "than the limit of 1, without PQC on top"
    ]
    # a demand left with nothing
    routes = [list(r) for r in ref.answer.routes]
    d_any = next(d for d in range(data.num_demands) if data.security[d] == "pqc")
    routes[d_any], pqc = [], ref.answer.pqc.copy()
    pqc[d_any] = False
    errors = QKD.validate(dataclasses.replace(ref.answer, routes=routes, pqc=pqc), data).errors
    assert any("gets neither QKD key nor PQC" in e for e in errors), errors


def test_validator_rejects_impossible_chains(tokyo):
    data, ref = tokyo
    s = {n: i for i, n in enumerate(data.sites)}
    routes = [list(r) for r in ref.answer.routes]
    routes[1] = [[s["Koganei"], s["Hongo"]], [s["Koganei"], s["Otemachi"], s["Hongo"]]]
    errors = " | ".join(QKD.validate(dataclasses.replace(ref.answer, routes=routes), data).errors)
    assert "is given 2 QKD chains" in errors
    assert "which no candidate link joins" in errors
    far = diamond(
        security=["qkd_or_pqc", "qkd", "qkd_or_pqc", "pqc"], length_km=[60, 60, 150, 40, 70]
    )
    plan = make_plan(far, [0, 0, 1, 0, 0], [0] * 4, [1, 0, 1, 0], [[[0, 2]], [], [], []], [1] * 4)
    errors = " | ".join(QKD.validate(plan, far).errors)
    assert "link a–c (150 km) is beyond QKD reach" in errors


def test_validator_rejects_wrong_shapes(tokyo):
    data, ref = tokyo
    check = QKD.validate(dataclasses.replace(ref.answer, pairs=np.zeros(3)), data)
    assert not check.valid and check.objective is None


# ---------------------------------------------------------------------- data and generator
def test_registered_and_generator_seeded():
    assert "qkd-network" in use_case_names()
    for scale in ("metro", "national"):
        a = QKD.generate(9, seed=5, scale=scale)
        b = QKD.generate(9, seed=5, scale=scale)
        assert np.array_equal(a.links, b.links) and np.array_equal(a.length_km, b.length_km)
        assert np.array_equal(a.demands, b.demands) and a.security == b.security
        assert a.num_sites == 9 and a.num_demands == 9
    metro, national = QKD.generate(9, seed=5), QKD.generate(9, seed=5, scale="national")
    assert metro.length_km.max() < 100 < national.length_km.max()
    assert not np.array_equal(QKD.generate(9, seed=6).demands, metro.demands)


def test_unreachable_qkd_required_demand_is_refused_with_a_reason():
    with pytest.raises(AppDataError, match="requires QKD but no chain"):
        diamond(
            length_km=[160.0, 160.0, 300.0, 160.0, 160.0],
            security=["qkd", "pqc", "pqc", "pqc"],
        )
    with pytest.raises(AppDataError, match="unknown security class"):
        diamond(security=["qkd", "qkd", "quantum", "pqc"])
    with pytest.raises(AppDataError, match="listed twice"):
        diamond(links=[[0, 1], [1, 0], [0, 2], [0, 3], [3, 2]])


# ---------------------------------------------------------------------- reader
def _write_tables(tmp_path, doc, tables):
    for name, (header, rows) in tables.items():
        lines = [",".join(header)] + [",".join(map(str, r)) for r in rows]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n")
        doc[name] = f"{name}.csv"
    path = tmp_path / "net.json"
    path.write_text(json.dumps(doc))
    return path


def test_reader_takes_csv_tables_beside_the_json(tmp_path):
    path = _write_tables(
        tmp_path,
        {"name": "line", "costs": {"qkd_pair": 50}, "settings": {"max_trusted_nodes": 0}},
        {
            "sites": (
                ["name", "x_km", "y_km", "trusted_allowed"],
                [["a", 0, 0, ""], ["b", 9, 0, "no"], ["c", 18, 0, ""]],
            ),
            "links": (
                ["a", "b", "length_km", "loss_db_per_km"],
                [["a", "b", 10, 0.3], ["b", "c", 10, ""]],
            ),
            "demands": (["a", "b", "rate_bps", "security"], [["a", "c", 2000, "qkd_or_pqc"]]),
        },
    )
    data = QKD.read(path)
    assert data.name == "line" and data.sites == ["a", "b", "c"]
    assert data.pair_cost.tolist() == [50.0, 50.0]
    assert data.link_loss_db_per_km.tolist() == [0.3, 0.21]
    assert data.trusted_allowed.tolist() == [True, False, True]
    assert data.max_trusted_nodes == 0
    ref = QKD.baseline(data, time_limit=10)
    assert ref.answer.protection[0]["mode"] == "pqc"  # b may not relay: no QKD chain


def test_reader_errors_are_clear(tmp_path):
    def bad(doc, match):
        path = tmp_path / "bad.json"
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        with pytest.raises(KakehashiError, match=match):
            QKD.read(path)

    good = json.loads(_tokyo_text())
    bad("{not json", "is not valid JSON")
    bad([1, 2], "holds no JSON object")
    bad({**good, "sitez": []}, r"unknown keys \['sitez'\]")
    bad({k: v for k, v in good.items() if k != "links"}, "has no 'links' table")
    bad(
        {**good, "links": [{"a": "Koganei", "b": "Nowhere", "length_km": 3}]},
        "unknown site 'Nowhere'",
    )
    bad({**good, "links": [{"a": "Koganei", "b": "Otemachi"}]}, r"lacks \['length_km'\]")
    bad(
        {**good, "links": [{"a": "Koganei", "b": "Otemachi", "length_km": "far"}]},
        "'far', not a number",
    )
    bad({**good, "sites": [{"name": s["name"]} for s in good["sites"]]}, "sites need coordinates")
    bad({**good, "costs": {"qkd_pairs": 3}}, r"'costs' has unknown keys \['qkd_pairs'\]")
    bad({**good, "physics": {"misalignment": 0.7}}, "misalignment")
    bad({**good, "sites": "missing.csv"}, "no such file")
    with pytest.raises(InputFormatError, match="not one of the shipped networks"):
        QKD.load("atlantis")


def _tokyo_text() -> str:
    from kakehashi.apps.base import shipped_instance_dir

    return (shipped_instance_dir() / "qkd-network" / "tokyo-qkd.json").read_text()


# ---------------------------------------------------------------------- QUBO path and CLI
@pytest.mark.parametrize(
    ("backend", "work"),
    [
        ("sa", {"num_reads": 32, "num_sweeps": 2000, "threads": 1}),
        ("tabu", {"num_reads": 8, "max_moves": 20000, "threads": 1}),
    ],
)
def test_a_tiny_network_solves_and_validates_on_a_qubo_backend(backend, work):
    # a fixed amount of work (not a time limit) keeps the outcome the same on a busy machine
    data = QKD.generate(3, seed=2)
    run = QKD.run(data, backend=backend, time_limit=60, seed=1, baseline_time_limit=10, **work)
    assert run.validation.valid, run.validation.errors
    assert run.answer.objective == pytest.approx(run.result.objective)
    assert run.answer.objective >= run.baseline.objective - 1e-9


def test_tokyo_on_tabu_gives_a_valid_plan(tokyo):
    data, ref = tokyo
    work = {"num_reads": 8, "max_moves": 100_000, "threads": 1}
    run = QKD.run(data, backend="tabu", time_limit=60, seed=1, baseline=False, **work)
    assert run.validation.valid, run.validation.errors
    assert run.answer.objective >= ref.objective - 1e-9


def test_qubo_samplers_get_the_scaled_penalty_and_mip_solvers_do_not():
    from kakehashi.apps.qkd_network import _runs_penalty_loop

    assert _runs_penalty_loop("tabu") and _runs_penalty_loop("sa")
    assert not _runs_penalty_loop("highs") and not _runs_penalty_loop(["tabu", "sa"])
    assert not _runs_penalty_loop("no-such-backend")


def test_cli_runs_the_shipped_tokyo_network():
    from typer.testing import CliRunner

    from kakehashi.cli import app

    out = CliRunner().invoke(
        app,
        ["apps", "run", "qkd-network", "--instance", "tokyo-qkd", "--backend", "highs", "--json"],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["valid"] and doc["baseline"]["status"] == "optimal"
    assert doc["answer"]["objective"] == pytest.approx(doc["baseline"]["answer"]["objective"])
    listed = CliRunner().invoke(app, ["apps", "list", "--json"])
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["qkd-network"]["instances"] == ["tokyo-qkd"]


@pytest.mark.parametrize(
    "module", ["qkd_network", "_qkd_keyrate", "_qkd_validate", "_qkd_generate", "_qkd_io"]
)
def test_docstring_examples_hold(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"kakehashi.apps.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
