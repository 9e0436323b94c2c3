"""Shift rostering: a small ward's week, solved as a QUBO beside OR-Tools CP-SAT.

Run:  python examples/rostering.py [backend]      (default: auto)

The data is written out by hand here so that you can see what a roster needs; use
``get_use_case("rostering").generate(size, seed=...)`` for random realistic instances.
"""

import sys

import numpy as np

from kakehashi.apps import get_use_case
from kakehashi.apps.rostering import RosteringData

backend = sys.argv[1] if len(sys.argv) > 1 else "auto"
rostering = get_use_case("rostering")

employees = ["Aiko", "Ben", "Chen", "Dana", "Emil"]
shifts = ["early", "late", "night"]
days = 5
demand = np.array([[2, 1, 1]] * days)  # per day: 2 early, 1 late, 1 night
available = np.ones((len(employees), days, len(shifts)), dtype=bool)
available[1, 2, :] = False  # Ben is on leave on day 2
available[3, :, 2] = False  # Dana never works nights
cost = np.ones(available.shape)
cost[:, :, 2] += 2  # nights are unpopular for everyone
cost[0, :, 1] += 3  # Aiko dislikes late shifts
cost[4, 4, :] += 4  # Emil asked for day 4 off

data = RosteringData(
    employees=employees,
    shifts=shifts,
    num_days=days,
    demand=demand,
    available=available,
    preference_cost=cost,
    min_shifts=[3, 3, 3, 3, 2],
    max_shifts=[4, 4, 4, 4, 4],
    max_consecutive_days=4,
)  # rest rules default to no late->early, night->early, night->late

problem = rostering.build(data)
print(problem.summary())
run = rostering.run(data, backend=backend, time_limit=5, seed=7, baseline_time_limit=10)
print(run.summary())
