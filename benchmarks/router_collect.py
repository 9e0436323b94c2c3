"""Collect the router's training runs: every instance of router_instances × TRAIN_BACKENDS ×
TRAIN_BUDGETS, once, into a kakehashi bench run store (resumable: re-running skips what is
stored).

    KAKEHASHI_SHARED_DATA=../shared/data python benchmarks/router_collect.py --out RUNS.sqlite
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from router_instances import all_instances, suite_document

from kakehashi.backends import get_backend
from kakehashi.bench.runner import plan_from_suite, run_plan
from kakehashi.bench.store import RunStore
from kakehashi.bench.suite import parse_suite


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="the run store (.sqlite) to fill")
    ap.add_argument("--only", default="", help="comma-separated instance names (default all)")
    args = ap.parse_args()
    suite = parse_suite(suite_document(all_instances()))
    if args.only:
        suite = suite.select(args.only.split(","))
    backends = [get_backend(g[0]) for g in suite.backends]
    plan = plan_from_suite(suite, backends)
    store = RunStore(args.out)
    outcome = run_plan(plan, store, progress=False, on_run=_print_run)
    store.add_notes(outcome.notes)
    for note in outcome.notes:
        print("note:", note)
    print(f"{outcome.new_runs} new runs, {outcome.skipped_done} stored, {outcome.errors} errors")


def _print_run(row) -> None:
    print(
        f"{row['instance']:>22} {row['backend']:>10} {row['time_limit']:>4g}s {row['status']:>11} "
        f"{row.get('objective')} {row.get('wall_seconds') or 0:.2f}s",
        flush=True,
    )


if __name__ == "__main__":
    main()
