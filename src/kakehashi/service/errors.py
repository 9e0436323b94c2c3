"""Errors the service answers with and the client raises: JSON ``{error, detail, fix}``.

Pure Python (no FastAPI) so that :mod:`kakehashi.client` can raise the same classes.
"""

from __future__ import annotations

from kakehashi.errors import BudgetError, KakehashiError


class ServiceError(KakehashiError):
    """An API request refused: ``status`` (HTTP), ``code`` (short name), ``fix`` (what to do).

    Example:
        >>> e = NotFoundError("no job job_1", fix="list your jobs with GET /v1/jobs")
        >>> e.status, e.code, str(e)
        (404, 'not_found', 'no job job_1 — list your jobs with GET /v1/jobs')
    """

    status = 400
    code = "bad_request"

    def __init__(
        self, detail: str, *, fix: str = "", status: int | None = None, code: str | None = None
    ) -> None:
        self.detail = detail
        self.fix = fix
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        super().__init__(f"{detail} — {fix}" if fix else detail)

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "detail": self.detail, "fix": self.fix}


class BadRequestError(ServiceError):
    status, code = 400, "bad_request"


class AuthenticationError(ServiceError):
    status, code = 401, "unauthenticated"


class PermissionDeniedError(ServiceError):
    status, code = 403, "forbidden"


class NotFoundError(ServiceError):
    status, code = 404, "not_found"


class ConflictError(ServiceError):
    status, code = 409, "conflict"


class PayloadTooLargeError(ServiceError):
    status, code = 413, "payload_too_large"


class ProblemTooLargeError(ServiceError):
    status, code = 422, "problem_too_large"


class QuotaExceededError(ServiceError, BudgetError):
    """A quota or spending cap would be exceeded: nothing was queued or sent."""

    status, code = 429, "quota_exceeded"


class RateLimitedError(ServiceError):
    status, code = 429, "rate_limited"


class ServerError(ServiceError):
    status, code = 500, "server_error"


_BY_CODE = {
    cls.code: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        PayloadTooLargeError,
        ProblemTooLargeError,
        QuotaExceededError,
        RateLimitedError,
        ServerError,
    )
}
_BY_STATUS = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
}


def error_from_response(status: int, body: dict | None) -> ServiceError:
    """The :class:`ServiceError` subclass a JSON error answer stands for (client side)."""
    body = body or {}
    code = str(body.get("error", ""))
    cls = (
        _BY_CODE.get(code)
        or _BY_STATUS.get(status)
        or (ServerError if status >= 500 else BadRequestError)
    )
    return cls(
        str(body.get("detail") or f"HTTP {status}"),
        fix=str(body.get("fix") or ""),
        status=status,
        code=code or cls.code,
    )


class ConnectionFailedError(ServiceError):
    """The client could not reach the server."""

    status, code = 503, "unreachable"


class JobFailedError(ServiceError):
    """A job the client waited for ended failed or cancelled."""

    status, code = 409, "job_failed"


class WaitTimeoutError(ServiceError):
    """A job did not end within the client's timeout (it keeps running on the server)."""

    status, code = 408, "wait_timeout"
