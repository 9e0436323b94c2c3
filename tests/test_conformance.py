"""Every registered backend that can run here passes the conformance kit
(kakehashi.testing.check_backend); vendor stand-ins for the cloud ones (dwave-mock,
qaoa-aer, qaoa-ibm on a fake device, braket-local). The kit's own checks are tested on a
backend written to break them."""

from __future__ import annotations

import numpy as np
import pytest

import kakehashi
from kakehashi.backends import BaseBackend, Param, RunOutput, backend_names, get_backend
from kakehashi.backends.catalog import info_for
from kakehashi.errors import OptionError, UnsupportedError
from kakehashi.testing import ConformanceError, check_backend, tiny_mip

# stand-ins and budgets: gate-model simulators need a few seconds to optimise their angles
OPTIONS = {
    "qaoa-ibm": {"device": "fake_sherbrooke", "shots": 2000, "maxiter": 20},
    "qaoa-aer": {"maxiter": 30},
    "braket-local": {"maxiter": 30},
}
TIME_LIMIT = {"qaoa-aer": 2.0, "qaoa-ibm": 3.0, "braket-local": 3.0}
# the machines these tests run on are shared: the kit's default tolerance (1.5 × limit + 1 s)
# is for a quiet machine; here the bound only catches a limit ignored outright
FACTOR, SLACK = 3.0, 5.0


@pytest.mark.parametrize("name", backend_names())
def test_backend_conforms(name):
    backend = get_backend(name)
    avail = backend.available()
    if not avail:
        pytest.skip(f"{name}: {avail.reason}")
    report = check_backend(
        backend,
        time_limit=TIME_LIMIT.get(name, 0.3),
        time_factor=FACTOR,
        time_slack=SLACK,
        options=OPTIONS.get(name),
    )
    assert report.ok
    assert "qubo optimum" in report.passed or "qubo refused" in report.passed


def test_kinds_of_form_are_checked_both_ways():
    highs, tabu = get_backend("highs"), get_backend("tabu")
    if not highs.available():
        pytest.skip("highs not installed")
    assert "mip optimum" in check_backend(highs, time_limit=1.0).passed
    assert "mip refused" in check_backend(tabu, time_limit=0.3, time_slack=SLACK).passed
    with pytest.raises(UnsupportedError, match="continuous"):
        kakehashi.solve(tiny_mip(), backend="tabu")


class _Sloppy(BaseBackend):
    """Breaks the contract four ways: a default outside its own range, ignores its time
    limit, returns a non-optimal answer, and claims the MIP form without solving it."""

    name = "sloppy"
    info = info_for("exact")
    parameters = (Param("rounds", int, 0, "rounds", low=1),)
    seed_reproducible = False

    def run(self, problem, *, time_limit, seed, options):
        import time

        time.sleep(time_limit * 2 + 0.3)
        return RunOutput(samples=np.zeros((1, problem.num_variables)))


def test_the_kit_fails_a_backend_that_breaks_the_contract():
    report = check_backend(_Sloppy(), time_limit=0.1, time_slack=0.1, raise_on_failure=False)
    text = "\n".join(report.failures)
    assert "default of rounds fails its own check" in text
    assert "time limit honoured" in text
    assert "qubo optimum: objective 0" in text
    with pytest.raises(ConformanceError, match="sloppy"):
        check_backend(_Sloppy(), time_limit=0.1, time_slack=0.1)


def test_declared_options_are_checked_before_any_work():
    tabu = get_backend("tabu")
    with pytest.raises(OptionError, match=r"did you mean 'num_reads'"):
        tabu.solve(kakehashi.examples.small_maxcut(), num_raeds=4)
    with pytest.raises(OptionError, match=r"restart_from_best=2 must be ≤ 1"):
        tabu.solve(kakehashi.examples.small_maxcut(), restart_from_best=2)
    with pytest.raises(OptionError, match=r"schedule='foo' is not one of 'geometric'"):
        kakehashi.solve(kakehashi.examples.small_maxcut(), backend="sa", schedule="foo")
