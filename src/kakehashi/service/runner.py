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
    """:func:`kakehashi.compare` of the uploaded problems on the job's backends; the HTML
    report and the per-backend table."""
    import kakehashi
    from kakehashi.service.jobs import unpack_files

    with tempfile.TemporaryDirectory(prefix="kh-cmp-") as tmp:
        problems = {}
        for name, data in unpack_files(job["problem_bytes"]):
            path = Path(tmp) / name
            path.write_bytes(data)
            problems[Path(name).stem] = kakehashi.load(path)
        cmp = kakehashi.compare(
            problems,
            list(job["backend"]),
            repeats=int((job.get("options") or {}).get("repeats", 1)),
            time_limit=float(job["time_limit"]),
            seed=int(job.get("seed") or 0),
        )
        paths = cmp.report(Path(tmp) / "report.html", title="kakehashi comparison")
        html = Path(paths["html"]).read_text()
        table = json.loads(cmp.backends_table().to_json(orient="records"))
        summary_text = cmp.summary()
    text = redact(
        json.dumps({"html": html, "backends": table, "summary": summary_text}), server_secrets()
    )
    summary = {
        "backend": ",".join(job["backend"]),
        "objective": None,
        "feasible": True,
        "status": "ok",
        "verdict": summary_text[:2000],
    }
    return {"result_json": text, "summary": summary, "charges": {}}
