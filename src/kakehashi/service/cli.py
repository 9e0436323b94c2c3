"""CLI commands for the service: ``serve``, ``submit``, ``jobs``, ``cancel``.

``submit``/``jobs``/``cancel`` take the server from ``--server`` or ``KAKEHASHI_SERVER``
and the key from ``--key`` or ``KAKEHASHI_API_KEY``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kakehashi.errors import KakehashiError

Server = Annotated[str, typer.Option("--server", envvar="KAKEHASHI_SERVER", help="Service URL")]
Key = Annotated[
    str | None,
    typer.Option("--key", envvar="KAKEHASHI_API_KEY", help="API key (kh_…)", show_default=False),
]


def serve(
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to listen on [env KAKEHASHI_HOST; default 127.0.0.1]"),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port [env KAKEHASHI_PORT; default 8000]")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Directory of the SQLite store [env KAKEHASHI_DATA_DIR; default ./kakehashi-data]",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="postgresql://… instead of SQLite [env KAKEHASHI_DATABASE]"
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Local worker processes [env KAKEHASHI_WORKERS; default 2]"),
    ] = None,
) -> None:
    """Run the job service: REST API under /v1, dashboard at /, and local workers.

    On the first start it creates the admin tenant and prints its API key once.
    """
    from kakehashi.service.server import serve as _serve
    from kakehashi.service.settings import Settings

    settings = Settings.from_env(
        host=host, port=port, data_dir=data_dir, database=database, workers=workers
    )
    _serve(settings)


def _settings_help() -> str:
    try:
        from kakehashi.service.settings import help_text
    except ImportError:  # the [service] extra is not installed
        return "pip install 'kakehashi[service]' to run the service."
    return "Every setting (environment variables):\n\n" + help_text()


serve.__doc__ = (serve.__doc__ or "") + "\n\n" + _settings_help()


def _client(server: str, key: str | None):
    from kakehashi.client import Client

    if not key:
        raise KakehashiError("no API key: pass --key kh_… or set KAKEHASHI_API_KEY")
    return Client(server, key)


def submit(
    file: Annotated[Path, typer.Argument(help="Problem file in any format kakehashi reads")],
    server: Server = "http://127.0.0.1:8000",
    key: Key = None,
    backend: Annotated[
        str, typer.Option("--backend", "-b", help="Name, auto, or a,b to race")
    ] = "auto",
    time_limit: Annotated[float | None, typer.Option("--time-limit", "-t")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait and print the result")] = False,
) -> None:
    """Submit a problem file to a kakehashi service; print the job id (or the result)."""
    client = _client(server, key)
    names = backend.split(",") if "," in backend else backend
    job = client.submit(file, backend=names, time_limit=time_limit, seed=seed)
    if not wait:
        typer.echo(job)
        return
    typer.echo(client.wait(job).summary())


def jobs(
    server: Server = "http://127.0.0.1:8000",
    key: Key = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status")] = None,
    all_tenants: Annotated[bool, typer.Option("--all-tenants", help="Admin: everyone's")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """List your jobs on a kakehashi service, newest first."""
    rows = _client(server, key).jobs(all_tenants=all_tenants, status=status)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for j in rows:
        typer.echo(job_line(j))


def job_line(j: dict) -> str:
    """One line of ``kakehashi jobs``: id, status, file, backend, and the objective (a
    running job's best so far and progress while it runs).

    Example:
        >>> job_line({"id": "job_1", "status": "running", "problem": {"filename": "p.mps"},
        ...           "backend": "sa", "best_so_far": 42.0, "progress": 0.25})
        'job_1  running    p.mps  sa best so far 42 (25%)'
    """
    s = j.get("summary") or {}
    if s.get("objective") is not None:
        tail = f" objective {s['objective']:g}"
    elif j["status"] in ("running", "cancelling") and j.get("best_so_far") is not None:
        pct = "" if j.get("progress") is None else f" ({100 * j['progress']:.0f}%)"
        tail = f" best so far {j['best_so_far']:g}{pct}"
    else:
        tail = ""
    return f"{j['id']}  {j['status']:<10} {j['problem']['filename']}  {j['backend']}{tail}"


def cancel(
    job_id: Annotated[str, typer.Argument(help="Job id (job_…)")],
    server: Server = "http://127.0.0.1:8000",
    key: Key = None,
) -> None:
    """Cancel a job on a kakehashi service."""
    job = _client(server, key).cancel(job_id)
    typer.echo(f"{job['id']}  {job['status']}")


def register(app: typer.Typer) -> None:
    """Add the service's commands to the ``kakehashi`` CLI."""
    app.command("serve")(serve)
    app.command("submit")(submit)
    app.command("jobs")(jobs)
    app.command("cancel")(cancel)
