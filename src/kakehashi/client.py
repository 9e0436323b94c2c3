"""`kakehashi.Client`: the service's API from Python, returning the same Result a local solve
returns.

Example (against a running ``kakehashi serve``)::

    >>> client = kakehashi.Client("http://127.0.0.1:8000", "kh_…")      # doctest: +SKIP
    >>> job = client.submit(kakehashi.examples.small_maxcut(), backend="exact")  # +SKIP
    >>> client.wait(job, timeout=60).objective                            # doctest: +SKIP
    -5.0

Every refusal (bad key, another tenant's job, a quota) raises a subclass of
:class:`~kakehashi.errors.KakehashiError` from :mod:`kakehashi.service.errors`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from kakehashi.result import Result
from kakehashi.service.errors import (
    BadRequestError,
    ConnectionFailedError,
    JobFailedError,
    WaitTimeoutError,
    error_from_response,
)

FINAL = ("completed", "failed", "cancelled")


class Client:
    """A connection to a kakehashi service at ``url`` with one API key."""

    def __init__(self, url: str, api_key: str | None = None, *, timeout: float = 60.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self._problems: dict[str, Any] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    # ---------------------------------------------------------------- transport
    def _request(self, method: str, path: str, **kwargs: Any):
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ConnectionFailedError(
                f"cannot reach the kakehashi service at {self.url}: {exc}",
                fix="check the URL and that `kakehashi serve` runs there",
            ) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text[:200]}
            raise error_from_response(response.status_code, body)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._request(method, path, **kwargs).json()

    # ---------------------------------------------------------------- admin
    def create_tenant(self, name: str, **limits: Any) -> dict[str, Any]:
        """Admin: a new tenant (``limits``: max_concurrent_jobs, money_per_month, …) and its
        first key, in ``["api_key"]`` (shown this once)."""
        return self._json("POST", "/v1/admin/tenants", json={"name": name, **limits})

    def create_key(self, tenant_id: int, label: str = "") -> dict[str, Any]:
        """Admin: another key for a tenant."""
        return self._json("POST", f"/v1/admin/tenants/{tenant_id}/keys", json={"label": label})

    def revoke_key(self, key_id: int) -> dict[str, Any]:
        """Revoke one of your tenant's keys."""
        return self._json("DELETE", f"/v1/keys/{key_id}")

    # ---------------------------------------------------------------- jobs
    def submit(
        self,
        problem: Any,
        backend: str | list[str] = "auto",
        *,
        time_limit: float | None = None,
        seed: int | None = None,
        max_cost: float | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> str:
        """Queue ``problem`` (a file path, or anything :func:`kakehashi.solve` takes); the
        job's id."""
        filename, data = _problem_upload(problem)
        form: dict[str, str] = {
            "backend": backend if isinstance(backend, str) else json.dumps(list(backend))
        }
        for key, value in (("time_limit", time_limit), ("seed", seed), ("max_cost", max_cost)):
            if value is not None:
                form[key] = str(value)
        if options:
            form["options"] = json.dumps(options)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        job = self._json(
            "POST", "/v1/jobs", data=form, files={"file": (filename, data)}, headers=headers
        )
        return job["id"]

    def status(self, job_id: str) -> dict[str, Any]:
        """The job as the server describes it (``["status"]``, ``["progress"]``,
        ``["best_so_far"]`` — the best feasible objective its backend has found yet, in the
        problem's sense —, charges …)."""
        return self._json("GET", f"/v1/jobs/{job_id}")

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel the job (a running one stops at its worker)."""
        return self._json("DELETE", f"/v1/jobs/{job_id}")

    def result(self, job_id: str) -> Result:
        """The completed job's :class:`~kakehashi.Result`, evaluated on the problem as it was
        uploaded."""
        text = self._request("GET", f"/v1/jobs/{job_id}/result").content
        return Result.from_json(text, self._problem(job_id))

    def wait(self, job_id: str, timeout: float | None = None, poll: float = 0.2) -> Result:
        """Wait for the job to end; its Result, or :class:`JobFailedError` /
        :class:`WaitTimeoutError`."""
        job = self._wait_completed(job_id, timeout, poll)
        if job.get("kind") == "comparison":
            raise BadRequestError(
                f"{job_id} is a comparison: its outcome is a report, not a Result",
                fix="use client.report(id) (or client.comparison(id) for its verdict)",
            )
        return self.result(job_id)

    def _wait_completed(self, job_id: str, timeout: float | None, poll: float) -> dict[str, Any]:
        """The job once completed; raises if it ended otherwise or is still going at
        ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.status(job_id)
            if job["status"] == "completed":
                return job
            if job["status"] in FINAL:
                raise JobFailedError(
                    f"job {job_id} ended {job['status']}: {job.get('error') or 'no error'}",
                    fix="fix the cause and submit again",
                )
            if deadline is not None and time.monotonic() > deadline:
                raise WaitTimeoutError(
                    f"job {job_id} is still {job['status']} after {timeout:g} s",
                    fix="wait longer, or cancel it",
                )
            time.sleep(poll)

    def jobs(
        self, all_tenants: bool = False, status: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Your jobs (``all_tenants=True``: everyone's, admin only), newest first."""
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"all_tenants": all_tenants, "limit": 200}
            if status:
                params["status"] = status
            if cursor:
                params["cursor"] = cursor
            page = self._json("GET", "/v1/jobs", params=params)
            out.extend(page["jobs"])
            cursor = page["next_cursor"]
            if not cursor or (limit is not None and len(out) >= limit):
                return out if limit is None else out[:limit]

    # ---------------------------------------------------------------- comparisons
    def compare(
        self,
        suite_or_problems: Any,
        backends: str | list[str] | None = None,
        *,
        instances: list[str] | None = None,
        repeats: int | None = None,
        time_limit: float | None = None,
        seed: int | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Queue a comparison; its id (a retry with the same ``idempotency_key`` gets the
        same one). ``suite_or_problems``: a suite's name (``"quick"``:
        a string that is not a file; see :meth:`suites`), or problems — a path, a list of
        paths, or anything :func:`kakehashi.solve` takes. ``instances``: with a suite, the
        names, globs or tags to run. Unset values take the suite's (uploads: 1 repeat of
        1 s). The server adds a classical baseline when none is named.

        Example (against a running ``kakehashi serve``)::

            >>> cmp = client.compare("quick", ["sb"], instances=["maxcut-*"])  # doctest: +SKIP
            >>> html = client.report(cmp, timeout=300)                         # doctest: +SKIP
        """
        form: dict[str, str] = {}
        if backends:
            form["backends"] = backends if isinstance(backends, str) else ",".join(backends)
        for key, value in (("repeats", repeats), ("time_limit", time_limit), ("seed", seed)):
            if value is not None:
                form[key] = str(value)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        if _is_suite_name(suite_or_problems):
            form["suite"] = suite_or_problems
            if instances:
                form["instances"] = json.dumps(list(instances))
            return self._json("POST", "/v1/comparisons", data=form, headers=headers)["id"]
        if instances:
            raise BadRequestError(
                "instances= selects a suite's instances; it means nothing for uploaded problems",
                fix="drop instances=, or pass a suite's name",
            )
        many = isinstance(suite_or_problems, (list, tuple))
        items = suite_or_problems if many else [suite_or_problems]
        uploads = [_problem_upload(p, stem=f"problem{k}") for k, p in enumerate(items)]
        files = [("files", (name, data)) for name, data in uploads]
        return self._json("POST", "/v1/comparisons", data=form, files=files, headers=headers)["id"]

    def comparison(self, cmp_id: str) -> dict[str, Any]:
        """The comparison as the server describes it (status, charges; once completed, the
        verdict and the baseline in ``["summary"]``)."""
        return self._json("GET", f"/v1/comparisons/{cmp_id}")

    def report(
        self, cmp_id: str, *, timeout: float | None = None, path: str | os.PathLike | None = None
    ) -> str:
        """The comparison's HTML report, once it has completed (waiting up to ``timeout``
        seconds; ``None``: as long as it takes); also written to ``path`` when given."""
        self._wait_completed(cmp_id, timeout, 0.5)
        html = self._request("GET", f"/v1/comparisons/{cmp_id}/report").text
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def suites(self) -> list[dict[str, Any]]:
        """The benchmark suites the server compares by name, with their instances."""
        return self._json("GET", "/v1/suites")

    def backends(self) -> list[dict[str, Any]]:
        return self._json("GET", "/v1/backends")

    def usage(self, by: str = "month") -> dict[str, Any]:
        return self._json("GET", "/v1/usage", params={"by": by})

    def _problem(self, job_id: str):
        if job_id not in self._problems:
            from kakehashi.model.io import load

            response = self._request("GET", f"/v1/jobs/{job_id}/problem")
            disposition = response.headers.get("content-disposition", "")
            name = disposition.split("filename=")[-1].strip('"') or "problem"
            with tempfile.TemporaryDirectory(prefix="kh-client-") as tmp:
                path = Path(tmp) / Path(name).name
                path.write_bytes(response.content)
                self._problems[job_id] = load(path)
        return self._problems[job_id]


def _is_suite_name(value: Any) -> bool:
    """A plain word that names no file (``"quick"``) is a suite; paths, files and problems
    are uploads."""
    return (
        isinstance(value, str)
        and bool(value.strip())
        and not any(c in value for c in "/\\.")
        and not Path(value).exists()
    )


def _problem_upload(problem: Any, stem: str = "problem") -> tuple[str, bytes]:
    """A file's name and bytes as they are; anything else written as .ommx, named after the
    problem (else ``stem``)."""
    if isinstance(problem, (str, os.PathLike)):
        path = Path(problem)
        from kakehashi.model.io.readers_common import require_file

        return path.name, require_file(path).read_bytes()
    from kakehashi.model.io import save
    from kakehashi.solve import as_problem

    prob = as_problem(problem)
    if stem != "problem":  # one of several: the report tells them apart by their names
        stem = re.sub(r"[^A-Za-z0-9_-]+", "_", prob.name or "")[:80] or stem
    with tempfile.TemporaryDirectory(prefix="kh-client-") as tmp:
        path = Path(tmp) / f"{stem}.ommx"
        save(prob, path)
        return path.name, path.read_bytes()
