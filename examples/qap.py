"""Facility layout (quadratic assignment): place departments so that flow × walking distance
is smallest. A generated shop floor, and QAPLIB's nug12 beside robust tabu search.

Run:  python examples/qap.py          (a few seconds)
"""

import kakehashi
from kakehashi.apps import get_use_case

qap = get_use_case("qap")

# 4 departments on a 2×2 grid: 16 binaries, solved exhaustively, beside full enumeration.
data = qap.generate(4, seed=2)
run = qap.run(data, backend="exact")
print(run.summary(), end="\n\n")

# nug12 from QAPLIB (proven optimum 578); the baseline is Taillard's robust tabu search.
backend = "tabu" if "tabu" in kakehashi.backend_names() else "auto"
data = qap.load("nug12")
run = qap.run(data, backend=backend, time_limit=3, seed=1, baseline_time_limit=1)
print(run.summary())
