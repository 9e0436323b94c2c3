"""Travelling salesman: a generated delivery tour and TSPLIB's burma14, solved, checked,
and compared with the classical tool (Held–Karp / OR-Tools routing).

Run:  python examples/tsp.py          (a few seconds)
"""

import kakehashi
from kakehashi.apps import get_use_case

tsp = get_use_case("tsp")

# A 5-city tour: small enough for the exhaustive backend, so the answer is the true optimum.
data = tsp.generate(5, seed=1)
run = tsp.run(data, backend="exact")
print(run.summary(), end="\n\n")

# burma14 from TSPLIB (GEO distances; the optimum is 3323) on a fast heuristic backend.
backend = "tabu" if "tabu" in kakehashi.backend_names() else "auto"
data = tsp.load("burma14")
run = tsp.run(data, backend=backend, time_limit=3, seed=1, baseline_time_limit=2)
print(run.summary())
print("\nthe domain answer itself:", run.answer.tour, "length", run.answer.objective)
