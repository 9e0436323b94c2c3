"""Bin packing: load parcels into as few trucks (bins) of one capacity as possible, checked,
beside first-fit decreasing and OR-Tools CP-SAT.

Run:  python examples/binpacking.py   (a few seconds)
"""

import kakehashi
from kakehashi.apps import get_use_case
from kakehashi.apps.binpacking import BinPackingData

bp = get_use_case("binpacking")

# Four parcels, bins of 10: small enough for the exhaustive backend.
data = BinPackingData(sizes=[6, 5, 4, 3], capacity=10, name="parcels")
run = bp.run(data, backend="exact")
print(run.summary(), end="\n\n")

# Falkenauer-style items (sizes 20–100, bins of 150) on a heuristic backend.
backend = "tabu" if "tabu" in kakehashi.backend_names() else "auto"
run = bp.run(bp.generate(10, seed=2), backend=backend, time_limit=2, seed=1, baseline_time_limit=2)
print(run.summary())
