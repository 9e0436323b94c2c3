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
from pathlib import Path
from typing import Any

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


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Solve the job's problem; ``{"result_json", "summary", "charges"}``."""
    import kakehashi

    with tempfile.TemporaryDirectory(prefix="kh-job-") as tmp:
        path = Path(tmp) / (Path(job["problem_filename"]).name or "problem")
        path.write_bytes(job["problem_bytes"])
        problem = kakehashi.load(path)
    extra = {} if job.get("max_cost") is None else {"max_cost": job["max_cost"]}
    result = kakehashi.solve(
        problem,
        backend=job["backend"],
        time_limit=job.get("time_limit"),
        seed=job.get("seed"),
        **extra,
        **(job.get("options") or {}),
    )
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
