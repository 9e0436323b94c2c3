"""Knapsack: choose projects (or cargo) of most value within a budget (or weight limit),
checked, beside the exact dynamic programme.

Run:  python examples/knapsack.py     (a few seconds)
"""

import numpy as np

import kakehashi
from kakehashi.apps import get_use_case
from kakehashi.apps.knapsack import KnapsackData

ks = get_use_case("knapsack")

# Your own data: values, integer weights, a capacity.
data = KnapsackData(
    values=np.array([10, 13, 7, 8, 4, 9.0]),
    weights=np.array([5, 7, 4, 4, 2, 5]),
    capacity=14,
    name="projects",
)
run = ks.run(data, backend="exact")
print(run.summary(), end="\n\n")

# A generated hard instance (weakly correlated, 40 items) on a heuristic backend.
backend = "tabu" if "tabu" in kakehashi.backend_names() else "auto"
run = ks.run(ks.generate(40, seed=3), backend=backend, time_limit=2, seed=1)
print(run.summary())
