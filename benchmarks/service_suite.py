"""Suite comparisons through `kakehashi serve` (loopback only, bounded in count and time).

1. Accepting: median latency of ``POST /v1/comparisons`` for a named suite (its instances
   built on the server, every run estimated and reserved) against uploading problems, on a
   live server with SQLite. Each case is submitted ``--submits`` times and then cancelled
   (a cancelled queued comparison releases its reservation), so nothing runs.
2. Running (unless ``--no-run``): the whole quick suite with its default backends, from
   ``Client.compare("quick")`` to the HTML report, by one worker.

    python benchmarks/service_suite.py
    python benchmarks/service_suite.py --submits 5 --no-run
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import kakehashi
from kakehashi.service.testing import ServerProcess

TINY = b'{"vartype": "BINARY", "linear": {"a": -1, "b": -1, "c": %d}, "quadratic": {"a,b": 2}}'


def accept_latency(client: kakehashi.Client, submits: int, tmp: Path) -> dict[str, float]:
    """Median seconds to accept each case (the first submission, which warms the server's
    caches, is left out)."""
    files = []
    for k in range(2):
        path = tmp / f"tiny{k}.json"
        path.write_bytes(TINY % (k + 1))
        files.append(path)
    standard = [i["name"] for i in client.suites()[1]["instances"]][:20]
    cases = {
        "quick suite, 2 instances x tabu,sb": lambda: client.compare(
            "quick", ["tabu", "sb"], instances=["maxcut-g16", "bqp50-1"], repeats=1
        ),
        "quick suite, all 7 instances x its 7 default backends": lambda: client.compare("quick"),
        "standard suite, its first 20 instances x tabu,sb": lambda: client.compare(
            "standard", ["tabu", "sb"], instances=standard, repeats=1
        ),
        "2 uploaded files x tabu,sb": lambda: client.compare(files, ["tabu", "sb"], repeats=1),
    }
    out = {}
    for name, submit in cases.items():
        seconds = []
        for _ in range(submits + 1):
            t0 = time.perf_counter()
            cmp = submit()
            seconds.append(time.perf_counter() - t0)
            client.cancel(cmp)
        out[name] = statistics.median(seconds[1:])
    return out


def run_quick(client: kakehashi.Client) -> dict[str, float]:
    t0 = time.perf_counter()
    cmp = client.compare("quick")
    client.report(cmp, timeout=900)
    job = client.comparison(cmp)
    return {
        "runs": job["options"]["runs"],
        "seconds to the report": time.perf_counter() - t0,
        "charged CPU-seconds": job["charges"]["cpu_seconds"],
        "charged USD": job["charges"]["money"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--submits", type=int, default=9, help="submissions per case (≤ 50)")
    ap.add_argument("--no-run", action="store_true", help="only measure accepting")
    args = ap.parse_args()
    submits = max(1, min(args.submits, 50))
    with tempfile.TemporaryDirectory(prefix="kh-suite-bench-") as tmp:
        server = ServerProcess(Path(tmp) / "data", None, workers=1).start()
        try:
            admin = kakehashi.Client(server.url, server.admin_key)
            client = kakehashi.Client(server.url, admin.create_tenant("bench")["api_key"])
            print(f"accepting a comparison (median of {submits}, SQLite, live server):")
            for name, s in accept_latency(client, submits, Path(tmp)).items():
                print(f"  {name:<55} {s * 1000:7.1f} ms")
            if not args.no_run:
                print("the whole quick suite, default backends, one worker:")
                for name, value in run_quick(client).items():
                    print(f"  {name:<24} {value:.4g}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
