"""kakehashi's engines as dimod samplers pass dimod's own conformance helpers."""

from __future__ import annotations

import subprocess
import sys
import unittest

import dimod
import dimod.testing
import numpy as np
import pytest

from kakehashi import ocean

SAMPLERS = [
    ocean.SimulatedAnnealingSampler,
    ocean.ParallelTemperingSampler,
    ocean.PopulationAnnealingSampler,
    ocean.TabuSampler,
    ocean.SimulatedBifurcationSampler,
    ocean.SteepestDescentSampler,
]


@pytest.mark.parametrize("cls", SAMPLERS)
def test_sampler_api(cls):
    dimod.testing.assert_sampler_api(cls())


# dimod's generated BQM tests (empty models, offsets only, spin/binary, odd labels, ...),
# one TestCase per sampler so pytest collects them
for _cls in SAMPLERS:

    @dimod.testing.load_sampler_bqm_tests(_cls)
    class _Conformance(unittest.TestCase):
        pass

    _Conformance.__name__ = f"Test{_cls.__name__}Conformance"
    globals()[_Conformance.__name__] = _Conformance
del _Conformance


@pytest.mark.parametrize("cls", SAMPLERS[:4])
@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_ground_state_of_a_small_model(cls, vartype):
    bqm = dimod.generators.gnp_random_bqm(12, 0.5, vartype, random_state=3)
    exact = dimod.ExactSolver().sample(bqm).first.energy
    ss = cls().sample(bqm, seed=1, time_limit=0.5, target=exact)
    assert ss.first.energy == pytest.approx(exact)
    dimod.testing.assert_sampleset_energies(ss, bqm)
    assert ss.vartype is bqm.vartype


def test_tabu_is_a_drop_in_for_dwave_arguments():
    bqm = dimod.generators.gnp_random_bqm(20, 0.3, "SPIN", random_state=1)
    ss = ocean.TabuSampler().sample(bqm, num_reads=3, seed=7, timeout=10, tenure=3)
    assert len(ss) == 3
    again = ocean.TabuSampler().sample(bqm, num_reads=3, seed=7, max_moves=500)
    same = ocean.TabuSampler().sample(bqm, num_reads=3, seed=7, max_moves=500)
    np.testing.assert_array_equal(again.record.sample, same.record.sample)


def test_initial_states_are_used():
    bqm = dimod.BQM({"a": 1.0, "b": 1.0}, {("a", "b"): -3.0}, 0.0, "BINARY")
    ss = ocean.SteepestDescentSampler().sample(bqm, initial_states={"a": 1, "b": 1})
    assert ss.first.sample == {"a": 1, "b": 1}
    assert ss.first.energy == -1.0


def test_unknown_arguments_warn():
    bqm = dimod.BQM({"a": 1.0}, {}, 0.0, "BINARY")
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning):
        ocean.TabuSampler().sample(bqm, not_a_parameter=1, max_moves=10)


# ---------------------------------------------------------------- drop-in contract (issue 16)
def chain(n: int = 6, vartype: str = "SPIN") -> dimod.BinaryQuadraticModel:
    """A chain the exact presolve solves outright; its two end variables are free."""
    bqm = dimod.BQM(
        {i: 0.0 for i in range(n)}, {(i, i + 1): -1.0 for i in range(1, n - 2)}, 0.0, vartype
    )
    return bqm


READ_COUNTED = [
    ocean.SimulatedAnnealingSampler,
    ocean.ParallelTemperingSampler,
    ocean.PopulationAnnealingSampler,
    ocean.TabuSampler,
    ocean.SimulatedBifurcationSampler,
    ocean.SteepestDescentSampler,
]


# short runs: these tests are about counts, not quality
LIGHT = {
    ocean.SimulatedAnnealingSampler: {"num_sweeps": 100},
    ocean.ParallelTemperingSampler: {"num_sweeps": 50},
    ocean.PopulationAnnealingSampler: {"num_sweeps": 20},
    ocean.TabuSampler: {"max_moves": 500},
    ocean.SimulatedBifurcationSampler: {"steps": 50},
}


@pytest.mark.parametrize("cls", READ_COUNTED)
@pytest.mark.parametrize("num_reads", [1, 7, 50])
def test_exactly_num_reads_rows_whether_or_not_the_presolve_solves_the_model(cls, num_reads):
    dense = dimod.generators.gnp_random_bqm(8, 1.0, "SPIN", random_state=2)
    for bqm in (chain(), dense):
        ss = cls().sample(bqm, num_reads=num_reads, seed=3, **LIGHT.get(cls, {}))
        assert len(ss) == num_reads
        dimod.testing.assert_sampleset_energies(ss, bqm)


@pytest.mark.parametrize("cls", [ocean.SimulatedAnnealingSampler, ocean.TabuSampler])
def test_presolved_free_variables_follow_the_seed(cls):
    bqm = chain()
    a, b = (cls().sample(bqm, num_reads=20, seed=s) for s in (1, 2))
    again = cls().sample(bqm, num_reads=20, seed=1)
    assert "presolve" in a.info and a.info["presolve"]["kept"] == 0
    np.testing.assert_array_equal(a.record.sample, again.record.sample)
    assert not np.array_equal(a.record.sample, b.record.sample)
    # every row is a ground state, and the free end variables take both values
    assert np.all(a.record.energy == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy))
    assert len(np.unique(a.record.sample[:, [0, -1]], axis=0)) > 1


def test_presolve_can_be_switched_and_info_keeps_the_engine_keys():
    bqm = chain()
    on = ocean.SimulatedAnnealingSampler().sample(bqm, seed=1)
    off = ocean.SimulatedAnnealingSampler().sample(bqm, seed=1, presolve=False)
    assert "presolve" in on.info and "presolve" not in off.info
    for ss in (on, off):
        hot, cold = ss.info["beta_range"]
        assert 0 < hot < cold < float("inf")
        assert set(ss.info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}


def test_zero_sweeps_return_the_initial_states_even_when_presolve_could_solve_it():
    bqm = chain()
    init = dimod.SampleSet.from_samples_bqm(
        [{v: (-1) ** (v + k) for v in bqm.variables} for k in range(2)], bqm
    )
    ss = ocean.SimulatedAnnealingSampler().sample(bqm, num_sweeps=0, initial_states=init)
    np.testing.assert_array_equal(ss.record.sample, init.record.sample)


def test_no_pruning_when_num_reads_is_given():
    bqm = dimod.generators.gnp_random_bqm(6, 1.0, "SPIN", random_state=1)
    ss = ocean.SimulatedAnnealingSampler().sample(bqm, num_reads=3223, num_sweeps=5, seed=1)
    assert len(ss) == 3223


@pytest.mark.parametrize(
    "cls", [ocean.TabuSampler, ocean.SteepestDescentSampler, ocean.SimulatedAnnealingSampler]
)
def test_spin_initial_states_on_a_binary_model_are_converted_not_hung_on(cls):
    bqm = dimod.generators.gnp_random_bqm(12, 0.6, "BINARY", random_state=4)
    init = dimod.SampleSet.from_samples(
        ([[-1, 1] * 6, [1] * 12], list(bqm.variables)), "SPIN", energy=[0, 0]
    )
    extra = {"max_moves": 2000} if cls is ocean.TabuSampler else {}
    ss = cls().sample(bqm, initial_states=init, seed=1, **extra)
    assert len(ss) == 2 and set(np.unique(ss.record.sample)) <= {0, 1}
    dimod.testing.assert_sampleset_energies(ss, bqm)


def test_initial_states_follow_dimods_expansion_rules():
    bqm = dimod.generators.gnp_random_bqm(5, 1.0, "SPIN", random_state=0)
    one = {v: 1 for v in bqm.variables}
    descent = ocean.SteepestDescentSampler()
    tiled = descent.sample(bqm, initial_states=one, initial_states_generator="tile", num_reads=4)
    assert len(tiled) == 4 and len(tiled.aggregate()) == 1
    assert len(descent.sample(bqm, initial_states=one, num_reads=6, seed=1)) == 6
    with pytest.raises(ValueError):
        descent.sample(bqm, initial_states=one, initial_states_generator="none", num_reads=2)
    with pytest.raises(ValueError, match="mismatch"):
        descent.sample(bqm, initial_states=dict(one, extra=1))


@pytest.mark.parametrize("cls", READ_COUNTED)
def test_arguments_are_checked_as_dimod_checks_them(cls):
    bqm = dimod.generators.gnp_random_bqm(5, 1.0, "SPIN", random_state=0)
    for bad in (0, -3):
        with pytest.raises(ValueError):
            cls().sample(bqm, num_reads=bad)
    with pytest.raises(TypeError):
        cls().sample(bqm, num_reads=2.5)
    for bad in (-1, 2**65):
        with pytest.raises(ocean.SamplerArgumentError):
            cls().sample(bqm, seed=bad)
    for bad in (3.5, "x"):
        with pytest.raises(ocean.SamplerArgumentTypeError):
            cls().sample(bqm, seed=bad)


def test_tabu_tenure_is_checked():
    bqm = dimod.generators.gnp_random_bqm(5, 1.0, "SPIN", random_state=0)
    with pytest.raises(TypeError):
        ocean.TabuSampler().sample(bqm, tenure=2.0)
    with pytest.raises(ValueError):
        ocean.TabuSampler().sample(bqm, tenure=5)
    assert len(ocean.TabuSampler().sample(bqm, tenure=4, max_moves=100)) == 1


def test_tabu_searches_however_short_the_budget():
    bqm = dimod.generators.gnp_random_bqm(50, 0.5, "SPIN", random_state=5)
    ss = ocean.TabuSampler().sample(bqm, num_reads=2, timeout=0.001, seed=1)
    assert ss.info["moves"] >= 2 * 1000


def test_the_first_tabu_call_in_a_process_is_not_spent_on_set_up():
    # a fresh interpreter: the kernels' one-off load must not eat the 20 ms default budget
    code = (
        "import dimod\n"
        "from kakehashi.ocean import TabuSampler\n"
        "bqm = dimod.generators.gnp_random_bqm(50, 0.5, 'SPIN', random_state=5)\n"
        "print(TabuSampler().sample(bqm, seed=1, timeout=5).info['moves'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout.split()[-1]) >= 1000


def test_custom_beta_schedule_and_sweeps_per_beta():
    bqm = dimod.generators.gnp_random_bqm(10, 1.0, "SPIN", random_state=0)
    sa = ocean.SimulatedAnnealingSampler()
    ss = sa.sample(bqm, beta_schedule_type="custom", beta_schedule=[0.1, 1, 3], seed=1)
    assert ss.info["sweeps"] == 3 and ss.info["beta_range"] == (0.1, 3.0)
    ss = sa.sample(bqm, num_sweeps=20, num_sweeps_per_beta=4, beta_range=(0.1, 2), seed=1)
    assert ss.info["sweeps"] == 20
    with pytest.raises(ValueError):
        sa.sample(bqm, num_sweeps=21, num_sweeps_per_beta=4)


def test_sa_reads_are_final_states_by_default_and_best_states_on_request():
    bqm = dimod.generators.gnp_random_bqm(30, 0.3, "SPIN", random_state=5)
    sa = ocean.SimulatedAnnealingSampler()
    kw = {"num_reads": 20, "num_sweeps": 30, "beta_range": (0.1, 0.5), "seed": 4}
    final = sa.sample(bqm, **kw)
    best = sa.sample(bqm, read_state="best", **kw)
    assert final.info["keep"] == "last" and best.info["keep"] == "best"
    # still hot at the end: final states are Boltzmann samples, not all local minima; the
    # best states are polished, so no single flip lowers any of them
    polished = ocean.SteepestDescentSolver().sample(bqm, initial_states=best)
    np.testing.assert_array_equal(polished.record.num_steps, 0)
    assert final.record.energy.mean() > best.record.energy.mean()
    with pytest.raises(ValueError, match="read_state"):
        sa.sample(bqm, read_state="last")


def test_default_beta_range_is_the_same_for_both_vartypes():
    # what dwave's TestDefaultBetaRange.test_default_beta_range asks of its public helper,
    # asked of the range the sampler reports
    bqm = dimod.BinaryQuadraticModel.from_ising({"a": 1}, {"bc": 1})
    spin, binary = (
        ocean.SimulatedAnnealingSampler().sample(m, num_sweeps=10, seed=1, presolve=False)
        for m in (bqm, bqm.binary)
    )
    assert spin.info["beta_range"] == binary.info["beta_range"]


def test_dwave_names_are_aliases():
    assert ocean.SteepestDescentSolver is ocean.SteepestDescentSampler
    assert ocean.Neal is ocean.SimulatedAnnealingSampler
    steps = ocean.SteepestDescentSolver().sample_ising({"a": 1}, {}, num_reads=3).record.num_steps
    assert steps.shape == (3,)


# ---------------------------------------------------------------- OpenJij's names
def test_openjij_sasampler_halves_of_the_tests_that_also_need_sqa():
    # OpenJij's test_empty, test_large_number_of_spins_with_sparse and test_error_handling,
    # SASampler part only (tests/openjij_tests skips them whole: they construct SQASampler)
    sampler = ocean.SASampler()
    for sparse in (True, False):
        assert len(sampler.sample_ising({}, {}, sparse=sparse).first.sample) == 0
        assert len(sampler.sample_qubo(Q={}, sparse=sparse).first.sample) == 0
    J = {(i, i + 1): -1 for i in range(100000)}
    assert len(sampler.sample_ising({}, J).first.sample) == 100001
    assert len(sampler.sample_qubo(Q=J).first.sample) == 100001
    for kw in ("num_reads", "num_sweeps", "beta_min", "beta_max"):
        with pytest.raises(TypeError):
            ocean.SASampler(**{kw: 10})


def test_openjij_schedule_and_initial_state():
    h, J = {0: -1, 1: -1, 2: 1}, {(0, 1): -1, (1, 2): 0.5}
    ss = ocean.SASampler().sample_ising(
        h, J, schedule=[(0.1, 5), (1, 5), (10, 5)], initial_state=[1, 1, 1], seed=1, num_reads=3
    )
    assert ss.info["sweeps"] == 3 * 15 and isinstance(ss, ocean.Response)
    assert ss.states.shape == (3, 3) and ss.min_samples == {0: 1, 1: 1, 2: -1}
    ss = ocean.SASampler().sample_ising(h, J, beta_min=0.2, beta_max=5.0, num_sweeps=10, seed=1)
    assert ss.info["beta_range"] == (0.2, 5.0)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(ocean)
    assert result.attempted > 0 and result.failed == 0


def test_kernels_refuse_states_that_are_not_0_1_instead_of_looping():
    from kakehashi import engines

    q = (np.array([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]]))
    spins = np.array([[-1, 1]])
    for run in (
        lambda: engines.tabu(q, initial_states=spins, num_reads=1, max_moves=10),
        lambda: engines.anneal(q, initial_states=spins, num_sweeps=10),
        lambda: engines.polish(q, spins),
        lambda: engines.descend_rows(q, spins.astype(np.int8)),
    ):
        with pytest.raises(ValueError, match="0/1"):
            run()


def test_non_finite_biases_are_refused():
    bqm = dimod.BQM({"a": float("inf"), "b": -1.0}, {("a", "b"): 1.0}, 0.0, "BINARY")
    for cls in READ_COUNTED:
        with pytest.raises(ocean.SamplerArgumentError, match="finite"):
            cls().sample(bqm)
