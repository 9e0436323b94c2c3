"""First run on a fresh install: does the first solve keep its time limit, and is the
one-off kernel compilation reported as measured?

Each backend is solved once in a new Python process whose numba cache directory is empty
(``NUMBA_CACHE_DIR`` pointed at a new temporary folder: what a fresh install has), then once
more in another process with that cache filled. Printed per run: the wall time of the
solve call, ``timing.solve`` (what the time limit bounds), and
``info["warm_up_seconds"]`` (compilation before the clock, as reported to the user).

    python benchmarks/first_run.py --backends tabu,sa --time-limit 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = """
import json, time, kakehashi
problem = kakehashi.examples.demo_problems()[1]   # assignment-5: the demo's tabu solve
t = time.perf_counter()
r = kakehashi.solve(problem, backend={backend!r}, time_limit={limit!r}, seed=7)
print(json.dumps({{"wall": time.perf_counter() - t, "solve": r.timing.solve,
                  "warm_up": r.info.get("warm_up_seconds", 0.0), "objective": r.objective}}))
"""


def run(backend: str, limit: float, cache: str) -> dict[str, float]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    code = CHILD.format(backend=backend, limit=limit)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="tabu,sa")
    ap.add_argument("--time-limit", type=float, default=5.0)
    args = ap.parse_args()
    print("| backend | cache | wall s | timing.solve s | reported warm-up s | limit s |")
    print("|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            for label in ("empty", "filled"):
                r = run(backend, args.time_limit, cache)
                print(
                    f"| {backend} | {label} | {r['wall']:.1f} | {r['solve']:.2f} | "
                    f"{r['warm_up']:.1f} | {args.time_limit:g} |"
                )


if __name__ == "__main__":
    main()
