"""Capacitated vehicle routing: a generated depot with customers, and CVRPLIB's P-n16-k8,
solved, checked (every customer once, no truck overloaded) and compared with OR-Tools.

Run:  python examples/cvrp.py         (a few seconds)
"""

import kakehashi
from kakehashi.apps import get_use_case

cvrp = get_use_case("cvrp")

# 3 customers, 2 trucks: 16 binaries, solved exhaustively, beside the exact subset DP.
data = cvrp.generate(3, seed=0)
run = cvrp.run(data, backend="exact")
print(run.summary(), end="\n\n")

# P-n16-k8: 15 customers, 8 trucks of capacity 35 (optimum 450). The baseline is OR-Tools.
backend = "tabu" if "tabu" in kakehashi.backend_names() else "auto"
data = cvrp.load("P-n16-k8")
run = cvrp.run(data, backend=backend, time_limit=3, seed=1, baseline_time_limit=2)
print(run.summary())
for k, route in enumerate(run.baseline.answer.routes):
    print(f"  OR-Tools truck {k}: depot → {route} → depot, load {int(data.demand[route].sum())}")
