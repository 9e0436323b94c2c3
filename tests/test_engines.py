"""The numba engines against exhaustive enumeration, and their contracts (no timing asserts)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from kakehashi import engines
from kakehashi.engines import anneal, bifurcate, exhaust, polish, populate, tabu, temper


def random_qubo(n: int, density: float, seed: int, integer: bool = False):
    rng = np.random.default_rng(seed)
    upper = sp.random(n, n, density=density, random_state=rng, format="coo")
    upper = sp.triu(upper, k=1).tocoo()
    vals = rng.integers(-5, 6, upper.nnz).astype(float) if integer else rng.normal(size=upper.nnz)
    J = sp.coo_matrix(
        (np.r_[vals, vals], (np.r_[upper.row, upper.col], np.r_[upper.col, upper.row])),
        shape=(n, n),
    ).tocsr()
    h = rng.integers(-5, 6, n).astype(float) if integer else rng.normal(size=n)
    return h, J, float(rng.normal())


RUNNERS = {
    "sa": lambda q, **kw: anneal(q, num_reads=8, num_sweeps=300, **kw),
    "pt": lambda q, **kw: temper(q, num_replicas=8, max_sweeps=400, **kw),
    "pa": lambda q, **kw: populate(q, population=16, steps=200, **kw),
    "tabu": lambda q, **kw: tabu(q, max_moves=3000, **kw),
    "sb": lambda q, **kw: bifurcate(q, steps=300, num_replicas=16, **kw),
    "sb-ballistic": lambda q, **kw: bifurcate(q, variant="ballistic", steps=300, **kw),
}


@pytest.mark.parametrize("name", list(RUNNERS))
@pytest.mark.parametrize("case", [(6, 0.6, 0, False), (12, 0.4, 1, True), (14, 0.3, 2, False)])
def test_engines_find_the_exact_minimum(name, case):
    n, density, seed, integer = case
    q = random_qubo(n, density, seed, integer)
    exact = exhaust(q).best_energy
    res = RUNNERS[name](q, seed=seed)
    assert res.best_energy == pytest.approx(exact, abs=1e-9)


@pytest.mark.parametrize("name", list(RUNNERS))
def test_energies_equal_energies_recomputed_from_samples(name):
    h, J, off = random_qubo(30, 0.2, 7)
    res = RUNNERS[name]((h, J, off), seed=3)
    X = res.samples.astype(float)
    direct = off + X @ h + 0.5 * np.einsum("ij,ij->i", X @ J.toarray(), X)
    np.testing.assert_allclose(res.energies, direct, rtol=0, atol=1e-9)
    assert set(np.unique(res.samples)) <= {0, 1}
    assert np.all(np.diff(res.energies) >= 0)  # best first
    assert res.trace.ndim == 2 and res.trace.shape[1] == 2
    if res.trace.shape[0] > 1:
        assert np.all(np.diff(res.trace[:, 1]) < 0) and np.all(np.diff(res.trace[:, 0]) >= 0)


@pytest.mark.parametrize("name", list(RUNNERS))
def test_same_seed_same_samples(name):
    q = random_qubo(40, 0.15, 11)
    a = RUNNERS[name](q, seed=123, threads=2)
    b = RUNNERS[name](q, seed=123, threads=2)
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.energies, b.energies)


def test_annealing_samples_do_not_depend_on_thread_count():
    q = random_qubo(40, 0.15, 12)
    a = anneal(q, num_reads=6, num_sweeps=100, seed=5, threads=1)
    b = anneal(q, num_reads=6, num_sweeps=100, seed=5, threads=2)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_population_annealing_does_not_depend_on_thread_count():
    q = random_qubo(40, 0.15, 12)
    a = populate(q, population=12, steps=150, seed=5, threads=1)
    b = populate(q, population=12, steps=150, seed=5, threads=2)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert a.info["steps"] == 150 and a.samples.shape == (13, 40)  # best + population


@pytest.mark.parametrize(
    "run",
    [
        lambda q, **kw: anneal(q, **kw),
        lambda q, **kw: temper(q, **kw),
        lambda q, **kw: populate(q, **kw),
        lambda q, **kw: tabu(q, **kw),
        lambda q, **kw: bifurcate(q, steps=200_000, **kw),
    ],
    ids=["sa", "pt", "pa", "tabu", "sb"],
)
def test_time_limit_is_respected(run):
    # a frustrated random problem with no target: only the clock can stop these runs
    q = random_qubo(400, 0.05, 21)
    run(q, seed=0, time_limit=0.05)  # compile outside the measurement
    t0 = time.perf_counter()
    res = run(q, seed=0, time_limit=0.5)
    elapsed = time.perf_counter() - t0
    assert res.info["stopped"] == "time"
    assert elapsed < 0.5 + 1.0  # generous: polishing and a kernel's last check come after


@pytest.mark.parametrize(
    "run",
    [
        lambda q, **kw: anneal(q, **kw),
        lambda q, **kw: temper(q, **kw),
        lambda q, **kw: populate(q, **kw),
        lambda q, **kw: tabu(q, **kw),
        lambda q, **kw: bifurcate(q, **kw),
    ],
    ids=["sa", "pt", "pa", "tabu", "sb"],
)
def test_target_energy_stops_the_run(run):
    q = random_qubo(20, 0.3, 5)
    optimum = exhaust(q).best_energy
    res = run(q, seed=1, time_limit=30.0, target=optimum)
    assert res.best_energy == pytest.approx(optimum)
    assert res.info["stopped"] == "target"
    assert res.time_to(optimum) is not None
    assert res.info["elapsed"] < 30.0


def test_polish_reaches_a_local_minimum():
    h, J, off = random_qubo(50, 0.2, 4)
    X = np.random.default_rng(0).integers(0, 2, size=(5, 50))
    res = polish((h, J, off), X)
    for x in res.samples:
        g = h + J @ x
        delta = np.where(x == 0, g, -g)
        assert delta.min() >= -1e-9


def test_exhaust_matches_brute_force():
    h, J, off = random_qubo(10, 0.5, 9)
    X = ((np.arange(1024)[:, None] >> np.arange(10)[None, :]) & 1).astype(float)
    E = off + X @ h + 0.5 * np.einsum("ij,ij->i", X @ J.toarray(), X)
    res = exhaust((h, J, off), keep=3)
    np.testing.assert_allclose(res.energies, np.sort(E)[:3])


def test_accepts_a_qubo_object_and_rejects_bad_arrays():
    from kakehashi.compile.qubo import Qubo

    h, J, off = random_qubo(12, 0.4, 3)
    res = tabu(Qubo(h, J, off), seed=0, max_moves=2000)
    assert res.best_energy == pytest.approx(exhaust((h, J, off)).best_energy)
    with pytest.raises(ValueError, match="symmetric"):
        engines.as_arrays((h, sp.triu(J).tocsr()))
    with pytest.raises(ValueError, match="diagonal"):
        engines.as_arrays((h, J + sp.eye(12)))


def test_default_beta_range_is_hot_to_cold():
    lo, hi = engines.default_beta_range(engines.as_arrays(random_qubo(30, 0.2, 1)))
    assert 0 < lo < hi


def test_sb_gpu_path_runs_on_torch_cpu():
    pytest.importorskip("torch")
    q = random_qubo(12, 0.4, 1, True)
    res = bifurcate(q, seed=0, steps=300, num_replicas=64, device="torch-cpu")
    assert res.best_energy == pytest.approx(exhaust(q).best_energy)
    assert res.info["device"] == "torch-cpu"


def test_timed_annealing_doubles_then_fills_the_time_left():
    from kakehashi.engines.annealing import _next_sweeps

    # 256 sweeps took 0.1 s: with 10 s left there is room for more doublings
    assert _next_sweeps(256, 0.1, 10.0) == 512
    # 0.5 s left: after a doubled batch (0.2 s) the next (0.4 s) would not fit, so fill the rest
    assert _next_sweeps(256, 0.1, 0.5) == int(0.9 * 0.5 / (0.1 / 256))
    # less time left than one batch took: a shorter batch that still finishes its schedule
    assert _next_sweeps(256, 0.1, 0.05) < 256


def test_anneal_keeps_last_or_best_states_and_checks_the_choice():
    q = random_qubo(40, 0.3, seed=7)
    kw = {"num_reads": 16, "num_sweeps": 20, "beta_range": (0.05, 0.2), "seed": 3}
    kw.update(polish=False, presolve=False)
    last = anneal(q, keep="last", free_moves=1.0, **kw)
    best = anneal(q, **kw)
    assert last.info["keep"] == "last" and best.info["keep"] == "best"
    # hot throughout, so a read's last state is worse than the best it saw
    assert last.energies.mean() > best.energies.mean()
    with pytest.raises(ValueError, match="keep"):
        anneal(q, keep="first", **kw)
    with pytest.raises(ValueError, match="free_moves"):
        anneal(q, free_moves=1.5, **kw)
