"""The runs store: one SQLite file, one row per run, committed as soon as the run ends.

SQLite is in the standard library, survives Ctrl-C and crashes (a run is either committed
or absent, never half written), and any tool can read it. A re-run of the same benchmark
skips every (instance, backend, repeat, time_limit, seed) already stored — except runs that
ended in an error, which are retried.

**One writer at a time.** A benchmark writes under :meth:`RunStore.writing`, which holds a
lock file (``runs.sqlite.lock``, via ``filelock``) for the whole run: a second ``kakehashi
bench`` on the same ``--out`` is refused at once with a clear error instead of racing the
first. And whatever happens, a finished run is never overwritten: :meth:`RunStore.record_run`
replaces only a run that ended in an error.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kakehashi.errors import KakehashiError

SCHEMA_VERSION = 1
DONE_STATUSES = ("ok", "unsupported", "skipped")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS machines (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT UNIQUE,
    hostname TEXT, cpu_model TEXT, cores_logical INTEGER, cores_usable INTEGER,
    memory_gb REAL, os TEXT, python TEXT, rapl INTEGER, first_seen TEXT
);
CREATE TABLE IF NOT EXISTS instances (
    name TEXT PRIMARY KEY,
    suite TEXT, kind TEXT, num_variables INTEGER, num_constraints INTEGER, sense TEXT,
    best_known REAL, best_known_source TEXT, tags TEXT, spec_json TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    suite TEXT, instance TEXT NOT NULL, backend TEXT NOT NULL, repeat INTEGER NOT NULL,
    time_limit REAL NOT NULL, seed INTEGER NOT NULL,
    status TEXT NOT NULL, error TEXT,
    objective REAL, feasible INTEGER, feasible_fraction REAL, num_samples INTEGER,
    wall_seconds REAL, compile_seconds REAL, queue_seconds REAL, solve_seconds REAL,
    total_seconds REAL, time_to_best REAL,
    cpu_seconds REAL, rss_gb REAL, billed_seconds REAL, load_avg REAL,
    energy_joules REAL, energy_method TEXT, co2_grams REAL, grid_g_per_kwh REAL,
    money REAL, currency TEXT, money_method TEXT,
    modality TEXT, vendor TEXT, hardware TEXT,
    params_json TEXT, versions_json TEXT, backend_info_json TEXT, result_info_json TEXT,
    accounting_json TEXT, placement_json TEXT, placement TEXT,
    machine_id INTEGER REFERENCES machines(id),
    started_at TEXT, finished_at TEXT,
    UNIQUE (instance, backend, repeat, time_limit, seed)
);
CREATE INDEX IF NOT EXISTS runs_by_instance ON runs (instance, backend);
"""

RUN_COLUMNS = (
    "suite", "instance", "backend", "repeat", "time_limit", "seed", "status", "error",
    "objective", "feasible", "feasible_fraction", "num_samples", "wall_seconds",
    "compile_seconds", "queue_seconds", "solve_seconds", "total_seconds", "time_to_best",
    "cpu_seconds", "rss_gb", "billed_seconds", "load_avg", "energy_joules", "energy_method",
    "co2_grams", "grid_g_per_kwh", "money", "currency", "money_method", "modality", "vendor",
    "hardware", "params_json", "versions_json", "backend_info_json", "result_info_json",
    "accounting_json", "machine_id", "started_at", "finished_at", "placement_json", "placement",
)  # fmt: skip
# columns added after schema 1 was first written: added in place to older stores (additive,
# so the schema version stays); placement_json says where a run ran (executor, host, pid,
# cores, Ray node), placement the same in one readable line (it reaches the runs CSV)
ADDED_COLUMNS = {"placement_json": "TEXT", "placement": "TEXT"}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def to_json(obj: Any) -> str:
    from kakehashi.result import jsonable

    return json.dumps(jsonable(obj), sort_keys=True)


class RunStore:
    """The SQLite file holding a benchmark's runs, machines and instances.

    Example:
        >>> store = RunStore(":memory:")
        >>> store.done_keys()
        set()
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = None
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path)
            self.conn.row_factory = sqlite3.Row
            if self.path != ":memory:":
                # WAL: readers (a report) do not block the running benchmark
                self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.executescript(_SCHEMA)
            self._add_missing_columns()
            row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise KakehashiError(f"{self.path} is not a kakehashi runs store ({exc})") from None
        if row is None:
            self.conn.execute(
                "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            self.conn.commit()
        elif int(row[0]) != SCHEMA_VERSION:
            raise KakehashiError(
                f"{self.path} was written by a different kakehashi (store schema {row[0]}, this "
                f"one reads {SCHEMA_VERSION}); write to a new --out folder"
            )

    def _add_missing_columns(self) -> None:
        have = {r[1] for r in self.conn.execute("PRAGMA table_info(runs)")}
        for name, kind in ADDED_COLUMNS.items():
            if name not in have:
                self.conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
        self.conn.commit()

    @classmethod
    def open_existing(cls, path: str | Path) -> RunStore:
        """Open a store for reading; ``path`` may be the .sqlite file or its folder."""
        p = Path(path)
        if p.is_dir():
            p = p / "runs.sqlite"
        if not p.is_file():
            raise KakehashiError(
                f"no runs store at {path}; pass the runs.sqlite that `kakehashi bench` wrote "
                "(or its --out folder)"
            )
        return cls(p)

    def close(self) -> None:
        self.conn.close()
        if self._lock is not None:
            self._lock.release(force=True)

    @contextlib.contextmanager
    def writing(self) -> Iterator[RunStore]:
        """Hold this store's writer lock for the block; refuse at once if another holds it.

        Re-entrant: nested blocks in one process share the lock.

        Example:
            >>> import tempfile, pathlib
            >>> store = RunStore(pathlib.Path(tempfile.mkdtemp()) / "runs.sqlite")
            >>> with store.writing():
            ...     store.count()
            0
        """
        if self.path == ":memory:":
            yield self
            return
        from filelock import FileLock, Timeout

        if self._lock is None:
            self._lock = FileLock(self.path + ".lock", timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            raise KakehashiError(
                f"another kakehashi benchmark is writing to {self.path} (it holds "
                f"{self._lock.lock_file}); wait for it to finish, or give another --out folder"
            ) from None
        try:
            yield self
        finally:
            self._lock.release()

    # ------------------------------------------------------------------ writing
    def machine_id(self, machine: dict[str, Any]) -> int:
        """The id of ``machine``'s row, added if new (safe when two processes add it at once)."""
        # INSERT OR IGNORE, then read back: whoever inserts first wins, nobody fails
        self.conn.execute(
            "INSERT OR IGNORE INTO machines (fingerprint, hostname, cpu_model, cores_logical,"
            " cores_usable, memory_gb, os, python, rapl, first_seen)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                machine["fingerprint"], machine["hostname"], machine["cpu_model"],
                machine["cores_logical"], machine["cores_usable"], machine["memory_gb"],
                machine["os"], machine["python"], int(machine["rapl"]), now(),
            ),
        )  # fmt: skip
        self.conn.commit()
        row = self.conn.execute(
            "SELECT id FROM machines WHERE fingerprint=?", (machine["fingerprint"],)
        ).fetchone()
        return int(row[0])

    def record_instance(self, row: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO instances (name, suite, kind, num_variables, num_constraints,"
            " sense, best_known, best_known_source, tags, spec_json) VALUES (?,?,?,?,?,?,?,?,?,?)",
            tuple(row.get(k) for k in (
                "name", "suite", "kind", "num_variables", "num_constraints", "sense",
                "best_known", "best_known_source", "tags", "spec_json",
            )),
        )  # fmt: skip
        self.conn.commit()

    def record_run(self, row: dict[str, Any]) -> bool:
        """Insert a run, or replace one that ended in an error, and commit at once.

        A finished run (status ok, unsupported or skipped) is never overwritten: the call
        returns False and leaves it as it is. Returns True when the row was written.
        """
        unknown = set(row) - set(RUN_COLUMNS)
        if unknown:
            raise KakehashiError(f"unknown run fields {sorted(unknown)}")
        cols = [c for c in RUN_COLUMNS if c in row]
        marks = ",".join("?" * len(DONE_STATUSES))
        updates = ", ".join(f"{c}=excluded.{c}" for c in cols)
        cur = self.conn.execute(
            f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            "ON CONFLICT (instance, backend, repeat, time_limit, seed) "
            f"DO UPDATE SET {updates} WHERE runs.status NOT IN ({marks})",
            (*(row[c] for c in cols), *DONE_STATUSES),
        )
        self.conn.commit()
        return cur.rowcount > 0

    def add_notes(self, notes: Iterable[str]) -> None:
        """Remember notes for every later report (a backend left out, a baseline added …)."""
        kept = self.notes()
        kept += [n for n in notes if n not in kept]
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('notes', ?)", (json.dumps(kept),))
        self.conn.commit()

    # ------------------------------------------------------------------ reading
    def notes(self) -> list[str]:
        row = self.conn.execute("SELECT value FROM meta WHERE key='notes'").fetchone()
        return list(json.loads(row[0])) if row else []

    def done_keys(self) -> set[tuple[str, str, int, float, int]]:
        """Keys of runs that need not be redone (errors are retried)."""
        marks = ",".join("?" * len(DONE_STATUSES))
        rows = self.conn.execute(
            "SELECT instance, backend, repeat, time_limit, seed FROM runs "
            f"WHERE status IN ({marks})",
            DONE_STATUSES,
        )
        return {(r[0], r[1], int(r[2]), float(r[3]), int(r[4])) for r in rows}

    def runs(self, where: str = "", params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        sql = "SELECT * FROM runs" + (f" WHERE {where}" if where else "") + " ORDER BY id"
        return [dict(r) for r in self.conn.execute(sql, tuple(params))]

    def instances(self) -> dict[str, dict[str, Any]]:
        return {r["name"]: dict(r) for r in self.conn.execute("SELECT * FROM instances")}

    def machines(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM machines ORDER BY id")]

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
