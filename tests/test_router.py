"""The router: features, candidates and caps, preferences, explanation, retraining, fallback."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

import kakehashi
from kakehashi.cli import app
from kakehashi.errors import KakehashiError, UnsupportedError
from kakehashi.model.problem import Problem
from kakehashi.router import features, load_model, route
from kakehashi.router.model import RouterModelError
from kakehashi.router.selector import QUANTUM_MODALITIES, Candidate, _rank


# ---------------------------------------------------------------------- features
def triangle_maxcut() -> Problem:
    # max-cut of K3 with unit weights: maximise Σ x_i + x_j − 2 x_i x_j
    q = sp.coo_matrix(([-2.0, -2.0, -2.0], ([0, 1, 0], [1, 2, 2])), shape=(3, 3))
    return Problem.from_arrays(linear=[2.0, 2.0, 2.0], quadratic=q, sense="max")


def test_features_of_a_triangle_by_hand():
    f = features(triangle_maxcut())
    assert f["num_variables"] == 3 and f["num_constraints"] == 0
    assert f["frac_binary"] == 1.0 and f["frac_integer"] == 0.0
    assert f["density"] == 1.0 and f["deg_mean_rel"] == 1.0 and f["deg_cv"] == 0.0
    assert f["unit_weights"] == 1.0 and f["quad_pos_frac"] == 0.0
    # adjacency −2·K3 has eigenvalues −4, 2, 2 and Frobenius norm √24
    assert f["eig_max_rel"] == pytest.approx(2 / math.sqrt(24))
    assert f["eig_min_rel"] == pytest.approx(-4 / math.sqrt(24))
    assert f["eig_ratio"] == pytest.approx(2.0)
    assert f["coef_distinct_log"] == pytest.approx(math.log10(3))  # values 2 and −2
    assert f["coef_log_range"] == 0.0 and f["coef_integral"] == 1.0
    assert f["maximise"] == 1.0 and f["qubo_variables"] == 3


def test_features_count_slack_bits_and_constraint_classes():
    # 2a + 3b + 4c ≤ 5: activity 0..9, the row allows 0..5 → ⌈log2 6⌉ = 3 slack bits
    knap = Problem.from_arrays(
        linear=[1.0, 1.0, 1.0], A=[[2.0, 3.0, 4.0]], lo=[-np.inf], hi=[5.0], sense="max"
    )
    f = features(knap)
    assert f["qubo_variables"] == 6 and f["slack_bits_rel"] == 1.0
    assert f["frac_rows_ineq"] == 1.0 and f["frac_rows_one_hot"] == 0.0
    assert f["a_log_range"] == pytest.approx(math.log10(2))
    # Σx = 1 is one-hot; x0 + x1 ≤ 1 is at-most-one and needs no slack
    rows = Problem.from_arrays(
        linear=[1.0, 2.0, 3.0], A=[[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]], lo=[1.0, -np.inf],
        hi=[1.0, 1.0],
    )  # fmt: skip
    g = features(rows)
    assert g["frac_rows_one_hot"] == 0.5 and g["frac_rows_at_most_one"] == 0.5
    assert g["frac_rows_eq"] == 0.5 and g["qubo_variables"] == 3


def test_features_of_integers_and_continuous_variables():
    ints = Problem.from_arrays(linear=[1.0, -1.0], vtype="integer", lower=[0, 0], upper=[5, 5])
    f = features(ints)
    assert f["frac_integer"] == 1.0 and f["qubo_variables"] == 6  # 3 bits each for 0..5
    assert f["assignments_log2"] == pytest.approx(2 * math.log2(6))
    cont = Problem.from_arrays(linear=[1.0], vtype="continuous", lower=[0], upper=[1])
    g = features(cont)
    assert g["frac_continuous"] == 1.0 and math.isinf(g["assignments_log2"])


def test_features_of_a_higher_order_term():
    m = kakehashi.Model("cubic")
    x = m.binary("x", shape=4)
    m.minimize(x[0] * x[1] * x[2] - 2 * x[1] * x[3] + x[0])
    f = features(m.to_problem())
    # the cubic monomial is a triangle in the interaction graph, plus the pair (1, 3)
    assert f["max_order"] == 3 and f["density"] == pytest.approx(4 / 6)
    assert f["qubo_variables"] == 5  # one Rosenberg auxiliary


def test_spectral_features_on_a_larger_graph_use_lanczos():
    from kakehashi.bench.generators import maxcut_random

    p = maxcut_random(200, 0.05, seed=3)
    f = features(p)
    q = p.quadratic
    dense = (q + q.T).toarray()
    np.fill_diagonal(dense, 0)
    vals = np.linalg.eigvalsh(dense)
    fro = np.linalg.norm(dense)
    # loose tolerance, capped iterations: close to the true extremes, not exact
    assert f["eig_min_rel"] == pytest.approx(vals[0] / fro, rel=0.05)
    assert f["eig_max_rel"] == pytest.approx(vals[-1] / fro, rel=0.05)


# ---------------------------------------------------------------------- candidates and caps
def test_unavailable_backends_are_never_chosen(monkeypatch):
    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    d = route(kakehashi.examples.knapsack(10), time_limit=1.0, backends=["dwave-qpu", "tabu"])
    assert d.choice == "tabu"
    qpu = next(c for c in d.candidates if c.name == "dwave-qpu")
    assert not qpu.available and "DWAVE_API_TOKEN" in qpu.excluded
    assert "dwave-qpu unavailable" in d.reason


def test_inapplicable_backends_are_left_out():
    cont = Problem.from_arrays(
        linear=[1.0, 2.0], vtype="continuous", lower=[0, 0], upper=[3, 3], A=[[1.0, 1.0]],
        lo=[-np.inf], hi=[4.0], sense="max",
    )  # fmt: skip
    d = route(cont, time_limit=1.0, backends=["sa", "tabu", "highs"])
    assert d.choice == "highs"
    sa = next(c for c in d.candidates if c.name == "sa")
    assert not sa.applicable and "continuous" in sa.excluded
    big = kakehashi.examples.knapsack(40)
    d = route(big, time_limit=1.0, backends=["qaoa-aer", "exact", "tabu"])
    assert d.choice == "tabu"
    assert all(not c.eligible for c in d.candidates if c.name != "tabu")


def test_co2_predictions_use_the_accounting_grid_intensity():
    from kakehashi.bench.accounting import JAPAN_GRID
    from kakehashi.router.selector import GRID_G_PER_KWH

    assert GRID_G_PER_KWH == JAPAN_GRID.grams_per_kwh


def test_max_cost_leaves_out_what_may_cost_more():
    p = kakehashi.examples.knapsack(12)
    free = route(p, time_limit=1.0)
    priced = [c for c in free.candidates if c.eligible and c.money is not None]
    # the full-budget catalog price of each (as solve's max_cost check computes it)
    from kakehashi.backends import get_backend
    from kakehashi.backends.catalog import estimate_run

    full = {c.name: estimate_run(get_backend(c.name), p, time_limit=1.0).money for c in priced}
    cap = min(full.values())
    capped = route(p, time_limit=1.0, max_cost=cap)
    for c in capped.candidates:
        if c.eligible:
            assert full[c.name] <= cap
        elif c.name in full and full[c.name] > cap:
            assert "max_cost" in c.excluded
    with pytest.raises(UnsupportedError, match="no backend can take"):
        route(p, time_limit=1.0, max_cost=0.0)


# ---------------------------------------------------------------------- preferences
def _cands() -> list[Candidate]:
    return [
        Candidate("best", "classical heuristic", gap=0.0, p_reach=0.9, seconds=1.0,
                  money=3e-5, co2_grams=3e-3),
        Candidate("fast", "classical exact", gap=0.004, p_reach=0.5, seconds=0.05,
                  money=2e-5, co2_grams=2e-3),
        Candidate("cheap", "classical heuristic", gap=0.008, p_reach=0.4, seconds=0.9,
                  money=1e-6, co2_grams=5e-3),
        Candidate("green", "quantum-inspired", gap=0.009, p_reach=0.4, seconds=0.8,
                  money=4e-5, co2_grams=1e-4),
        Candidate("qpu", "quantum annealing", gap=0.3, p_reach=0.0, seconds=0.2,
                  money=1.0, co2_grams=1.0),
        Candidate("poor", "classical heuristic", gap=0.5, p_reach=0.0, seconds=0.01,
                  money=0.0, co2_grams=0.0),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("prefer", "expected"),
    [("quality", "best"), ("time", "fast"), ("cost", "cheap"), ("co2", "green"),
     ("quantum", "qpu")],
)  # fmt: skip
def test_prefer_changes_the_choice(prefer, expected):
    ranked = _rank(_cands(), prefer)
    assert ranked[0].name == expected
    # "poor" is fastest, cheapest and greenest but far from the best: never first
    assert ranked[0].name != "poor"


def test_prefer_quantum_picks_a_quantum_machine_with_the_shipped_model():
    p = kakehashi.examples.small_maxcut()
    d = route(p, time_limit=1.0, prefer="quantum")
    chosen = next(c for c in d.candidates if c.name == d.choice)
    assert chosen.modality in QUANTUM_MODALITIES
    assert all(c.modality in QUANTUM_MODALITIES for c in d.candidates if c.eligible), (
        "prefer='quantum' ranks only quantum machines"
    )


def test_bad_preference_and_misplaced_options_are_named():
    with pytest.raises(KakehashiError, match="prefer must be one of"):
        route(kakehashi.examples.small_maxcut(), prefer="fastest")
    with pytest.raises(KakehashiError, match="use them with backend='auto'"):
        kakehashi.solve(kakehashi.examples.small_maxcut(), backend="exact", prefer="time")


# ---------------------------------------------------------------------- explanation
def test_explanation_names_the_choice_and_the_runners_up():
    r = kakehashi.solve(kakehashi.examples.knapsack(10), time_limit=0.3, seed=1)
    info = r.info["router"]
    assert info["choice"] == r.backend == r.info["auto_choice"]
    assert info["method"] == "model"
    eligible = [c for c in info["candidates"] if not c["excluded"]]
    assert eligible[0]["name"] == r.backend
    reason = info["reason"]
    assert reason.startswith(f"auto chose {r.backend}: predicted ")
    runners = [c["name"] for c in eligible[1:] if c["gap"] is not None][:2]
    assert runners and all(f"{name} predicted" in reason for name in runners)
    for c in eligible:
        if c["gap"] is not None:
            assert c["seconds"] > 0 and c["money"] is not None and c["co2_grams"] is not None
    assert set(info["features"]) >= {"log_n", "density", "eig_max_rel", "slack_bits_rel"}
    summary_line = next(ln for ln in r.summary().splitlines() if ln.startswith("router "))
    assert f"auto chose {r.backend}" in summary_line


def test_explain_command_prints_the_ranking_without_solving():
    from kakehashi.bench.suite import package_data_dir

    path = package_data_dir() / "bqp50.txt"
    out = CliRunner().invoke(app, ["explain", str(path), "--time-limit", "0.5"])
    assert out.exit_code == 0, out.output
    assert "auto chose" in out.output and "ranking for" in out.output
    solved = CliRunner().invoke(app, ["solve", str(path), "-t", "0.2", "--seed", "1"])
    assert solved.exit_code == 0, solved.output
    assert "router     auto chose" in solved.output


# ---------------------------------------------------------------------- retraining
def _small_store(path):
    from kakehashi.backends import get_backend
    from kakehashi.bench.runner import BenchPlan, run_plan
    from kakehashi.bench.store import RunStore
    from kakehashi.bench.suite import InstanceSpec

    instances = [
        InstanceSpec("mc-10", "generator", {"generator": "maxcut-random",
                     "params": {"n": 10, "p": 0.5, "seed": 1}}),
        InstanceSpec("ks-10", "generator", {"generator": "knapsack", "params": {"n": 10}}),
    ]  # fmt: skip
    plan = BenchPlan(
        instances, [get_backend("exact"), get_backend("reference-sa")], repeats=1,
        time_limits=(0.05, 0.1), warmup=False,
    )  # fmt: skip
    store = RunStore(path)
    run_plan(plan, store, progress=False)
    store.close()


def test_retraining_from_a_small_run_store(tmp_path):
    runs = tmp_path / "runs.sqlite"
    _small_store(runs)
    model_path = tmp_path / "mine.npz"
    out = CliRunner().invoke(app, ["router", "train", str(runs), "--out", str(model_path)])
    assert out.exit_code == 0, out.output
    assert "trained on 8 runs of 2 instances" in out.output
    model = load_model(model_path)
    assert model.backends == ("exact", "reference-sa")
    shown = CliRunner().invoke(app, ["router", "info", str(model_path)])
    assert shown.exit_code == 0 and "instances  2: ks-10, mc-10" in shown.output
    assert sorted(model.meta["instances"]) == ["ks-10", "mc-10"]
    d = route(kakehashi.examples.knapsack(8), time_limit=0.1, router=str(model_path))
    assert d.method == "model" and d.model == str(model_path)
    assert d.choice in model.backends
    predicted = [c.name for c in d.candidates if c.gap is not None]
    assert sorted(predicted) == ["exact", "reference-sa"]
    os.environ["KAKEHASHI_ROUTER_MODEL"] = str(model_path)
    try:
        assert route(kakehashi.examples.knapsack(8), time_limit=0.1).model == str(model_path)
    finally:
        del os.environ["KAKEHASHI_ROUTER_MODEL"]


def test_a_named_model_that_cannot_be_read_is_an_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(RouterModelError, match="not a kakehashi router model"):
        route(kakehashi.examples.small_maxcut(), router=str(bad))
    out = CliRunner().invoke(app, ["router", "train", str(tmp_path / "nope"), "--out", "x.npz"])
    assert out.exit_code != 0


# ---------------------------------------------------------------------- fallback
def test_without_scikit_learn_routing_works_and_training_says_what_to_install(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        sys.modules["sklearn"] = None  # as if scikit-learn were not installed
        import kakehashi
        from kakehashi.errors import KakehashiError
        from kakehashi.router import route
        from kakehashi.router.train import fit, load_runs
        from kakehashi.solve import choose_backend
        p = kakehashi.examples.knapsack(10)
        d = route(p, time_limit=0.5)
        print("model", d.method, d.choice)
        r = route(p, time_limit=0.5, router="rule")
        assert r.choice == choose_backend(p).name and r.method == "rule", r
        print("rule", r.choice, r.reason)
        try:
            fit(load_runs([sys.argv[1]]))
        except KakehashiError as exc:
            print("train:", exc)
        """
    )
    runs = tmp_path / "runs.sqlite"
    _small_store(runs)
    out = subprocess.run(
        [sys.executable, "-c", script, str(runs)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "model model" in out.stdout
    assert "by the fixed rule" in out.stdout
    assert "train: training the router needs scikit-learn: pip install 'kakehashi[router]'" in (
        out.stdout
    )


def test_a_missing_shipped_model_falls_back_to_the_rule(monkeypatch, tmp_path):
    import kakehashi.router.model as model_mod

    monkeypatch.setattr(model_mod, "default_model_path", lambda: tmp_path / "gone.npz")
    p = kakehashi.examples.knapsack(10)
    r = kakehashi.solve(p, time_limit=0.2, seed=0)
    assert r.info["router"]["method"] == "rule"
    from kakehashi.solve import choose_backend

    assert r.backend == choose_backend(p).name
    assert "fixed rule" in r.info["router"]["reason"]


# ---------------------------------------------------------------------- portfolio
def test_portfolio_races_the_top_k():
    pytest.importorskip("kakehashi.executors.race", reason="the executors' race is not here")
    p = kakehashi.examples.knapsack(10)
    r = kakehashi.solve(p, time_limit=0.5, seed=1, portfolio=2)
    info = r.info["router"]
    assert len(info["portfolio"]) == 2
    ranked = [c["name"] for c in info["candidates"] if not c["excluded"]]
    assert info["portfolio"] == ranked[:2]
    assert r.backend in info["portfolio"] and "race" in r.info
    names = ", ".join(info["portfolio"])
    assert info["reason"].startswith(f"auto raced {names} (portfolio=2): {r.backend} won")


def test_portfolio_needs_a_whole_number():
    with pytest.raises(KakehashiError, match="portfolio must be a whole number"):
        kakehashi.solve(kakehashi.examples.knapsack(6), time_limit=0.2, portfolio=0)


def test_the_exported_forest_predicts_what_scikit_learn_predicts(tmp_path):
    from sklearn.ensemble import RandomForestRegressor

    from kakehashi.router.model import from_sklearn_forest

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    Y = np.column_stack([X[:, 0] > 0, np.sin(X[:, 1]), X[:, 2] * X[:, 3]])
    mean, std = Y.mean(axis=0), Y.std(axis=0)
    forest = RandomForestRegressor(n_estimators=7, max_depth=6, random_state=0)
    forest.fit(X, (Y - mean) / std)
    names = ("a", "b", "c")
    model = from_sklearn_forest(forest, names, ("p", "q"), mean, std, {})
    model = load_model(model.save(tmp_path / "m.npz"))
    Xt = rng.standard_normal((50, 5))
    expected = forest.predict(Xt) * std + mean
    assert np.allclose(model.predict(Xt), expected, atol=1e-5)
