"""Every setting of the service, read from ``KAKEHASHI_*`` environment variables.

``kakehashi serve`` options override the environment; workers started by the server get
the same settings through their environment. Vendor credentials (``DWAVE_API_TOKEN``,
``AWS_*``, ``QISKIT_IBM_TOKEN`` …) are read by the backends from the server's environment
only: they never travel in a job, a result or a log line.

Example:
    >>> s = Settings.from_env({"KAKEHASHI_WORKERS": "3"})
    >>> s.workers, s.database_url.startswith("sqlite")
    (3, True)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, Field

from kakehashi.errors import KakehashiError

PREFIX = "KAKEHASHI_"


class Settings(BaseModel):
    """The service's configuration (each field is also ``KAKEHASHI_<FIELD NAME IN CAPS>``)."""

    host: str = Field("127.0.0.1", description="address the API listens on")
    port: int = Field(8000, ge=0, le=65535, description="port the API listens on")
    data_dir: Path = Field(Path("kakehashi-data"), description="where the SQLite store lives")
    database: str | None = Field(
        None, description="database URL (postgresql://…); default SQLite in data_dir"
    )
    workers: int = Field(2, ge=0, le=256, description="local worker processes to start")
    max_upload_bytes: int = Field(16 * 2**20, ge=1, description="largest accepted upload")
    max_problem_variables: int = Field(
        100_000, ge=1, description="default per-tenant problem size limit (variables)"
    )
    max_time_limit: float = Field(3600.0, gt=0, description="largest time_limit a job may ask")
    rate_limit: float = Field(20.0, gt=0, description="requests per second per API key")
    rate_burst: int = Field(100, ge=1, description="requests a key may make at once")
    key_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="how long an API process trusts a key it checked before looking it up "
        "again (a key revoked through that process is refused at once; 0 looks up every time)",
    )
    heartbeat_seconds: float = Field(2.0, gt=0, description="how often workers report")
    heartbeat_timeout: float = Field(
        15.0, gt=0, description="a running job whose worker is silent this long is re-queued"
    )
    cancel_grace_seconds: float = Field(
        10.0,
        ge=0,
        description="how long a stopped run (cancelled, hung, shut down) may take to cancel its "
        "task at a cloud provider before it is killed",
    )
    max_attempts: int = Field(3, ge=1, description="runs per job before it fails")
    warm_up: str = Field(
        "tabu,sa",
        description="backends each worker compiles at start, so forked runs skip it",
    )
    runner_niceness: int = Field(
        10,
        ge=0,
        le=19,
        description="how far below the API's CPU priority solves run (nice), so that the API "
        "stays responsive while workers solve on the same machine; 0 for the same priority",
    )
    poll_seconds: float = Field(0.2, gt=0, description="idle worker's wait between claims")
    quota_concurrent_jobs: int = Field(100, ge=0, description="default: queued+running jobs")
    quota_cpu_seconds_day: float = Field(86_400.0, ge=0, description="default CPU-s per day")
    quota_money_month: float = Field(10.0, ge=0, description="default spending cap per month")
    quota_qpu_seconds_month: float = Field(60.0, ge=0, description="default QPU-s per month")

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL: ``database`` with the psycopg driver, else SQLite in data_dir."""
        if self.database:
            url = self.database
            if url.startswith("postgres://"):
                url = "postgresql://" + url[len("postgres://") :]
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            return url
        return f"sqlite:///{(Path(self.data_dir) / 'kakehashi.sqlite3').resolve()}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Settings from ``KAKEHASHI_*`` variables, then ``overrides`` (those not None)."""
        env = os.environ if environ is None else environ
        values: dict = {}
        for name in cls.model_fields:
            raw = env.get(PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValueError as exc:
            raise KakehashiError(
                f"invalid service setting: {exc}; fix the {PREFIX}* variable or option"
            ) from exc

    def to_env(self) -> dict[str, str]:
        """The ``KAKEHASHI_*`` variables that reproduce these settings (for worker processes)."""
        out = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                out[PREFIX + name.upper()] = str(value)
        return out


def help_text() -> str:
    """One line per setting with its environment variable, for ``kakehashi serve --help``."""
    lines = []
    for name, field in Settings.model_fields.items():
        lines.append(f"{PREFIX}{name.upper()}: {field.description} (default {field.default})")
    return "\n\n".join(lines)
