"""OpenJij's sampler tests, run against kakehashi.ocean.

``test_openjij_sampler.py`` is OpenJij's ``tests/test_sampler.py`` (Apache License 2.0, see
``LICENSE``; github.com/OpenJij/OpenJij at commit a1c580ad1f11a138212eedd42b6e6e0500866344),
unchanged but for the import of the samplers. Every test of ``SASampler`` runs; those below
also construct ``SQASampler`` (simulated quantum annealing), which kakehashi does not have.
Their ``SASampler`` halves are run by tests/test_ocean.py (``test_openjij_*``). The same list
is in docs/ocean.md.
"""

from __future__ import annotations

import pytest

_SQA = "constructs openjij.SQASampler: kakehashi has no simulated quantum annealing engine"

NOT_IN_KAKEHASHI = {
    f"test_openjij_sampler.py::TestSamplers::{name}": _SQA
    for name in (
        "test_sqa",
        "test_sqa_with_negative_interactions",
        "test_empty",
        "test_large_number_of_spins_with_sparse",
        "test_error_handling",
    )
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        key = item.nodeid.split("openjij_tests/", 1)[-1]
        if key in NOT_IN_KAKEHASHI:
            item.add_marker(pytest.mark.skip(reason=NOT_IN_KAKEHASHI[key]))
