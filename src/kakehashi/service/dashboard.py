"""The dashboard: server-rendered pages (Jinja2) with a few lines of JavaScript.

Sign in with an API key (kept in an HTTP-only, same-site cookie), upload a problem file or
fill in a use-case template from :mod:`kakehashi.apps`, choose a backend or ``auto``, watch
the queue and each job's progress (the page re-fetches a fragment every second), and read
the result: the solution by variable, its checked feasibility, objective, timing, money and
CO2. Compare backends on a named suite's instances or on uploaded files, and read the
comparison's HTML report on its page. Every page goes through the same functions as the
API, so the same quotas, limits and tenant isolation apply.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from kakehashi.errors import KakehashiError
from kakehashi.service import comparisons, db, jobs, suites
from kakehashi.service.auth import Caller, authenticate
from kakehashi.service.deps import COOKIE, State, state
from kakehashi.service.errors import AuthenticationError, BadRequestError, ServiceError
from kakehashi.service.models import ACTIVE, COMPLETED
from kakehashi.service.routers.jobs import admit_upload, read_upload

_HERE = resources.files("kakehashi.service")
templates = Jinja2Templates(directory=str(_HERE / "templates"))
router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=str(_HERE / "static"))


def _when(ts: float | None) -> str:
    if ts is None:
        return "—"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


templates.env.filters["when"] = _when


class SignIn(Exception):
    """Raised by :func:`page_caller` when the browser must sign in first."""


def page_caller(request: Request, st: State = Depends(state)) -> Caller:
    key = request.cookies.get(COOKIE)
    try:
        with db.read_session(st.engine) as session:
            return authenticate(session, key)
    except AuthenticationError as exc:
        raise SignIn() from exc


def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return RedirectResponse("/ui/jobs" if request.cookies.get(COOKIE) else "/ui/login", 303)


@router.get("/ui/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _render(request, "login.html", caller=None, error=None)


@router.post("/ui/login", response_class=HTMLResponse)
def login(
    request: Request, api_key: Annotated[str, Form()] = "", st: State = Depends(state)
) -> Response:
    try:
        with db.read_session(st.engine) as session:
            authenticate(session, api_key.strip())
    except AuthenticationError as exc:
        return _render(request, "login.html", 401, caller=None, error=str(exc))
    response = RedirectResponse("/ui/jobs", 303)
    response.set_cookie(
        COOKIE, api_key.strip(), httponly=True, samesite="strict", max_age=7 * 86400
    )
    return response


@router.post("/ui/logout")
def logout() -> Response:
    response = RedirectResponse("/ui/login", 303)
    response.delete_cookie(COOKIE)
    return response


def _backend_choices() -> list[str]:
    from kakehashi.service.routers.backends import _backends

    return ["auto"] + [b.name for b in _backends() if b.available]


def _use_cases() -> list[tuple[str, str]]:
    from kakehashi.apps import use_cases

    return [(u.name, (u.__doc__ or u.name).strip().splitlines()[0]) for u in use_cases()]


def _jobs_page(
    request: Request, st: State, who: Caller, status: int = 200, error: str | None = None
) -> HTMLResponse:
    rows, _ = jobs.list_jobs(st.engine, who, limit=50)
    return _render(
        request,
        "jobs.html",
        status,
        caller=who,
        rows=rows,
        backends=_backend_choices(),
        use_cases=_use_cases(),
        suites=suites.listing(),
        error=error,
    )


@router.get("/ui/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request, who: Caller = Depends(page_caller), st: State = Depends(state)
) -> HTMLResponse:
    return _jobs_page(request, st, who)


@router.get("/ui/fragments/jobs", response_class=HTMLResponse)
def jobs_fragment(
    request: Request, who: Caller = Depends(page_caller), st: State = Depends(state)
) -> HTMLResponse:
    rows, _ = jobs.list_jobs(st.engine, who, limit=50)
    return _render(request, "_jobs_table.html", rows=rows)


def _template_upload(use_case: str, size: int, seed: int | None) -> tuple[bytes, str]:
    from kakehashi.apps import get_use_case
    from kakehashi.model.io import save

    uc = get_use_case(use_case)
    problem = uc.build(uc.generate(size, seed=seed))
    with tempfile.TemporaryDirectory(prefix="kh-ui-") as tmp:
        path = Path(tmp) / f"{use_case}-{size}.ommx"
        save(problem, path)
        return path.read_bytes(), path.name


@router.post("/ui/submit", response_class=HTMLResponse)
async def submit(
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    use_case: Annotated[str, Form()] = "",
    size: Annotated[int, Form()] = 6,
    seed: Annotated[str, Form()] = "",
    backend: Annotated[str, Form()] = "auto",
    time_limit: Annotated[str, Form()] = "",
    who: Caller = Depends(page_caller),
    st: State = Depends(state),
) -> Response:
    from starlette.concurrency import run_in_threadpool

    try:
        seed_value = int(seed) if seed.strip() else None
        limit = float(time_limit) if time_limit.strip() else None
        if file is not None and file.filename:
            data, name = (
                await read_upload(request, file, st.settings.max_upload_bytes),
                file.filename,
            )
        elif use_case:
            data, name = await run_in_threadpool(_template_upload, use_case, size, seed_value)
        else:
            raise jobs.BadRequestError("choose a file or a use-case template", fix="")
        spec = jobs.JobSpec(backend=backend, time_limit=limit, seed=seed_value)
        job, _ = await admit_upload(st, who, spec, data, name, None)
    except (KakehashiError, ValueError) as exc:
        return _jobs_page(request, st, who, 400, _message(exc))
    return RedirectResponse(f"/ui/jobs/{job.id}", 303)


def _message(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ServiceError) else f"invalid: {exc}"


@router.post("/ui/compare", response_class=HTMLResponse)
async def compare(
    request: Request,
    suite: Annotated[str, Form()] = "",
    instances: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
    backends: Annotated[list[str] | None, Form()] = None,
    repeats: Annotated[str, Form()] = "",
    time_limit: Annotated[str, Form()] = "",
    seed: Annotated[str, Form()] = "",
    who: Caller = Depends(page_caller),
    st: State = Depends(state),
) -> Response:
    """A comparison of a suite's instances or of uploaded files, as POST /v1/comparisons."""
    from starlette.concurrency import run_in_threadpool

    from kakehashi.service.routers.comparisons import queued, split_names

    try:
        spec = comparisons.ComparisonSpec(
            backends=[b for b in backends or [] if b],
            repeats=int(repeats) if repeats.strip() else None,
            time_limit=float(time_limit) if time_limit.strip() else None,
            seed=int(seed) if seed.strip() else None,
        )
        uploads = [f for f in files or [] if f.filename]
        if suite and uploads:
            raise BadRequestError("choose a suite or files, not both", fix="")
        if instances.strip() and not suite:
            raise BadRequestError("instances are a suite's: choose the suite too", fix="")
        if suite:
            job, _ = await run_in_threadpool(
                comparisons.submit_suite,
                st.engine,
                st.settings,
                who,
                spec,
                suite,
                split_names(instances),
                None,
                queued(st),
            )
        elif uploads:
            data = [
                (f.filename, await read_upload(request, f, st.settings.max_upload_bytes))
                for f in uploads
            ]
            job, _ = await run_in_threadpool(
                comparisons.submit_uploads, st.engine, st.settings, who, spec, data, None,
                queued(st),
            )  # fmt: skip
        else:
            raise BadRequestError("choose a suite or problem files to compare", fix="")
    except (KakehashiError, ValueError) as exc:
        return _jobs_page(request, st, who, 400, _message(exc))
    return RedirectResponse(f"/ui/jobs/{job.id}", 303)


def _job_context(st: State, who: Caller, job_id: str) -> dict[str, Any]:
    with db.read_session(st.engine) as session:
        job = jobs.get_job(session, who, job_id)
    ctx: dict[str, Any] = {"job": job, "active": job.status in ACTIVE, "result": None}
    if job.kind == "comparison":
        ctx["comparison"] = {
            "done": job.status == COMPLETED and bool(job.result_json),
            "baseline": (job.summary or {}).get("baseline"),
            "verdict": (job.summary or {}).get("verdict", ""),
            "not_run": (job.options or {}).get("not_run", []),
        }
    elif job.status == COMPLETED and job.result_json:
        d = json.loads(job.result_json)
        ctx["result"] = {
            "objective": d["objective"],
            "feasible": d["feasible"],
            "sense": d["sense"],
            "backend": d["backend"],
            "solution": {k: json.dumps(v) for k, v in d["solution"].items()},
            "violations": {k: v for k, v in d["constraint_violations"].items() if v},
            "timing": d["timing"],
            "resources": d["resources"],
            "auto_choice": (d.get("info") or {}).get("auto_choice"),
        }
    return ctx


@router.get("/ui/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    request: Request, job_id: str, who: Caller = Depends(page_caller), st: State = Depends(state)
) -> HTMLResponse:
    return _render(request, "job.html", caller=who, **_job_context(st, who, job_id))


@router.get("/ui/fragments/jobs/{job_id}", response_class=HTMLResponse)
def job_fragment(
    request: Request, job_id: str, who: Caller = Depends(page_caller), st: State = Depends(state)
) -> HTMLResponse:
    return _render(request, "_job_detail.html", **_job_context(st, who, job_id))


@router.get("/ui/comparisons/{cmp_id}/report", response_class=HTMLResponse)
def comparison_report(
    cmp_id: str, who: Caller = Depends(page_caller), st: State = Depends(state)
) -> HTMLResponse:
    """The report, for the job page's frame (sandboxed there: its script checks its charts)."""
    from kakehashi.service.routers.comparisons import report_html

    return HTMLResponse(report_html(st, who, cmp_id))


@router.post("/ui/jobs/{job_id}/cancel")
def cancel(job_id: str, who: Caller = Depends(page_caller), st: State = Depends(state)) -> Response:
    jobs.cancel(st.engine, who, job_id)
    return RedirectResponse(f"/ui/jobs/{job_id}", 303)


@router.get("/ui/usage", response_class=HTMLResponse)
def usage_page(
    request: Request, who: Caller = Depends(page_caller), st: State = Depends(state)
) -> HTMLResponse:
    from kakehashi.service.routers.usage import usage_for

    return _render(request, "usage.html", caller=who, usage=usage_for(st, who.tenant_id, "month"))


def install(app) -> None:
    """Mount the pages, their static files, and the sign-in redirect on ``app``."""
    app.include_router(router)
    app.mount("/ui/static", static, name="static")

    @app.exception_handler(SignIn)
    async def _sign_in(_request: Request, _exc: SignIn):
        return RedirectResponse("/ui/login", 303)
