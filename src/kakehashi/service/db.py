"""Engines, sessions and migrations for the job store (SQLite in WAL mode, or PostgreSQL).

Writes that must see a consistent picture (a quota check and the insert it allows, a claim)
run in :func:`write_session`: on SQLite it begins with ``BEGIN IMMEDIATE`` (one writer at a
time, across processes); on PostgreSQL callers lock the rows they depend on
(``SELECT … FOR UPDATE``).

Example:
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'k.sqlite3'}"
    >>> engine = make_engine(url); migrate(engine)
    >>> with read_session(engine) as s: s.execute(sa.text("select count(*) from jobs")).scalar()
    0
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kakehashi.errors import KakehashiError

try:
    import fcntl
except ImportError:  # Windows: SQLite's own busy handler serialises the processes
    fcntl = None


@contextlib.contextmanager
def _sqlite_writer(engine: sa.Engine) -> Iterator[None]:
    """Wait for our turn to write to this SQLite file, across threads and processes: an
    ``flock`` on a file beside the database, opened for this one transaction (each open is
    its own lock, so threads of one process queue up as processes do). A blocked writer
    is woken the moment the last one is done; SQLite's own busy handler instead polls with
    sleeps of up to 100 ms, which under load was the long tail of submit latency (the API's
    admissions waiting on workers' claims and finishes). The lock goes with its process,
    even on SIGKILL; SQLite's own locking still guards against writers that do not take it."""
    path = engine.url.database
    if not path or path == ":memory:" or fcntl is None:
        with _MEMORY_WRITE_LOCK:
            yield
        return
    fd = os.open(os.path.abspath(path) + "-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


_MEMORY_WRITE_LOCK = threading.Lock()


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and explicit transactions."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=8,
            max_overflow=32,
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn) -> None:
            mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    try:
        return sa.create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True)
    except (ImportError, sa.exc.ArgumentError) as exc:
        raise KakehashiError(
            f"cannot use database {url.split('@')[-1]!r}: {exc}; "
            "pass postgresql://user@host:port/db (pip install 'kakehashi[service]')"
        ) from exc


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextlib.contextmanager
def read_session(engine: sa.Engine) -> Iterator[Session]:
    """A session for reads (and writes that need no cross-row consistency)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextlib.contextmanager
def write_session(engine: sa.Engine) -> Iterator[Session]:
    """A serialising transaction: ``BEGIN IMMEDIATE`` on SQLite; committed on exit."""
    if is_sqlite(engine):
        with (
            _sqlite_writer(engine),
            Session(engine.execution_options(write=True), expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session
    else:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (up or down) with the migrations in this package."""
    from alembic import command
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("kakehashi.service") / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        current = MigrationContext.configure(conn).get_current_revision()
        script = ScriptDirectory.from_config(cfg)
        target = script.get_revision(revision).revision if revision != "head" else None
        going_down = (
            target is not None
            and current not in (None, target)
            and _is_descendant(script, current, target)
        )
        if going_down:
            command.downgrade(cfg, revision)
        else:
            command.upgrade(cfg, revision)


def _is_descendant(script, rev: str, ancestor: str) -> bool:
    """Whether ``rev`` comes after ``ancestor`` in the migration history."""
    return any(r.revision == ancestor for r in script.iterate_revisions(rev, "base"))


def check_database(url: str) -> None:
    """Raise a clear :class:`KakehashiError` when ``url`` cannot be reached."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        raise KakehashiError(
            f"cannot connect to the database {url.split('@')[-1]!r}: "
            f"{str(exc.orig).strip().splitlines()[0]}; check that it runs and the URL is right"
        ) from exc
    finally:
        engine.dispose()
