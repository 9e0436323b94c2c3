"""qkd-network: the HiGHS MILP optimum beside the QUBO engines, on the Tokyo network and on
generated metropolitan and nationwide networks.

For each instance: the model's size, the QUBO's size (bits, slack bits included), HiGHS's
optimum and time, and for each engine the cost it reached in the time limit, whether the
plan is valid, and its gap to the optimum. One run each, seed 1.

Run:  python benchmarks/qkd_network.py [time_limit_seconds]      (default 10)
"""

from __future__ import annotations

import sys
import time

from kakehashi.apps import get_use_case
from kakehashi.compile.compiler import compile_problem

ENGINES = ("tabu", "sa")
INSTANCES = [
    ("tokyo-qkd", None, None),
    ("metro", 6, 1),
    ("metro", 10, 1),
    ("metro", 20, 1),
    ("national", 8, 1),
    ("national", 15, 1),
    ("national", 30, 1),
]


def main(time_limit: float) -> None:
    qkd = get_use_case("qkd-network")
    print(f"time limit {time_limit:g} s per engine run; HiGHS to optimality (60 s cap)")
    header = "| instance | variables | QUBO bits | HiGHS optimum | HiGHS s |"
    header += "".join(f" `{e}` |" for e in ENGINES)
    print(header)
    print("|" + "---|" * (5 + len(ENGINES)))
    for scale, size, seed in INSTANCES:
        if size is None:
            data, label = qkd.load(scale), scale
        else:
            data, label = qkd.generate(size, seed=seed, scale=scale), f"{scale} {size}"
        problem = qkd.build(data)
        bits = compile_problem(problem).num_binaries
        t0 = time.perf_counter()
        ref = qkd.baseline(data, time_limit=60)
        highs_s = time.perf_counter() - t0
        cells = []
        for engine in ENGINES:
            run = qkd.run(data, backend=engine, time_limit=time_limit, seed=1, baseline=False)
            if run.validation.valid:
                gap = (run.answer.objective - ref.objective) / ref.objective
                cells.append(f"{run.answer.objective:.6g} ({gap:+.1%})")
            else:
                cells.append(f"invalid ({len(run.validation.errors)} rules broken)")
        print(
            f"| {label} | {problem.num_variables} | {bits} | {ref.objective:.6g} "
            f"({ref.status}) | {highs_s:.2f} | " + " | ".join(cells) + " |"
        )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)
