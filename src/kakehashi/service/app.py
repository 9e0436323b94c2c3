"""The FastAPI application: ``/v1`` API, the dashboard at ``/``, errors as JSON.

Example:
    >>> import tempfile
    >>> from fastapi.testclient import TestClient
    >>> s = Settings(data_dir=tempfile.mkdtemp(), workers=0)
    >>> app = create_app(s)
    >>> TestClient(app).get("/v1/health").json()
    {'status': 'ok'}
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kakehashi import __version__
from kakehashi.errors import KakehashiError
from kakehashi.service import db
from kakehashi.service.admission import AdmissionQueue
from kakehashi.service.auth import KeyCache, issue_key
from kakehashi.service.deps import State
from kakehashi.service.errors import ServiceError
from kakehashi.service.models import Tenant
from kakehashi.service.ratelimit import TokenBuckets
from kakehashi.service.settings import Settings

log = logging.getLogger("kakehashi.service")

DESCRIPTION = """A multi-user job service for kakehashi: upload a problem, choose a backend
(or `auto`, or a list to race), and fetch the checked result. Every request carries an API
key (`Authorization: Bearer kh_…`). Errors are JSON `{error, detail, fix}`."""


def create_app(settings: Settings, engine: sa.Engine | None = None) -> FastAPI:
    """The app for ``settings`` (the schema is migrated to the newest version first)."""
    if not settings.database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine or db.make_engine(settings.database_url)
    db.migrate(engine)
    app = FastAPI(title="kakehashi service", version=__version__, description=DESCRIPTION)
    app.state.kakehashi = State(
        settings,
        engine,
        TokenBuckets(settings.rate_limit, settings.rate_burst),
        AdmissionQueue(engine, settings),
        KeyCache(settings.key_cache_seconds),
    )
    _add_error_handlers(app)
    from kakehashi.service import dashboard
    from kakehashi.service.routers import admin, backends, comparisons, jobs, usage

    for module in (jobs, comparisons, backends, usage, admin):
        app.include_router(module.router)
    dashboard.install(app)
    return app


def _error(status: int, code: str, detail: str, fix: str, headers=None) -> JSONResponse:
    return JSONResponse(
        {"error": code, "detail": detail, "fix": fix}, status_code=status, headers=headers
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(_req: Request, exc: ServiceError):
        headers = {"Retry-After": "1"} if exc.status == 429 else None
        return _error(exc.status, exc.code, exc.detail, exc.fix, headers)

    @app.exception_handler(KakehashiError)
    async def _kakehashi(_req: Request, exc: KakehashiError):
        return _error(400, type(exc).__name__, str(exc), "see the detail")

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(
            422,
            "invalid_request",
            f"{where}: {first.get('msg', 'invalid')}",
            "see this endpoint in the OpenAPI document at /openapi.json",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), "see /docs for the API")

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception):
        log.error("unexpected error: %s", type(exc).__name__)  # no payloads in logs
        return _error(
            500,
            "server_error",
            f"unexpected {type(exc).__name__}",
            "retry; if it persists, report it to the administrator",
        )


def ensure_admin(engine: sa.Engine) -> str | None:
    """Create the admin tenant and its key on the first start; the key, or None if one
    exists already (it is never shown again)."""
    with db.write_session(engine) as session:
        if session.execute(sa.select(Tenant).where(Tenant.is_admin.is_(True))).first():
            return None
        admin = Tenant(name="admin", is_admin=True, created_at=time.time())
        session.add(admin)
        session.flush()
        key, _row = issue_key(session, admin, "admin (first start)")
        return key
