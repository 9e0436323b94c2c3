"""Shared test helpers: data paths and an exhaustive QUBO solver used as ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


def all_bitstrings(n: int) -> np.ndarray:
    """Every 0/1 vector of length n, one per row (2^n rows)."""
    codes = np.arange(2**n, dtype=np.int64)
    return ((codes[:, None] >> np.arange(n)) & 1).astype(np.float64)


def qubo_ground_states(qubo, keep: int = 4) -> np.ndarray:
    """The ``keep`` lowest-energy assignments of a small Qubo, by full enumeration."""
    X = all_bitstrings(qubo.num_variables)
    e = qubo.energies(X)
    return X[np.argsort(e, kind="stable")[:keep]].astype(np.uint8)
