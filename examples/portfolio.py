"""Mean-variance portfolio: at most 5 of 16 stocks, budget in 10 lots, solved as a QUBO
beside SCIP's MIQP.

Run:  python examples/portfolio.py [backend]      (default: auto)
"""

import sys

from kakehashi.apps import get_use_case

backend = sys.argv[1] if len(sys.argv) > 1 else "auto"
pf = get_use_case("portfolio")
data = pf.generate(16, seed=5, num_lots=10, max_assets=5, risk_aversion=2.0)

run = pf.run(data, backend=backend, time_limit=5, seed=7, baseline_time_limit=10)
print(run.summary())
for name, answer in (("kakehashi", run.answer), ("SCIP", run.baseline.answer)):
    weights = {a: f"{w:.0%}" for a, w in zip(answer.assets, answer.weights, strict=True) if w}
    print(f"{name:>10}: {weights}")
