"""Max-cut and balanced graph partitioning on generated graphs and Gset's G11, checked,
beside exhaustive search, iterated local search and OR-Tools CP-SAT.

Run:  python examples/maxcut.py       (a few seconds)
"""

import kakehashi
from kakehashi.apps import get_use_case

maxcut = get_use_case("maxcut")
partition = get_use_case("partition")
backend = "tabu" if "tabu" in kakehashi.backend_names() else "auto"

# Max-cut of a 12-node random graph: exhaustive backend and exhaustive baseline agree.
run = maxcut.run(maxcut.generate(12, seed=0), backend="exact")
print(run.summary(), end="\n\n")

# Gset G11 (800-node toroidal grid, ±1 weights, best known cut 564).
run = maxcut.run(maxcut.load("G11"), backend=backend, time_limit=2, seed=1, baseline_time_limit=1)
print(run.summary(), end="\n\n")

# Split a 8-node circuit graph into two halves with the fewest wires between them.
run = partition.run(partition.generate(8, seed=1), backend="exact")
print(run.summary())
