"""``/v1/jobs``: submit, list, inspect, cancel, and fetch results."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from kakehashi.service import db, jobs
from kakehashi.service.auth import Caller
from kakehashi.service.deps import State, caller, state
from kakehashi.service.errors import BadRequestError, NotFoundError, PayloadTooLargeError
from kakehashi.service.models import COMPLETED
from kakehashi.service.schemas import ErrorOut, JobList, JobOut, parse_backend

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
INLINE_PREPARE_BYTES = 16 * 1024
ERRORS = {c: {"model": ErrorOut} for c in (400, 401, 404, 409, 413, 422, 429)}


async def read_upload(request: Request, file: UploadFile, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + 64 * 1024:
        raise PayloadTooLargeError(
            f"the upload is {int(length)} bytes; this server takes at most {limit}",
            fix="compress the file (.gz) or ask for a larger max_upload_bytes",
        )
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(
            f"the upload is over {limit} bytes", fix="compress the file (.gz)"
        )
    if not data:
        raise BadRequestError("the uploaded file is empty", fix="upload a problem file")
    return data


def spec_from_form(backend: str, time_limit, seed, max_cost, options: str) -> jobs.JobSpec:
    try:
        opts = json.loads(options) if options.strip() else {}
        return jobs.JobSpec(
            backend=parse_backend(backend),
            time_limit=time_limit,
            seed=seed,
            max_cost=max_cost,
            options=opts,
        )
    except (ValueError, ValidationError) as exc:
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise BadRequestError(
            f"invalid job: {detail}", fix="see POST /v1/jobs in /docs", code="invalid_job"
        ) from exc


async def admit_upload(
    st: State, who: Caller, spec: jobs.JobSpec, data: bytes, filename: str, key: str | None
):
    """Prepare the upload (in a worker thread if it is large: reading it takes a while), then
    hand it to the app's admission queue and wait for its batch: ``(job, created)``."""
    if len(data) <= INLINE_PREPARE_BYTES:  # under a millisecond: a thread hop costs more
        sub = jobs.prepare(st.settings, who, spec, data, filename, key)
    else:
        sub = await run_in_threadpool(jobs.prepare, st.settings, who, spec, data, filename, key)
    job, created = await asyncio.wrap_future(st.admissions.put(sub))
    return job, created


@router.post("", status_code=201, response_model=JobOut, responses=ERRORS)
async def submit_job(
    request: Request,
    response: Response,
    file: Annotated[UploadFile, File(description="problem in any format kakehashi reads")],
    backend: Annotated[str, Form(description="name, 'auto', or names to race (a,b)")] = "auto",
    time_limit: Annotated[float | None, Form()] = None,
    seed: Annotated[int | None, Form()] = None,
    max_cost: Annotated[float | None, Form()] = None,
    options: Annotated[str, Form(description="backend options as a JSON object")] = "",
    idempotency_key: Annotated[str | None, Header()] = None,
    who: Caller = Depends(caller),
    st: State = Depends(state),
) -> JobOut:
    """Queue a problem for solving; its cost is estimated and reserved against the tenant's
    quotas first. Retries with the same ``Idempotency-Key`` return the same job (200)."""
    data = await read_upload(request, file, st.settings.max_upload_bytes)
    spec = spec_from_form(backend, time_limit, seed, max_cost, options)
    job, created = await admit_upload(
        st, who, spec, data, file.filename or "problem", idempotency_key
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobOut.of(job, who.tenant_name)


@router.get("", response_model=JobList, responses=ERRORS)
def list_jobs(
    status: Annotated[str | None, Query(description="only jobs in this status")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    all_tenants: Annotated[bool, Query(description="every tenant's jobs (admin)")] = False,
    who: Caller = Depends(caller),
    st: State = Depends(state),
) -> JobList:
    """The tenant's jobs, newest first, one page at a time."""
    rows, nxt = jobs.list_jobs(
        st.engine, who, status=status, cursor=cursor, limit=limit, all_tenants=all_tenants
    )
    return JobList(jobs=[JobOut.of(j, t) for j, t in rows], next_cursor=nxt)


@router.get("/{job_id}", response_model=JobOut, responses=ERRORS)
def get_job(job_id: str, who: Caller = Depends(caller), st: State = Depends(state)) -> JobOut:
    """A job's status, progress, charges and (once completed) its summary."""
    with db.read_session(st.engine) as session:
        return JobOut.of(jobs.get_job(session, who, job_id))


@router.delete("/{job_id}", response_model=JobOut, responses=ERRORS)
def cancel_job(job_id: str, who: Caller = Depends(caller), st: State = Depends(state)) -> JobOut:
    """Cancel: a queued job at once, a running one by its worker (``cancelling``)."""
    return JobOut.of(jobs.cancel(st.engine, who, job_id))


@router.get(
    "/{job_id}/result",
    responses={
        **ERRORS,
        200: {"content": {"application/json": {}, "application/octet-stream": {}}},
    },
)
def get_result(
    job_id: str,
    format: Annotated[str, Query(pattern="^(json|ommx)$", description="json or ommx")] = "json",
    who: Caller = Depends(caller),
    st: State = Depends(state),
) -> Response:
    """The result as kakehashi's JSON (all samples included) or an OMMX SampleSet."""
    with db.read_session(st.engine) as session:
        job = jobs.get_job(session, who, job_id)
    if job.kind != "solve":
        raise NotFoundError(
            f"{job_id} is a comparison", fix=f"read GET /v1/comparisons/{job_id}/report"
        )
    if job.status != COMPLETED or job.result_json is None:
        raise NotFoundError(
            f"job {job_id} has no result (status {job.status})",
            fix="wait until its status is completed"
            if job.status in ("queued", "running")
            else "see the job's error with GET /v1/jobs/{id}",
            code="no_result",
        )
    if format == "json":
        return Response(job.result_json, media_type="application/json")
    from kakehashi.result import Result

    problem = jobs.read_problem(job.problem_bytes, job.problem_filename)
    result = Result.from_json(job.result_json, problem)
    return Response(result.to_ommx().to_bytes(), media_type="application/octet-stream")


@router.get("/{job_id}/problem", responses=ERRORS, response_class=Response)
def get_problem(job_id: str, who: Caller = Depends(caller), st: State = Depends(state)):
    """The problem file exactly as it was uploaded."""
    with db.read_session(st.engine) as session:
        job = jobs.get_job(session, who, job_id)
    return Response(
        job.problem_bytes,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{job.problem_filename}"'},
    )
