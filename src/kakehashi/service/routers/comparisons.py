"""``/v1/comparisons``: uploaded problems × backends, run by a worker through
:func:`kakehashi.compare`, producing its HTML report."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from kakehashi.service import db, jobs
from kakehashi.service.auth import Caller
from kakehashi.service.deps import State, caller, state
from kakehashi.service.errors import BadRequestError, NotFoundError
from kakehashi.service.models import COMPLETED
from kakehashi.service.routers.jobs import ERRORS, read_upload
from kakehashi.service.schemas import JobOut, parse_backend

router = APIRouter(prefix="/v1/comparisons", tags=["comparisons"])


@router.post("", status_code=201, response_model=JobOut, responses=ERRORS)
async def submit_comparison(
    request: Request,
    files: Annotated[list[UploadFile], File(description="1–20 problem files")],
    backends: Annotated[str, Form(description="names to compare: a,b,c")],
    time_limit: Annotated[float, Form(description="seconds per run")],
    repeats: Annotated[int, Form()] = 1,
    seed: Annotated[int, Form()] = 0,
    who: Caller = Depends(caller),
    st: State = Depends(state),
) -> JobOut:
    """Queue a comparison; every run is estimated and reserved against the quotas first."""
    uploads = [
        (f.filename or "problem", await read_upload(request, f, st.settings.max_upload_bytes))
        for f in files
    ]
    try:
        names = parse_backend(backends)
        spec = jobs.ComparisonSpec(
            backends=[names] if isinstance(names, str) else names,
            repeats=repeats,
            time_limit=time_limit,
            seed=seed,
        )
    except (ValueError, ValidationError) as exc:
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise BadRequestError(
            f"invalid comparison: {detail}", fix="see /docs", code="invalid_job"
        ) from exc
    job = await run_in_threadpool(
        jobs.submit_comparison, st.engine, st.settings, who, spec, uploads
    )
    return JobOut.of(job, who.tenant_name)


def _comparison(st: State, who: Caller, cmp_id: str):
    with db.read_session(st.engine) as session:
        job = jobs.get_job(session, who, cmp_id)
    if job.kind != "comparison":
        raise NotFoundError(f"no comparison {cmp_id!r}", fix="see GET /v1/jobs")
    return job


@router.get("/{cmp_id}", response_model=JobOut, responses=ERRORS)
def get_comparison(
    cmp_id: str, who: Caller = Depends(caller), st: State = Depends(state)
) -> JobOut:
    """Its status; once completed, the verdict in ``summary``."""
    return JobOut.of(_comparison(st, who, cmp_id))


@router.get("/{cmp_id}/report", response_class=HTMLResponse, responses=ERRORS)
def get_report(
    cmp_id: str, who: Caller = Depends(caller), st: State = Depends(state)
) -> HTMLResponse:
    """The comparison's HTML report (charts, tables, the baseline named)."""
    job = _comparison(st, who, cmp_id)
    if job.status != COMPLETED or not job.result_json:
        raise NotFoundError(
            f"comparison {cmp_id} has no report (status {job.status})",
            fix="wait until its status is completed",
            code="no_result",
        )
    return HTMLResponse(json.loads(job.result_json)["html"])
