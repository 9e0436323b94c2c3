"""Bin packing use case: FFD, CP-SAT baseline against brute force, exact solve, validation."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from kakehashi.apps import get_use_case
from kakehashi.apps.binpacking import (
    BinPackingData,
    first_fit_decreasing,
    lower_bound,
    make_bins,
    read_bpp,
)
from kakehashi.errors import InputFormatError, KakehashiError

BP = get_use_case("binpacking")
HAS_ORTOOLS = importlib.util.find_spec("ortools") is not None


def brute_force(data: BinPackingData) -> int:
    """Fewest bins over every set partition of the items (restricted growth strings)."""
    sizes, cap, best = data.sizes.tolist(), data.capacity, data.n

    def place(i: int, loads: list[int]) -> None:
        nonlocal best
        if len(loads) >= best:
            return
        if i == len(sizes):
            best = len(loads)
            return
        for b in range(len(loads)):
            if loads[b] + sizes[i] <= cap:
                loads[b] += sizes[i]
                place(i + 1, loads)
                loads[b] -= sizes[i]
        place(i + 1, [*loads, sizes[i]])

    place(0, [])
    return best


def test_first_fit_decreasing_is_valid_and_bounded():
    data = BP.generate(30, seed=1)
    bins = make_bins(first_fit_decreasing(data.sizes, data.capacity))
    assert BP.validate(bins, data).valid
    assert lower_bound(data) <= bins.objective <= 11 / 9 * lower_bound(data) + 1


@pytest.mark.skipif(not HAS_ORTOOLS, reason="OR-Tools not installed")
@pytest.mark.parametrize("seed", [0, 3])
def test_cpsat_baseline_matches_brute_force(seed):
    # sizes chosen so FFD does not meet the L1 bound and CP-SAT has to work
    rng = np.random.default_rng(seed)
    data = BinPackingData(rng.integers(30, 80, size=7), 100)
    ref = BP.baseline(data, time_limit=5)
    assert BP.validate(ref.answer, data).valid
    assert ref.objective == brute_force(data)


@pytest.mark.skipif(not HAS_ORTOOLS, reason="OR-Tools not installed")
def test_cpsat_improves_on_first_fit_decreasing():
    # FFD packs 5,5 | 4,4 | 3,3,3 | … badly for capacity 10; the optimum is 3 bins
    data = BinPackingData([5, 4, 3, 3, 3, 2, 5, 5], 10)
    assert len(first_fit_decreasing(data.sizes, data.capacity)) == 4
    ref = BP.baseline(data, time_limit=5)
    assert ref.status == "optimal" and ref.objective == 3 == brute_force(data)


def test_exact_solve_decodes_to_the_optimum():
    data = BinPackingData([6, 5, 4, 3], 10)  # 8 + 2 binaries plus slack bits for the exact run
    run = BP.run(data, backend="exact")
    assert run.validation.valid
    assert run.answer.objective == run.baseline.objective == brute_force(data) == 2


def test_validation_catches_broken_packings():
    data = BinPackingData([4, 3, 3, 2], 6)
    over = make_bins([[0, 1], [2, 3]])
    assert BP.validate(over, data).errors == ["bin 0 holds 7, more than the capacity 6"]
    missing = make_bins([[0, 3], [1]])
    assert "item 2 is in no bin" in BP.validate(missing, data).errors
    twice = make_bins([[0, 3], [1, 2], [2]])
    assert "item 2 is in 2 bins" in BP.validate(twice, data).errors
    assert not BP.validate(make_bins([[0, 9]]), data).valid
    good = make_bins([[0, 3], [1, 2]])
    assert BP.validate(good, data).valid and good.objective == 2


def test_reader_and_data_errors(tmp_path):
    f = tmp_path / "u.bpp"
    f.write_text("4\n10\n6\n5\n4\n3\n")
    data = read_bpp(f)
    assert data.capacity == 10 and data.sizes.tolist() == [6, 5, 4, 3]
    assert BP.load(f).n == 4
    f.write_text("5\n10\n6\n5\n")
    with pytest.raises(InputFormatError, match="declares 5 items"):
        read_bpp(f)
    with pytest.raises(KakehashiError, match="larger than a bin"):
        BinPackingData([11, 2], 10)
