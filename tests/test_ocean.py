"""kakehashi's engines as dimod samplers pass dimod's own conformance helpers."""

from __future__ import annotations

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
