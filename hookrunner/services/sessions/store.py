"""The session store: one SQLite file in WAL mode, one transaction per write.

It keeps sessions, their metadata, feedback, checkpoints and a row per hook call (a
``CallRow``). Every write is a transaction, so the thread runner and several processes can
share a file. Hook-call rows and checkpoints refer to sessions and names by integer and have
no secondary index: the bulk of the rows costs one cheap insert each. A closed store's
connection stays open for the process's next store on the same file (``pool``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from ...kernel.errors import HookrunnerError, did_you_mean
from ...kernel.jsonsafe import json_safe
from ...kernel.runtime.results import CallRow
from . import owner, pool

DEFAULT_STORE = Path(".hookrunner") / "sessions.db"

SCHEMA_VERSION = 2

# Hook calls and checkpoints are the bulk of the rows: they refer to sessions and names by
# integer, and have no secondary index (an index doubles the cost of every insert). A
# session's rows are found through the rowid range and the counters kept on its own row,
# updated in the same transaction as the rows.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT,
    status TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    resumed_from TEXT,
    pid INTEGER,
    summary TEXT,
    calls INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    first_call INTEGER,
    last_call INTEGER,
    checkpoints INTEGER NOT NULL DEFAULT 0,
    first_checkpoint INTEGER,
    last_checkpoint INTEGER,
    host TEXT,
    proc_start TEXT
);
CREATE INDEX IF NOT EXISTS sessions_running ON sessions (status) WHERE status = 'running';
CREATE TABLE IF NOT EXISTS names (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS metadata (
    session_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT,
    updated REAL NOT NULL,
    PRIMARY KEY (session_id, key)
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    ts REAL NOT NULL,
    rating TEXT,
    comment TEXT,
    data TEXT
);
CREATE INDEX IF NOT EXISTS feedback_session ON feedback (session_id);
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    ts REAL NOT NULL,
    node TEXT,
    data TEXT
);
CREATE TABLE IF NOT EXISTS hook_calls (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    ts REAL NOT NULL,
    event INTEGER NOT NULL,
    hook INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT,
    duration_ms REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS hook_call_workers (
    call INTEGER PRIMARY KEY,
    worker INTEGER NOT NULL
)
"""
# Tables and indexes of the layout: a store that has them all needs no write to be opened
# (version 2 gained hook_call_workers after it was first written, and the sessions' host
# and process start time, with the index of running sessions, later still).
_OBJECTS = re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", _SCHEMA)
# Columns added to tables that older stores already have (``ALTER TABLE`` when such a store
# is opened): the sessions' host and process start time. Older writers leave them NULL, which
# reads as "cannot be told".
_ADDED_COLUMNS = {"sessions": (("host", "TEXT"), ("proc_start", "TEXT"))}
_COUNT_ADDED = "SELECT COUNT(*) FROM pragma_table_info('sessions') WHERE name IN ({})".format(
    ", ".join(f"'{name}'" for name, _ in _ADDED_COLUMNS["sessions"])
)
# The per-flush update of a session's row: counters and the rowid ranges of its rows.
_COUNTERS = (
    "calls = calls + ?, failures = failures + ?,"
    " first_call = COALESCE(first_call, ?), last_call = COALESCE(?, last_call),"
    " checkpoints = checkpoints + ?, first_checkpoint = COALESCE(first_checkpoint, ?),"
    " last_checkpoint = COALESCE(?, last_checkpoint)"
)
_COUNT_OBJECTS = "SELECT COUNT(*) FROM sqlite_master WHERE name IN ({})".format(
    ", ".join(f"'{name}'" for name in _OBJECTS)
)
# hook_call_workers: the worker (a name id) of each hook call that ran in another process (a
# distributed run). A table of its own keeps older stores and older writers valid: local calls,
# the bulk, pay nothing for it.


# Rows per INSERT in bulk writes: one statement of many rows costs SQLite about half as much
# per row as executemany's statement per row. 32 rows keep the statement cheap to compile (once
# per connection) and its parameters far under SQLite's smallest limit (999).
_BLOCK = 32


def _insert(c: sqlite3.Connection, head: str, values: str, rows: list[tuple]) -> None:
    """``{head} VALUES {values}`` for each row, in order: whole blocks of ``_BLOCK`` rows per
    statement, the rest one by one."""
    whole = len(rows) - len(rows) % _BLOCK
    if whole:
        sql = f"{head} VALUES {', '.join([values] * _BLOCK)}"
        for i in range(0, whole, _BLOCK):
            c.execute(sql, list(chain.from_iterable(rows[i : i + _BLOCK])))
    if whole < len(rows):
        c.executemany(f"{head} VALUES {values}", rows[whole:])


def new_session_id() -> str:
    """Sortable by start time, unique across processes."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def dumps(value: Any) -> str:
    return json.dumps(json_safe(value), sort_keys=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class _NotPlain(HookrunnerError):
    """A call row that needs the general insert (it failed, or ran on another worker)."""


def _other() -> Any:
    raise _NotPlain


class StoreError(HookrunnerError):
    """The store cannot be opened or a session is not in it."""


def _use_wal(conn: sqlite3.Connection, timeout: float = 30.0) -> None:
    """Switch to WAL. SQLite answers "database is locked" at once, without waiting, while
    another process is switching the same new file: two runs that create a store together
    must both succeed, so retry for as long as the busy timeout would wait."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


class Store:
    """The session store: one SQLite file, WAL mode, one transaction per write."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.Lock()
        # Connected on first use: a run that stops at validation leaves no empty store behind.
        self._db: sqlite3.Connection | None = None
        self._file: tuple[int, int] = (0, 0)  # (st_dev, st_ino) of the file connected to
        self._names: dict[str, int] = {}
        self._sessions: dict[str, int] = {}
        # Sessions this store found dead and marked "crashed" (reading or beginning one).
        self.crashed: list[str] = []

    def connect(self) -> Store:
        """Open the database now (it opens on first use otherwise), so that a file that is
        not a store is reported by the caller that chose it; returns the store."""
        self._conn  # noqa: B018 - the property opens the connection
        return self

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            idle = pool.take(self.path, SCHEMA_VERSION)
            if idle is not None:
                self._db, self._file, self._names = idle
            else:
                self._db = self._open()
                self._file = pool.identity(self.path)
                self._names = {}
        return self._db

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout = 30000")
            _use_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            if (
                conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
                and conn.execute(_COUNT_OBJECTS).fetchone()[0] == len(_OBJECTS)
                and conn.execute(_COUNT_ADDED).fetchone()[0] == len(_ADDED_COLUMNS["sessions"])
            ):
                return conn  # the usual case: all there, no write transaction just to open
            conn.execute("BEGIN IMMEDIATE")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if (
                version == 0
                and conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sessions'").fetchone()
            ):
                version = 1  # written before the layout was versioned
            if version not in (0, SCHEMA_VERSION):
                conn.execute("ROLLBACK")
                conn.close()
                raise StoreError(
                    f"session store {self.path} has layout version {version}, this hookrunner "
                    f"writes version {SCHEMA_VERSION}; move the old file away"
                )
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            for table, columns in _ADDED_COLUMNS.items():
                have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, decl in columns:
                    if name not in have:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open session store {self.path}: {exc}") from None
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: writers queue on the lock, never interleave."""
        with self._lock:
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException as exc:
                c.execute("ROLLBACK")
                self._names.clear()  # ids cached inside the rolled-back transaction
                self._sessions.clear()
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"session store {self.path}: {exc}") from None
                raise
            c.execute("COMMIT")

    def close(self) -> None:
        """Done with the store: the connection stays open for the process's next session on
        this file (see ``_IDLE``); it is really closed at exit."""
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                pool.put(self.path, db, self._file, self._names)

    # ------------------------------------------------------------------ writes
    def begin(
        self,
        session_id: str,
        kind: str,
        source: str | None,
        metadata: dict[str, Any],
        resumed_from: str | None = None,
    ) -> list[str]:
        """Record a new running session of this process; return the ids of the sessions
        found dead on the way (now ``crashed``, see ``owner``)."""
        now = time.time()
        me = owner.current()
        with self.transaction() as c:
            crashed = self._sweep(c, me.host)
            cur = c.execute(
                "INSERT INTO sessions (id, kind, source, status, started, resumed_from, pid,"
                " host, proc_start) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)",
                (session_id, kind, source, now, resumed_from, me.pid, me.host, me.started),
            )
            self._sessions[session_id] = int(cur.lastrowid or 0)
            c.executemany(
                "INSERT OR REPLACE INTO metadata VALUES (?, ?, ?, ?)",
                [(session_id, str(k), dumps(v), now) for k, v in metadata.items()],
            )
        return crashed

    def _sweep(self, c: sqlite3.Connection, host: str) -> list[str]:
        """Mark this host's running sessions whose process is gone ``crashed``."""
        rows = c.execute(
            "SELECT id, pid, host, proc_start FROM sessions WHERE status = 'running' AND host = ?",
            (host,),
        ).fetchall()
        dead = [(sid, pid, host) for sid, pid, host, start in rows if not _alive(pid, host, start)]
        c.executemany(
            "UPDATE sessions SET status = 'crashed', summary = COALESCE(summary, ?)"
            " WHERE id = ? AND status = 'running'",
            [(dumps({"error": _crash_note(pid, host)}), sid) for sid, pid, host in dead],
        )
        found = [sid for sid, _, _ in dead]
        self.crashed += [sid for sid in found if sid not in self.crashed]
        return found

    def sweep(self) -> list[str]:
        """Mark the running sessions of this host whose process died ``crashed`` (``begin``
        does it too); return their ids."""
        if self._db is None and not self.path.exists():
            return []
        with self.transaction() as c:
            return self._sweep(c, owner.current().host)

    def finish(self, session_id: str, status: str, summary: dict[str, Any] | None) -> None:
        self.flush(session_id, [], [], end=(status, summary))

    def flush(
        self,
        session_id: str,
        calls: list[CallRow],
        checkpoints: list[tuple[float, str | None, str]],
        end: tuple[str, dict[str, Any] | None] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Write hook calls and checkpoints of one session in one transaction, in order; with
        ``end`` (status, summary), close the session in that same transaction, and write
        ``metadata`` (key → JSON text) there too.

        A checkpoint is ``(ts, node, data_json)``. Rows get their ids from SQLite, which
        appends at the end of the table at half the cost of an insert that names its id; the
        ids are consecutive from the table's largest + 1, as the transaction holds the write
        lock. The bulk (calls that went well in this process) binds no None and no bool:
        sqlite3 passes those through its adapter lookup, which doubles the cost of a row."""
        if not calls and not checkpoints and end is None and not metadata:
            return
        with self.transaction() as c:
            num = self._session_num(c, session_id)
            if num is None:
                return  # a session that never began (an invalid run)
            first_call = last_call = first_cp = last_cp = None
            failures = 0
            if calls:
                first_call = (c.execute("SELECT MAX(id) FROM hook_calls").fetchone()[0] or 0) + 1
                last_call = first_call + len(calls) - 1
                failures = self._insert_calls(c, num, calls, first_call)
            if checkpoints:
                first_cp = (c.execute("SELECT MAX(id) FROM checkpoints").fetchone()[0] or 0) + 1
                last_cp = first_cp + len(checkpoints) - 1
                _insert(
                    c,
                    "INSERT INTO checkpoints (session, ts, node, data)",
                    "(?, ?, ?, ?)",
                    [(num, ts, node, data) for ts, node, data in checkpoints],
                )
            counters = (
                len(calls),
                failures,
                first_call,
                last_call,
                len(checkpoints),
                first_cp,
                last_cp,
            )
            if metadata:
                now = time.time()
                c.executemany(
                    "INSERT OR REPLACE INTO metadata VALUES (?, ?, ?, ?)",
                    [(session_id, k, v, now) for k, v in metadata.items()],
                )
            if end is None:
                c.execute(f"UPDATE sessions SET {_COUNTERS} WHERE rowid = ?", (*counters, num))
            else:
                status, summary = end
                c.execute(
                    f"UPDATE sessions SET {_COUNTERS}, status = ?, ended = ?, summary = ?"
                    " WHERE rowid = ?",
                    (*counters, status, time.time(), dumps(summary or {}), num),
                )

    def _insert_calls(
        self, c: sqlite3.Connection, num: int, calls: list[CallRow], first: int
    ) -> int:
        """Insert ``calls`` (ids from ``first`` on, in order); return how many failed."""
        ids = self._names
        try:
            plain = [
                (num, ts, ids[event], ids[hook], ms) if ok and worker is None else _other()
                for ts, event, hook, ok, _, ms, worker in calls
            ]
        except (KeyError, _NotPlain):  # a name not seen yet, or a call that is not plain
            names = {n for r in calls for n in (r.event, r.hook, r.worker) if n is not None}
            ids = self._name_ids(c, names)
            if not all(r.ok and r.worker is None for r in calls):
                return self._insert_other_calls(c, num, calls, first, ids)
            plain = [(num, r.ts, ids[r.event], ids[r.hook], r.duration_ms) for r in calls]
        _insert(
            c,
            "INSERT INTO hook_calls (session, ts, event, hook, ok, duration_ms)",
            "(?, ?, ?, ?, 1, ?)",
            plain,
        )
        return 0

    @staticmethod
    def _insert_other_calls(
        c: sqlite3.Connection, num: int, calls: list[CallRow], first: int, ids: dict[str, int]
    ) -> int:
        """The general form, for a batch with failed or remote calls: one insert keeps the
        ids in call order."""
        c.executemany(
            "INSERT INTO hook_calls (session, ts, event, hook, ok, error, duration_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (num, r.ts, ids[r.event], ids[r.hook], int(r.ok), r.error, r.duration_ms)
                for r in calls
            ],
        )
        c.executemany(
            "INSERT INTO hook_call_workers VALUES (?, ?)",
            [(i, ids[r.worker]) for i, r in enumerate(calls, first) if r.worker is not None],
        )
        return sum(1 for r in calls if not r.ok)

    def _session_num(self, c: sqlite3.Connection, session_id: str) -> int | None:
        """The session's rowid (cached: ``begin`` knows it, a flush looks it up once)."""
        num = self._sessions.get(session_id)
        if num is None:
            row = c.execute("SELECT rowid FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is not None:
                num = self._sessions[session_id] = row[0]
        return num

    def _name_ids(self, c: sqlite3.Connection, names: set[str]) -> dict[str, int]:
        for name in names:
            if name not in self._names:
                c.execute("INSERT OR IGNORE INTO names (name) VALUES (?)", (name,))
                row = c.execute("SELECT id FROM names WHERE name = ?", (name,)).fetchone()
                self._names[name] = row[0]
        return self._names

    def set_metadata(self, session_id: str, metadata: dict[str, Any]) -> None:
        now = time.time()
        with self.transaction() as c:
            c.executemany(
                "INSERT OR REPLACE INTO metadata VALUES (?, ?, ?, ?)",
                [(session_id, str(k), dumps(v), now) for k, v in metadata.items()],
            )

    def delete_metadata(self, session_id: str, keys: Iterable[str]) -> None:
        with self.transaction() as c:
            c.executemany(
                "DELETE FROM metadata WHERE session_id = ? AND key = ?",
                [(session_id, str(k)) for k in keys],
            )

    def add_feedback(self, session_id: str, feedback: dict[str, Any]) -> int:
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO feedback (session_id, ts, rating, comment, data) VALUES (?,?,?,?,?)",
                (
                    session_id,
                    time.time(),
                    None if feedback.get("rating") is None else str(feedback["rating"]),
                    None if feedback.get("comment") is None else str(feedback["comment"]),
                    dumps(feedback),
                ),
            )
            return int(cur.lastrowid or 0)

    # ------------------------------------------------------------------ reads
    def _rows(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            if self._db is None and not self.path.exists():
                return []  # nothing recorded yet; reading must not create the file
            self._conn.row_factory = sqlite3.Row
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"session store {self.path}: {exc}") from None
            finally:
                self._conn.row_factory = None

    def metadata(self, session_id: str) -> dict[str, Any]:
        rows = self._rows(
            "SELECT key, value FROM metadata WHERE session_id = ? ORDER BY key", (session_id,)
        )
        return {r["key"]: loads(r["value"]) for r in rows}

    def _range(self, session_id: str, kind: str) -> tuple[int, int, int] | None:
        rows = self._rows(
            f"SELECT rowid, first_{kind}, last_{kind} FROM sessions WHERE id = ?", (session_id,)
        )
        if not rows or rows[0][1] is None:
            return None
        return rows[0][0], rows[0][1], rows[0][2]

    def checkpoints(self, session_id: str) -> list[dict[str, Any]]:
        span = self._range(session_id, "checkpoint")
        if span is None:
            return []
        rows = self._rows(
            "SELECT ts, node, data FROM checkpoints WHERE id BETWEEN ? AND ? AND session = ?"
            " ORDER BY id",
            (span[1], span[2], span[0]),
        )
        return [{"ts": r["ts"], "node": r["node"], "data": loads(r["data"])} for r in rows]

    def feedback(self, session_id: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT ts, rating, comment, data FROM feedback WHERE session_id = ? ORDER BY id",
            (session_id,),
        )
        return [
            {"ts": r["ts"], "rating": r["rating"], "comment": r["comment"]} | loads(r["data"])
            for r in rows
        ]

    _CALLS = (
        "FROM hook_calls h JOIN names e ON e.id = h.event JOIN names k ON k.id = h.hook"
        " WHERE h.id BETWEEN ? AND ? AND h.session = ?"
    )

    def hook_calls(
        self, session_id: str, failed_only: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The session's hook calls in order (only the failed ones, and at most ``limit``)."""
        span = self._range(session_id, "call")
        if span is None:
            return []
        rows = self._rows(
            "SELECT h.ts AS ts, e.name AS event, k.name AS hook, h.ok AS ok, h.error AS error,"
            " h.duration_ms AS duration_ms, w.name AS worker"
            " FROM hook_calls h JOIN names e ON e.id = h.event JOIN names k ON k.id = h.hook"
            " LEFT JOIN hook_call_workers x ON x.call = h.id LEFT JOIN names w ON w.id = x.worker"
            " WHERE h.id BETWEEN ? AND ? AND h.session = ?"
            + (" AND h.ok = 0" if failed_only else "")
            + " ORDER BY h.id"
            + (f" LIMIT {int(limit)}" if limit else ""),
            (span[1], span[2], span[0]),
        )
        return [dict(r) | {"ok": bool(r["ok"])} for r in rows]

    def sessions(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM sessions ORDER BY started DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self._crashed([self._session_dict(r) for r in self._rows(sql)])

    def _session_dict(self, r: sqlite3.Row) -> dict[str, Any]:
        d = dict(r)
        d["summary"] = loads(d.get("summary"))
        if d["status"] == "running" and not _alive(d["pid"], d.get("host"), d.get("proc_start")):
            d["status"] = "crashed"  # written back by the readers (``sessions``, ``session``)
            d["summary"] = d["summary"] or {"error": _crash_note(d["pid"], d.get("host"))}
        return d

    def _crashed(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write back what reading found (sessions whose process is gone): best effort."""
        if any(r["status"] == "crashed" for r in rows):
            try:
                self.sweep()
            except StoreError:  # a read-only store still reads
                pass
        return rows

    def session(self, session_id: str) -> dict[str, Any]:
        """One session by id or unique id prefix; StoreError (with suggestions) otherwise."""
        rows = self._rows("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            rows = self._rows(
                "SELECT * FROM sessions WHERE id LIKE ? ESCAPE '\\' ORDER BY started DESC",
                (session_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
            )
        if len(rows) > 1:
            raise StoreError(
                f"session id prefix {session_id!r} is ambiguous: "
                + ", ".join(r["id"] for r in rows[:5])
            )
        if not rows:
            ids = [r["id"] for r in self._rows("SELECT id FROM sessions")]
            hint = did_you_mean(session_id, ids)
            raise StoreError(
                f"no session {session_id!r} in {self.path}" + (f" ({hint})" if hint else "")
            )
        return self._crashed([self._session_dict(rows[0])])[0]

    def hook_stats(self, session_id: str) -> list[dict[str, Any]]:
        span = self._range(session_id, "call")
        if span is None:
            return []
        rows = self._rows(
            "SELECT e.name AS event, k.name AS hook, COUNT(*) AS calls,"
            " SUM(h.ok = 0) AS failures, SUM(h.duration_ms) AS total_ms,"
            f" MAX(h.duration_ms) AS max_ms {self._CALLS}"
            " GROUP BY h.event, h.hook ORDER BY total_ms DESC",
            (span[1], span[2], span[0]),
        )
        return [dict(r) for r in rows]

    def checkpointed_nodes(self, session_id: str) -> set[str]:
        return {c["node"] for c in self.checkpoints(session_id) if c["node"] is not None}


def _alive(pid: int | None, host: str | None, start: str | None) -> bool:
    """False only when the session's process is known to be gone."""
    return owner.alive(pid, host, start) is not False


def _crash_note(pid: int | None, host: str | None) -> str:
    return f"crashed: its process (pid {pid} on {host}) ended without closing the session"


def open_store(path: str | os.PathLike[str] | None, base: Path | None = None) -> Store:
    """The store at ``path``, else ``.hookrunner/sessions.db`` under ``base`` (or the cwd)."""
    if path is not None:
        return Store(path)
    return Store((base or Path.cwd()) / DEFAULT_STORE)
