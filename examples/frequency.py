"""Radio channel assignment for 12 cells on 4 sites, solved as a QUBO beside CP-SAT and
the DSatur greedy colouring.

Run:  python examples/frequency.py [backend]      (default: auto)
"""

import sys

from kakehashi.apps import get_use_case

backend = sys.argv[1] if len(sys.argv) > 1 else "auto"
fap = get_use_case("frequency")
data = fap.generate(12, seed=3)
print(
    f"{data.num_cells} cells, {data.num_channels} channels, {len(data.edges)} interfering "
    f"pairs ({int(data.separated.sum())} must be separated), demand {data.demand.tolist()}"
)

run = fap.run(data, backend=backend, time_limit=5, seed=7, baseline_time_limit=10)
print(run.summary())
greedy = fap.baseline(data, method="dsatur")
print(f"DSatur      interference {greedy.objective:.6g}  ({greedy.seconds:.3f} s)")
