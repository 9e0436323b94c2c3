"""D-Wave backends, offline: the whole QPU path on dwave-system's MockDWaveSampler.

Embedding (minorminer), chain strength, embedding into the mock's Pegasus/Chimera graph,
sampling and majority-vote unembedding all run for real; only the annealer is a classical
stand-in. The Leap hybrid path is exercised with dimod's exact solvers standing in for
Leap; the real QPU and Leap are only checked for their credential errors (no network).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("dwave.system")

import kakehashi
from kakehashi.backends import get_backend
from kakehashi.errors import BackendUnavailableError, KakehashiError, UnsupportedError
from kakehashi.model.problem import Problem

SMALL_CHIMERA = ("chimera", (2, 2, 4))  # 32 qubits: quick, and small enough to overflow


def complete_qubo_problem(n: int, seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    upper = sp.triu(rng.normal(size=(n, n)), k=1)
    return Problem.from_arrays(linear=rng.normal(size=n), quadratic=upper, name=f"K{n}")


def test_mock_maxcut_finds_the_exact_optimum_and_reports_the_qpu_path():
    problem = kakehashi.examples.small_maxcut()
    exact = kakehashi.solve(problem, backend="exact")
    r = kakehashi.solve(problem, backend="dwave-mock", seed=3, num_reads=50)
    assert r.feasible and r.objective == exact.objective == -5.0
    info = r.info["rounds"][0]
    assert info["target_graph"].startswith("pegasus[16]")
    assert info["physical_qubits"] >= problem.num_variables
    assert info["chain_strength"] > 0 and "torque" in info["chain_strength_rule"]
    assert 0.0 <= info["chain_break_fraction_mean"] <= 1.0
    assert info["num_reads"] == 50
    # D-Wave's µs timings are kept, in seconds, and flagged as the mock's fixed figures
    assert 0 < r.timing.vendor["qpu_access_time"] < 1.0
    assert "demonstration" in info["vendor_timing_note"]


def test_mock_is_reproducible_with_a_seed():
    problem = complete_qubo_problem(10, seed=4)
    a = kakehashi.solve(problem, backend="dwave-mock", seed=11, num_reads=20)
    b = kakehashi.solve(problem, backend="dwave-mock", seed=11, num_reads=20)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_mock_solves_a_constrained_assignment_to_optimality():
    problem = kakehashi.examples.random_assignment(3)
    exact = kakehashi.solve(problem, backend="exact")
    r = kakehashi.solve(problem, backend="dwave-mock", seed=1, num_reads=100)
    assert r.feasible
    assert r.objective == exact.objective
    rounds = r.info["rounds"]
    # the adaptive penalty loop re-samples the same structure: the embedding is reused
    assert all(rd["embedding_cached"] for rd in rounds[1:])


def test_given_chain_strength_is_used_and_the_embedding_is_a_valid_minor():
    import networkx as nx

    problem = complete_qubo_problem(6, seed=2)
    r = kakehashi.solve(
        problem,
        backend="dwave-mock",
        seed=2,
        num_reads=20,
        chain_strength=7.5,
        topology=SMALL_CHIMERA,
        return_embedding=True,
    )
    info = r.info["rounds"][0]
    assert info["chain_strength"] == 7.5 and info["chain_strength_rule"] == "given"
    embedding = {int(k): v for k, v in info["embedding"].items()}
    assert sorted(embedding) == list(range(6))
    graph = get_backend("dwave-mock").child_sampler(seed=0, options={"topology": SMALL_CHIMERA})
    target = nx.Graph(graph.edgelist)
    used = [q for chain in embedding.values() for q in chain]
    assert len(used) == len(set(used)), "chains must be disjoint"
    for chain in embedding.values():
        assert nx.is_connected(target.subgraph(chain))
    for u, v in itertools.combinations(range(6), 2):  # K6: every pair of chains touches
        assert any(target.has_edge(a, b) for a in embedding[u] for b in embedding[v])


def test_more_variables_than_qubits_is_refused_before_sampling():
    problem = complete_qubo_problem(40)
    with pytest.raises(UnsupportedError, match="only 32 qubits"):
        kakehashi.solve(problem, backend="dwave-mock", seed=0, topology=SMALL_CHIMERA)


def test_an_unembeddable_problem_gets_a_clear_error():
    # Chimera C(2,2,4) holds cliques up to K9; K14 cannot be embedded
    problem = complete_qubo_problem(14)
    with pytest.raises(UnsupportedError, match=r"no minor embedding.*dwave-hybrid"):
        kakehashi.solve(
            problem, backend="dwave-mock", seed=0, topology=SMALL_CHIMERA, embedding_timeout=1
        )


def test_unknown_options_are_named():
    with pytest.raises(KakehashiError, match="annealing_tme"):
        kakehashi.solve(kakehashi.examples.small_maxcut(), backend="dwave-mock", annealing_tme=5)


@pytest.mark.parametrize("name", ["dwave-qpu", "dwave-hybrid"])
def test_cloud_backends_name_the_missing_token(monkeypatch, name):
    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    avail = get_backend(name).available()
    assert not avail and "DWAVE_API_TOKEN" in avail.reason
    with pytest.raises(BackendUnavailableError, match="DWAVE_API_TOKEN"):
        kakehashi.solve(kakehashi.examples.small_maxcut(), backend=name)


def test_hybrid_paths_with_dimod_solvers_standing_in_for_leap(monkeypatch):
    import dimod

    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    hybrid = get_backend("dwave-hybrid")
    # unconstrained → BQM through the compiler
    r = hybrid.solve(kakehashi.examples.small_maxcut(), seed=0, sampler=dimod.ExactSolver())
    assert r.objective == -5.0 and r.info["rounds"][0]["form"] == "bqm"
    # constrained → CQM with native constraints (no penalties)
    problem = kakehashi.examples.random_assignment(3)
    exact = kakehashi.solve(problem, backend="exact")
    r = hybrid.solve(problem, seed=0, sampler=dimod.ExactCQMSolver())
    assert r.info["form"] == "cqm"
    assert r.feasible and r.objective == exact.objective
