"""dwave-samplers (SA, tabu, steepest descent) and OpenJij (SA, SQA) through kakehashi.solve."""

from __future__ import annotations

import subprocess
import sys

import dimod
import numpy as np
import pytest
import scipy.sparse as sp

import kakehashi
from kakehashi.backends import get_backend
from kakehashi.backends.open_heuristics import run_batches, sampleset_to_array
from kakehashi.compile.qubo import Qubo
from kakehashi.errors import KakehashiError
from kakehashi.model.problem import Problem

DWAVE = ["dwave-sa", "dwave-tabu", "dwave-sd"]
OPENJIJ = ["openjij-sa", "openjij-sqa"]
ALL = DWAVE + OPENJIJ


def need(name: str) -> None:
    avail = get_backend(name).available()
    if not avail:
        pytest.skip(f"{name}: {avail.reason}")


def random_qubo_problem(n: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    q = sp.random(n, n, density=0.5, random_state=seed)
    q.data = rng.integers(-5, 6, q.nnz).astype(float)
    return Problem.from_arrays(linear=rng.integers(-5, 6, n).astype(float), quadratic=q)


# fixed read counts make the runs independent of machine speed, hence deterministic;
# (a generous limit they never reach); tabu runs on its own clock: it gets a short one
READS = {"dwave-sa": 32, "dwave-tabu": 4, "dwave-sd": 64, "openjij-sa": 16, "openjij-sqa": 8}
LIMIT = {"dwave-tabu": 0.3}


@pytest.mark.parametrize("backend", ALL)
def test_known_optima_through_solve(backend):
    need(backend)
    for problem, optimum in (
        (kakehashi.examples.small_maxcut(), -5.0),
        (kakehashi.examples.random_assignment(3), None),
    ):
        if optimum is None:
            optimum = kakehashi.solve(problem, backend="exact").objective
        r = kakehashi.solve(
            problem,
            backend=backend,
            seed=5,
            time_limit=LIMIT.get(backend, 30.0),
            num_reads=READS[backend],
        )
        assert r.feasible, (backend, problem.name)
        assert r.objective == pytest.approx(optimum), (backend, problem.name)
        assert r.timing.vendor["sampler_seconds"] > 0
        assert r.info["rounds"][0]["reads"] == READS[backend]


@pytest.mark.parametrize("backend", ["dwave-sa", "dwave-tabu", "dwave-sd", "openjij-sa"])
@pytest.mark.parametrize("seed", [0, 1])
def test_random_qubos_match_exhaustive_search(backend, seed):
    need(backend)
    p = random_qubo_problem(12, seed)
    exact = kakehashi.solve(p, backend="exact").objective
    limit = LIMIT.get(backend, 30.0)
    r = kakehashi.solve(p, backend=backend, seed=seed, time_limit=limit, num_reads=READS[backend])
    assert r.objective == pytest.approx(exact)


@pytest.mark.parametrize("backend", ["dwave-sa", "dwave-sd", "openjij-sa", "openjij-sqa"])
def test_same_seed_same_samples(backend):
    need(backend)
    p = random_qubo_problem(20, 3)
    runs = [
        kakehashi.solve(p, backend=backend, seed=11, time_limit=5.0, num_reads=6, num_sweeps=50)
        if backend != "dwave-sd"
        else kakehashi.solve(p, backend=backend, seed=11, time_limit=5.0, num_reads=6)
        for _ in range(2)
    ]
    assert np.array_equal(runs[0].samples, runs[1].samples)


def test_openjij_reads_differ_although_openjij_reuses_one_seed_per_call():
    need("openjij-sa")
    p = random_qubo_problem(30, 4)
    r = kakehashi.solve(p, backend="openjij-sa", seed=2, time_limit=5, num_reads=8, num_sweeps=5)
    assert r.num_samples > 1  # 5 sweeps from 8 independent starts: distinct answers


def test_tabu_splits_the_time_limit_over_its_reads():
    need("dwave-tabu")
    r = kakehashi.solve(
        kakehashi.examples.small_maxcut(), backend="dwave-tabu", seed=1, time_limit=0.4, num_reads=2
    )
    first = r.info["rounds"][0]  # the budget the penalty loop handed this round
    assert first["timeout_ms"] == int(1000 * 0.9 * first["time_limit"] / 2)


def test_constrained_problem_goes_through_the_penalty_loop():
    need("dwave-sa")
    p = kakehashi.examples.knapsack(8)
    r = kakehashi.solve(p, backend="dwave-sa", seed=3, time_limit=3.0, num_reads=64)
    assert r.feasible
    assert r.objective == pytest.approx(kakehashi.solve(p, backend="exact").objective)
    assert r.info["slack_variables"] > 0


@pytest.mark.parametrize("backend", ALL)
def test_unknown_options_are_refused_with_the_accepted_ones(backend):
    need(backend)
    with pytest.raises(KakehashiError, match=r"does not take the option 'sweeps'.*num_reads"):
        kakehashi.solve(kakehashi.examples.small_maxcut(), backend=backend, sweeps=10)


# ---------------------------------------------------------------------- the batch loop
def test_run_batches_makes_exactly_num_reads_and_keeps_the_best():
    q = Qubo(np.array([1.0, -1.0, 0.5]), np.zeros((3, 3)))
    calls: list[tuple[int, int]] = []

    def call(reads: int, seed: int) -> np.ndarray:
        calls.append((reads, seed))
        return np.random.default_rng(seed).integers(0, 2, (reads, 3))

    batch = run_batches(call, q, time_limit=60, seed=7, num_reads=50, max_reads=10, keep=3)
    assert sum(r for r, _ in calls) == 50 == batch.info["reads"]
    assert calls[0][0] == 1  # the first call measures the cost of one read
    assert len({s for _, s in calls}) == len(calls)  # every call its own seed
    assert batch.samples.shape == (3, 3)
    assert batch.samples[0].tolist() == [0, 1, 0]  # the ground state of h
    assert np.all(np.diff(batch.energies) >= 0)


def test_run_batches_always_makes_one_read_and_stops_at_the_deadline():
    q = Qubo(np.array([1.0]), np.zeros((1, 1)))
    batch = run_batches(
        lambda k, s: np.ones((k, 1)), q, time_limit=0.0, seed=None, num_reads=None, max_reads=99
    )
    assert batch.info["reads"] == 1


def test_run_batches_one_read_per_call_when_asked():
    q = Qubo(np.array([1.0]), np.zeros((1, 1)))
    sizes = []
    run_batches(
        lambda k, s: sizes.append(k) or np.zeros((k, 1)),
        q,
        time_limit=60,
        seed=1,
        num_reads=5,
        max_reads=5,
        reads_per_call=1,
    )
    assert sizes == [1] * 5


def test_bad_num_reads_is_refused():
    q = Qubo(np.array([1.0]), np.zeros((1, 1)))
    with pytest.raises(KakehashiError, match="num_reads"):
        run_batches(
            lambda k, s: np.zeros((k, 1)), q, time_limit=1, seed=1, num_reads=0, max_reads=1
        )


def test_sampleset_columns_follow_variable_labels():
    ss = dimod.SampleSet.from_samples(([[1, 0, 1]], [2, 0, 1]), vartype=dimod.BINARY, energy=[0.0])
    assert sampleset_to_array(ss, 3).tolist() == [[0, 1, 1]]


@pytest.mark.parametrize("module", ["dwave.samplers", "openjij"])
def test_each_package_imports_on_its_own(module):
    out = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
