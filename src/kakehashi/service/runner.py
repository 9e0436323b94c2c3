"""Run one claimed job: the problem as uploaded, through :func:`kakehashi.solve`.

This is the seam an executor plugs into: :func:`run_job` takes a plain dict (the job's run
description from :func:`kakehashi.service.queue.claim`) and returns a plain dict, so it can
run in a forked child (today), another host, or a cluster task.

Example:
    >>> import kakehashi, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.ommx"
    >>> kakehashi.save(kakehashi.examples.small_maxcut(), path)
    >>> out = run_job({"backend": "exact", "time_limit": None, "seed": 1, "max_cost": None,
    ...                "options": {}, "problem_filename": "p.ommx",
    ...                "problem_bytes": path.read_bytes()})
    >>> out["summary"]["objective"], out["summary"]["feasible"]
    (-5.0, True)
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kakehashi.service.live import BestSoFar

_SECRET_ENV = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY|ACCESS_KEY|CREDENTIAL)", re.I)


def server_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """Values of the server's credential-like environment variables (to keep out of output)."""
    env = os.environ if environ is None else environ
    return [v for k, v in env.items() if _SECRET_ENV.search(k) and len(v) >= 6]


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret value replaced by ``[redacted]``.

    Example:
        >>> redact("token=abcdef123 ok", ["abcdef123"])
        'token=[redacted] ok'
    """
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


# a comparison's run may take this much beyond its time limit (loading and evaluating the
# instance, a run's own overrun), and the whole comparison this much more (warming each
# backend up, computing exact targets, drawing the report's charts)
COMPARISON_SECONDS_PER_RUN = 2.0
COMPARISON_SECONDS_EXTRA = 60.0


def run_budget(job: dict[str, Any]) -> float | None:
    """Seconds the job's run is expected to take at most (the worker adds its grace before it
    counts the run as hung): a solve's time limit; for a comparison, every run it makes.

    Example:
        >>> run_budget({"kind": "solve", "time_limit": 2.0})
        2.0
        >>> run_budget({"kind": "comparison", "time_limit": 0.5, "options": {"runs": 84}})
        270.0
    """
    limit = job.get("time_limit")
    if job.get("kind") != "comparison" or limit is None:
        return None if limit is None else float(limit)
    return _comparison_runs(job) * (float(limit) + COMPARISON_SECONDS_PER_RUN) + (
        COMPARISON_SECONDS_EXTRA
    )


def _comparison_runs(job: dict[str, Any]) -> int:
    """The runs the comparison reserved; for one queued before that was recorded, every
    problem on every backend."""
    options = job.get("options") or {}
    if "runs" in options:
        return int(options["runs"])
    if options.get("suite"):
        problems = len(options.get("instances") or [])
    else:
        from kakehashi.service.comparisons import unpack_files

        problems = len(unpack_files(job["problem_bytes"]))
    return problems * len(job["backend"]) * int(options.get("repeats", 1))


def run_job(
    job: dict[str, Any], on_progress: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Solve the job's problem (or run its comparison); ``{"result_json", "summary",
    "charges"}``. ``on_progress`` gets the job's live state while it solves (its best
    feasible objective so far, in the problem's sense; see :mod:`kakehashi.service.live`)."""
    if job.get("kind") == "comparison":
        return run_comparison(job)
    import kakehashi
    from kakehashi import progress
    from kakehashi.service.jobs import read_problem

    problem = read_problem(job["problem_bytes"], job["problem_filename"])  # as at submit
    max_cost = job.get("max_cost")
    if job["backend"] == "auto" and job.get("reserved_money") is not None:
        # the choice was priced and reserved at submit; whatever auto decides now may not
        # cost more than that reservation
        reserved = float(job["reserved_money"])
        max_cost = reserved if max_cost is None else min(float(max_cost), reserved)
    extra = {} if max_cost is None else {"max_cost": max_cost}
    following = on_progress is not None
    outer = progress.set_channel(BestSoFar(problem.sense, on_progress)) if following else None
    try:
        result = kakehashi.solve(
            problem,
            backend=job["backend"],
            time_limit=job.get("time_limit"),
            seed=job.get("seed"),
            **extra,
            **(job.get("options") or {}),
        )
    finally:
        if following:
            progress.set_channel(outer)
    secrets = server_secrets()
    text = redact(result.to_json(include_samples=True, indent=None), secrets)
    res = result.resources
    summary = {
        "backend": result.backend,
        "objective": result.objective if result.num_samples else None,
        "feasible": result.feasible if result.num_samples else False,
        "status": result.status,
        "seconds": result.timing.total,
        "auto_choice": result.info.get("auto_choice"),
    }
    charges = {
        "charge_money": res.money,
        "charge_cpu_seconds": res.cpu_seconds,
        "energy_joules": res.energy_joules,
        "co2_grams": res.co2_grams,
    }
    return {"result_json": text, "summary": json.loads(json.dumps(summary)), "charges": charges}


def run_comparison(job: dict[str, Any]) -> dict[str, Any]:
    """The job's comparison — its uploaded problems through :func:`kakehashi.compare`, or its
    suite's instances through :func:`kakehashi.bench.compare.compare_suite` — with the HTML
    report and the per-backend table."""
    options = job.get("options") or {}
    with tempfile.TemporaryDirectory(prefix="kh-cmp-") as tmp:
        if options.get("suite"):
            cmp = _compare_suite(job, options)
            title = f"kakehashi comparison: suite {options['suite']}"
        else:
            cmp = _compare_uploads(job, Path(tmp))
            title = "kakehashi comparison"
        paths = cmp.report(Path(tmp) / "report.html", title=title)
        html = Path(paths["html"]).read_text()
        table = json.loads(cmp.backends_table().to_json(orient="records"))
        summary_text = cmp.summary()
        consumed = comparison_charges(cmp.runs())
    text = redact(
        json.dumps({"html": html, "backends": table, "summary": summary_text}), server_secrets()
    )
    summary = {
        "backend": ",".join(job["backend"]),
        "objective": None,
        "feasible": True,
        "status": "ok",
        "baseline": cmp.baseline,
        "verdict": summary_text[:2000],
    }
    return {"result_json": text, "summary": summary, "charges": consumed}


def comparison_charges(runs) -> dict[str, float | None]:
    """What a comparison's runs consumed, summed over its runs table (a pandas DataFrame);
    ``None`` where no run measured it (the reservation then stands).

    Example:
        >>> import pandas as pd
        >>> runs = pd.DataFrame({"money": [2e-6, None], "cpu_seconds": [0.25, 0.5]})
        >>> c = comparison_charges(runs)
        >>> c["charge_money"], c["charge_cpu_seconds"], c["co2_grams"]
        (2e-06, 0.75, None)
    """
    columns = {
        "charge_money": "money",
        "charge_cpu_seconds": "cpu_seconds",
        "energy_joules": "energy_joules",
        "co2_grams": "co2_grams",
    }
    out: dict[str, float | None] = {}
    for key, column in columns.items():
        values = runs[column].dropna() if column in runs else []
        out[key] = float(values.sum()) if len(values) else None
    return out


def _compare_uploads(job: dict[str, Any], tmp: Path):
    import kakehashi
    from kakehashi.service.comparisons import unpack_files

    problems = {}
    for name, data in unpack_files(job["problem_bytes"]):
        path = tmp / name
        path.write_bytes(data)
        label, k = Path(name).stem, 2
        while label in problems:  # two uploads of one name stay two problems
            label, k = f"{Path(name).stem}-{k}", k + 1
        problems[label] = kakehashi.load(path)
    return kakehashi.compare(
        problems,
        list(job["backend"]),
        repeats=int((job.get("options") or {}).get("repeats", 1)),
        time_limit=float(job["time_limit"]),
        seed=int(job.get("seed") or 0),
    )


def _compare_suite(job: dict[str, Any], options: dict[str, Any]):
    """The instances accepted at submission, rebuilt from the suite's own data."""
    from kakehashi.bench.compare import compare_suite
    from kakehashi.service.suites import named_suite, only

    suite = only(named_suite(options["suite"]), list(options["instances"]))
    cmp = compare_suite(
        suite,
        list(job["backend"]),
        repeats=int(options.get("repeats", 1)),
        time_limit=float(job["time_limit"]),
        seed=int(job.get("seed") or 0),
    )
    # the instances left out at submission (absent here) are named in the report too
    cmp.store.add_notes(options.get("not_run") or [])
    return cmp
