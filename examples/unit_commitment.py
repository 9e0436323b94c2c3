"""Virtual power plant: commit and dispatch three units, PV/wind, a battery and grid import
over 12 hours, solved as a QUBO beside the HiGHS MILP.

Run:  python examples/unit_commitment.py [backend]      (default: auto)
"""

import sys

from kakehashi.apps import get_use_case

backend = sys.argv[1] if len(sys.argv) > 1 else "auto"
uc = get_use_case("unit_commitment")
data = uc.generate(3, seed=2, horizon=12)  # power in blocks of 2.5 MW
print("units   ", dict(zip(data.units, data.p_max_mw.tolist(), strict=True)), "MW")
print("demand  ", data.demand_mw.tolist(), "MW")
print("PV+wind ", data.renewable_mw.tolist(), "MW")

problem = uc.build(data)
print(problem.summary())
run = uc.run(data, backend=backend, time_limit=5, seed=7, baseline_time_limit=10)
print(run.summary())
print("baseline schedule:")
print(run.baseline.answer.describe())
