"""``/v1/comparisons``: uploaded problems or a named suite × backends, run by a worker through
:func:`kakehashi.compare` (or :func:`kakehashi.bench.compare.compare_suite`), producing its
HTML report; ``/v1/suites``: the suites a comparison can name."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from kakehashi.service import comparisons, db, jobs, suites
from kakehashi.service.auth import Caller
from kakehashi.service.deps import State, caller, state
from kakehashi.service.errors import BadRequestError, NotFoundError
from kakehashi.service.models import COMPLETED
from kakehashi.service.routers.jobs import ERRORS, read_upload
from kakehashi.service.schemas import JobOut, SuiteOut, parse_backend

router = APIRouter(prefix="/v1", tags=["comparisons"])


def spec_from_form(backends: str, repeats, time_limit, seed) -> comparisons.ComparisonSpec:
    try:
        names = parse_backend(backends) if backends.strip() else []
        return comparisons.ComparisonSpec(
            backends=[names] if isinstance(names, str) else names,
            repeats=repeats,
            time_limit=time_limit,
            seed=seed,
        )
    except (ValueError, ValidationError) as exc:
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise BadRequestError(
            f"invalid comparison: {detail}", fix="see POST /v1/comparisons in /docs",
            code="invalid_job",
        ) from exc  # fmt: skip


def split_names(text: str) -> list[str]:
    """A form field's list: ``"a, b"`` or ``'["a", "b"]'``."""
    text = text.strip()
    if text.startswith("["):
        try:
            names = json.loads(text)
        except ValueError as exc:
            raise BadRequestError(f"instances: {exc}", fix='pass "a,b" or a JSON list') from exc
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise BadRequestError("instances must be a list of names", fix='pass "a,b"')
        return names
    return [t.strip() for t in text.split(",") if t.strip()]


def queued(st: State) -> comparisons.Admit:
    """Admission through the app's queue, in one batch with the jobs submitted meanwhile
    (called from a worker thread, which waits for its batch's decision)."""
    return lambda sub: st.admissions.put(sub).result()


@router.post("/comparisons", status_code=201, response_model=JobOut, responses=ERRORS)
async def submit_comparison(
    request: Request,
    response: Response,
    files: Annotated[
        list[UploadFile] | None, File(description="1–20 problem files (or give suite)")
    ] = None,
    suite: Annotated[
        str, Form(description="a suite's name instead of files (GET /v1/suites)")
    ] = "",
    instances: Annotated[
        str, Form(description="with suite: names, globs or tags (a,b); at most 20 instances")
    ] = "",
    backends: Annotated[
        str, Form(description="names to compare: a,b,c (default: the suite's choice)")
    ] = "",
    time_limit: Annotated[
        float | None, Form(description="seconds per run (default: the suite's, else 1)")
    ] = None,
    repeats: Annotated[int | None, Form(description="runs per pair (suite's, else 1)")] = None,
    seed: Annotated[int | None, Form(description="base seed (suite's, else 0)")] = None,
    idempotency_key: Annotated[str | None, Header()] = None,
    who: Caller = Depends(caller),
    st: State = Depends(state),
) -> JobOut:
    """Queue a comparison of uploaded problems or of a named suite's instances; every run is
    estimated and the total reserved against the tenant's quotas first. Retries with the same
    ``Idempotency-Key`` return the same comparison (200)."""
    spec = spec_from_form(backends, repeats, time_limit, seed)
    uploads = [f for f in files or [] if f.filename]
    if suite.strip() and uploads:
        raise BadRequestError(
            "give either problem files or a suite, not both", fix="drop one of them"
        )
    if instances.strip() and not suite.strip():
        raise BadRequestError(
            "instances= selects a suite's instances; it needs suite=",
            fix="pass suite= too, or leave instances out when uploading files",
        )
    if suite.strip():
        job, created = await run_in_threadpool(
            comparisons.submit_suite,
            st.engine,
            st.settings,
            who,
            spec,
            suite,
            split_names(instances),
            idempotency_key,
            queued(st),
        )
    elif uploads:
        data = [
            (f.filename or "problem", await read_upload(request, f, st.settings.max_upload_bytes))
            for f in uploads
        ]
        job, created = await run_in_threadpool(
            comparisons.submit_uploads,
            st.engine, st.settings, who, spec, data, idempotency_key, queued(st),
        )  # fmt: skip
    else:
        raise BadRequestError(
            "a comparison needs problem files or a suite",
            fix=f"upload files, or pass suite= (one of {', '.join(suites.suite_names())})",
        )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/comparisons/{job.id}"
    return JobOut.of(job, who.tenant_name)


def _comparison(st: State, who: Caller, cmp_id: str):
    with db.read_session(st.engine) as session:
        job = jobs.get_job(session, who, cmp_id)
    if job.kind != "comparison":
        raise NotFoundError(f"no comparison {cmp_id!r}", fix="see GET /v1/jobs")
    return job


@router.get("/comparisons/{cmp_id}", response_model=JobOut, responses=ERRORS)
def get_comparison(
    cmp_id: str, who: Caller = Depends(caller), st: State = Depends(state)
) -> JobOut:
    """Its status; once completed, the verdict in ``summary``."""
    return JobOut.of(_comparison(st, who, cmp_id))


def report_html(st: State, who: Caller, cmp_id: str) -> str:
    """The completed comparison's HTML report, if the caller's tenant owns it."""
    job = _comparison(st, who, cmp_id)
    if job.status != COMPLETED or not job.result_json:
        raise NotFoundError(
            f"comparison {cmp_id} has no report (status {job.status})",
            fix="wait until its status is completed",
            code="no_result",
        )
    return json.loads(job.result_json)["html"]


@router.get("/comparisons/{cmp_id}/report", response_class=HTMLResponse, responses=ERRORS)
def get_report(
    cmp_id: str, who: Caller = Depends(caller), st: State = Depends(state)
) -> HTMLResponse:
    """The comparison's HTML report (charts, tables, the baseline named)."""
    return HTMLResponse(report_html(st, who, cmp_id))


@router.get("/suites", response_model=list[SuiteOut], responses=ERRORS)
def list_suites(_who: Caller = Depends(caller)) -> list[SuiteOut]:
    """The benchmark suites a comparison can name, with their defaults and instances
    (``available``: whether the instance's data is on this server)."""
    return [SuiteOut(**s) for s in suites.listing()]
