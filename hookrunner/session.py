"""Sessions and their SQLite store.

A ``Session`` is one run or one conversation of a host application: an id, metadata,
feedback, checkpoints and a row for every hook call. The store is one SQLite file in WAL mode;
every write is a transaction, so the thread runner and several processes can share it.

Hook-call rows and checkpoints are buffered in memory and written in one transaction at most
once a second (or every 1,000 checkpoints) and when the session ends: recording must not cost
more than the hooks it records. Metadata and feedback (explicit user actions) are written at
once, except metadata set while the session ends (a run's outcome): that goes with the last
rows and the closing status, so that an end is one transaction and all or nothing. A closed
store's connection stays open for the process's next store on the same file (``_IDLE``).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import delivery
from .dispatch import QuietResult
from .errors import Veto
from .events import CATALOGUE
from .process import json_safe

if TYPE_CHECKING:
    from .dispatch import EmitResult
    from .runner import HookRunner

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
    last_checkpoint INTEGER
);
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
# (version 2 gained hook_call_workers after it was first written).
_OBJECTS = re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", _SCHEMA)
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


def _dumps(value: Any) -> str:
    return json.dumps(json_safe(value), sort_keys=False)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class StoreError(Exception):
    """The store cannot be opened or a session is not in it."""


# Connections of closed stores, kept open for the next Store on the same file in this
# process: opening a store costs about 2 ms and closing the last connection to it more (SQLite
# then checkpoints its write-ahead log, syncing two files, and deletes it). A process that runs
# many sessions (a host application, a test suite, repeated runs) pays that once per file;
# the connections are closed at exit. An idle connection is taken by one Store at a time (no
# sharing, so locking is unchanged), is used only by the process that opened it (never across
# a fork), and only while the path still names the same file (not moved, deleted or replaced;
# the open connection keeps the old inode number from being reused). It carries its cache of
# name ids along: names are never deleted, so the ids stay valid for that file.
_IDLE: dict[str, tuple[int, sqlite3.Connection, tuple[int, int], dict[str, int]]] = {}
_IDLE_LOCK = threading.Lock()
_MAX_IDLE = 8


def _identity(path: Path) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0)
    return (st.st_dev, st.st_ino)


def _take_idle(path: Path) -> tuple[sqlite3.Connection, tuple[int, int], dict[str, int]] | None:
    key = os.path.abspath(path)
    with _IDLE_LOCK:
        entry = _IDLE.pop(key, None)
    if entry is None:
        return None
    pid, conn, file, names = entry
    if pid != os.getpid():
        _FOREIGN.append(conn)  # the parent's, inherited by a fork: the child never uses it
        return None
    try:
        if (
            file != (0, 0)
            and _identity(path) == file
            and conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        ):
            return conn, file, names
    except sqlite3.Error:
        pass
    _close_quietly(conn)
    return None


def _put_idle(
    path: Path, conn: sqlite3.Connection, file: tuple[int, int], names: dict[str, int]
) -> None:
    if conn.in_transaction or file == (0, 0):
        _close_quietly(conn)
        return
    conn.row_factory = None
    key = os.path.abspath(path)
    evicted = []
    with _IDLE_LOCK:
        previous = _IDLE.pop(key, None)
        if previous is not None:
            evicted.append(previous)
        while len(_IDLE) >= _MAX_IDLE:
            evicted.append(_IDLE.pop(next(iter(_IDLE))))  # the longest idle
        _IDLE[key] = (os.getpid(), conn, file, names)
    for pid, old, _, _ in evicted:
        if pid == os.getpid():
            _close_quietly(old)
        else:
            _FOREIGN.append(old)


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


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:
        pass


def close_idle() -> None:
    """Close this process's idle store connections (at exit; tests may call it too)."""
    with _IDLE_LOCK:
        entries = list(_IDLE.values())
        _IDLE.clear()
    for pid, conn, _, _ in entries:
        if pid == os.getpid():
            _close_quietly(conn)
        else:
            _FOREIGN.append(conn)


# Inherited connections a forked child set aside: kept referenced so that the child does not
# close them (and checkpoint the parent's log) while it runs.
_FOREIGN: list[sqlite3.Connection] = []
atexit.register(close_idle)


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

    def connect(self) -> Store:
        """Open the database now (it opens on first use otherwise), so that a file that is
        not a store is reported by the caller that chose it; returns the store."""
        self._conn  # noqa: B018 - the property opens the connection
        return self

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            idle = _take_idle(self.path)
            if idle is not None:
                self._db, self._file, self._names = idle
            else:
                self._db = self._open()
                self._file = _identity(self.path)
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
            if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION and conn.execute(
                _COUNT_OBJECTS
            ).fetchone()[0] == len(_OBJECTS):
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
                _put_idle(self.path, db, self._file, self._names)

    # ------------------------------------------------------------------ writes
    def begin(
        self,
        session_id: str,
        kind: str,
        source: str | None,
        metadata: dict[str, Any],
        resumed_from: str | None = None,
    ) -> None:
        now = time.time()
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO sessions (id, kind, source, status, started, resumed_from, pid) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (session_id, kind, source, now, resumed_from, os.getpid()),
            )
            self._sessions[session_id] = cur.lastrowid
            c.executemany(
                "INSERT OR REPLACE INTO metadata VALUES (?, ?, ?, ?)",
                [(session_id, str(k), _dumps(v), now) for k, v in metadata.items()],
            )

    def finish(self, session_id: str, status: str, summary: dict[str, Any] | None) -> None:
        self.flush(session_id, [], [], end=(status, summary))

    def flush(
        self,
        session_id: str,
        calls: list[tuple],
        checkpoints: list[tuple],
        end: tuple[str, dict[str, Any] | None] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Write hook calls and checkpoints of one session in one transaction, in order; with
        ``end`` (status, summary), close the session in that same transaction, and write
        ``metadata`` (key → JSON text) there too.

        A call is ``(ts, event, hook, duration_ms)`` when it went well in this process (the
        bulk), else ``(ts, event, hook, ok, error, duration_ms, worker)``; a checkpoint is
        ``(ts, node, data_json)``. Rows get their ids from SQLite, which appends at the end of
        the table at half the cost of an insert that names its id; the ids are consecutive
        from the table's largest + 1, as the transaction holds the write lock. The bulk binds
        no None and no bool: sqlite3 passes those through its adapter lookup, which doubles
        the cost of a row."""
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
                    (*counters, status, time.time(), _dumps(summary or {}), num),
                )

    def _insert_calls(self, c: sqlite3.Connection, num: int, calls: list[tuple], first: int) -> int:
        """Insert ``calls`` (ids from ``first`` on, in order); return how many failed."""
        ids = self._names
        try:
            plain = [(num, ts, ids[event], ids[hook], ms) for ts, event, hook, ms in calls]
        except (KeyError, ValueError):  # a name not seen yet, or a call that is not plain
            names = {n for r in calls for n in (r[1], r[2], r[6] if len(r) > 4 else None)}
            names.discard(None)
            ids = self._name_ids(c, names)
            if any(len(r) > 4 for r in calls):
                return self._insert_other_calls(c, num, calls, first, ids)
            plain = [(num, ts, ids[event], ids[hook], ms) for ts, event, hook, ms in calls]
        _insert(
            c,
            "INSERT INTO hook_calls (session, ts, event, hook, ok, duration_ms)",
            "(?, ?, ?, ?, 1, ?)",
            plain,
        )
        return 0

    @staticmethod
    def _insert_other_calls(
        c: sqlite3.Connection, num: int, calls: list[tuple], first: int, ids: dict[str, int]
    ) -> int:
        """The general form, for a batch with failed or remote calls: one insert keeps the
        ids in call order."""
        rows = [
            (num, r[0], ids[r[1]], ids[r[2]], 1, None, r[3])
            if len(r) == 4
            else (num, r[0], ids[r[1]], ids[r[2]], int(r[3]), r[4], r[5])
            for r in calls
        ]
        c.executemany(
            "INSERT INTO hook_calls (session, ts, event, hook, ok, error, duration_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        c.executemany(
            "INSERT INTO hook_call_workers VALUES (?, ?)",
            [(i, ids[r[6]]) for i, r in enumerate(calls, first) if len(r) > 4 and r[6] is not None],
        )
        return sum(1 for r in calls if len(r) > 4 and not r[3])

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
                [(session_id, str(k), _dumps(v), now) for k, v in metadata.items()],
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
                    _dumps(feedback),
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
        return {r["key"]: _loads(r["value"]) for r in rows}

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
        return [{"ts": r["ts"], "node": r["node"], "data": _loads(r["data"])} for r in rows]

    def feedback(self, session_id: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT ts, rating, comment, data FROM feedback WHERE session_id = ? ORDER BY id",
            (session_id,),
        )
        return [
            {"ts": r["ts"], "rating": r["rating"], "comment": r["comment"]} | _loads(r["data"])
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
        return [self._session_dict(r) for r in self._rows(sql)]

    def _session_dict(self, r: sqlite3.Row) -> dict[str, Any]:
        d = dict(r)
        d["summary"] = _loads(d.get("summary"))
        return d

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
            from .errors import did_you_mean

            ids = [r["id"] for r in self._rows("SELECT id FROM sessions")]
            hint = did_you_mean(session_id, ids)
            raise StoreError(
                f"no session {session_id!r} in {self.path}" + (f" ({hint})" if hint else "")
            )
        return self._session_dict(rows[0])

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


# --------------------------------------------------------------------------- sessions


# Checkpoints buffered before a flush even within the interval: a transaction of a few
# thousand rows costs less per row than one of tens of thousands (its pages stay in
# SQLite's cache).
_FLUSH_BATCH = 1000


class Session:
    """One session on a HookRunner: emits with session fields filled, records every hook call.

    Open it with ``runner.session(...)`` (a context manager) or ``start()``/``end()``.
    """

    def __init__(
        self,
        runner: HookRunner,
        store: Store,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        kind: str = "session",
        source: str | None = None,
        resumed_from: str | None = None,
        flush_interval: float = 1.0,
        owns_store: bool = False,
    ):
        self.runner = runner
        self.store = store
        self.id = session_id or new_session_id()
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.kind = kind
        self.source = source
        self.resumed_from = resumed_from
        self.status = "new"
        self.flush_interval = flush_interval
        # Appended from any thread without a lock (deque appends are atomic); only flush()
        # takes items out, under its lock, so nothing appended during a flush is lost.
        self._calls: deque[tuple] = deque()  # rows as Store.flush takes them
        self._checkpoints: deque[tuple] = deque()
        self._last_flush = time.monotonic()
        self._flush_lock = threading.Lock()
        self._previous_observer: Callable[[EmitResult], None] | None = None
        self._recording = False
        self._owns_store = owns_store
        # (event, hook) -> [calls, failures, total_ms, max_ms] of the calls written so far:
        # the run's summary needs them, and a query over the store's rows costs more.
        self._stats: dict[tuple[str, str], list[Any]] = {}
        # While the session ends: metadata (key → JSON) that the transaction closing the
        # record writes, so that ending costs one transaction.
        self._staged: dict[str, str] | None = None
        self._stop_listening: Callable[[], None] | None = None

    # ------------------------------------------------------------------ recording
    def record(self, result: EmitResult) -> None:
        """The runner's observer: the emit's call rows, made at once (the result is still in
        the processor's cache, and a row of plain values costs the collector nothing)."""
        if isinstance(result, QuietResult):  # every hook returned None: stamps, no objects
            self._calls.extend(result.calls(time.time()))
        elif result.results:
            self._calls.extend(_result_rows(time.time(), result))
        if self._previous_observer is not None:
            self._previous_observer(result)

    def record_remote(self, calls: list[tuple], worker: str) -> None:
        """Hook calls made in another process (``(ts, event, hook, ok, error, duration_ms)``,
        a distributed runner's worker): stored like local ones, with the worker's name."""
        self._calls.extend([(*row, worker) for row in calls])

    def start_recording(self) -> None:
        """Record hook calls from now on (before ``start`` too: the run's CLI events)."""
        if not self._recording:
            state = self.runner.registry.state
            self._previous_observer = state.observer
            self.runner.set_observer(self.record)
            self._recording = True

    def stop_recording(self) -> None:
        if self._recording:
            self.runner.set_observer(self._previous_observer)
            self._recording = False

    def flush(
        self,
        end: tuple[str, dict[str, Any] | None] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Write buffered hook calls and checkpoints in one transaction (which closes the
        session's record too when ``end`` is its status and summary, with ``metadata``)."""
        with self._flush_lock:
            rows = _drain(self._calls)
            checkpoints = _drain(self._checkpoints)
            self._last_flush = time.monotonic()
            self.store.flush(self.id, rows, checkpoints, end, metadata)
            self._count(rows)

    def _count(self, rows: list[tuple]) -> None:
        """Add written call rows (as ``Store.flush`` takes them) to the per-hook stats."""
        durations: dict[tuple[str, str], list[float]] = defaultdict(list)
        failed: Counter[tuple[str, str]] = Counter()
        for r in rows:
            if len(r) == 4:
                durations[r[1], r[2]].append(r[3])
            else:
                durations[r[1], r[2]].append(r[5])
                if not r[3]:
                    failed[r[1], r[2]] += 1
        stats = self._stats
        for key, ms in durations.items():
            s = stats.get(key)
            if s is None:
                stats[key] = [len(ms), failed[key], sum(ms), max(ms)]
            else:
                s[0] += len(ms)
                s[1] += failed[key]
                s[2] += sum(ms)
                s[3] = max(s[3], max(ms))

    def _maybe_flush(self) -> None:
        if (
            len(self._checkpoints) >= _FLUSH_BATCH
            or time.monotonic() - self._last_flush >= self.flush_interval
        ):
            self.flush()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Session:
        """Store the session row and fire ``session_start`` (returned mappings → metadata)."""
        self.start_recording()
        self.store.begin(self.id, self.kind, self.source, self.metadata, self.resumed_from)
        self.status = "running"
        self._stop_listening = delivery.add_listener(self._delivery_failed)
        self.emit("session_start")
        return self

    def end(
        self,
        status: str = "ok",
        summary: dict[str, Any] | None = None,
        keep_recording: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Merge ``metadata`` (the outcome, through the ``session_metadata`` wrap hooks), fire
        ``pre_session_end`` and ``session_end`` and close the record (always pair). Metadata
        set while the session ends is written with the record's closing, in one transaction.

        ``keep_recording`` lets the caller record hook calls that belong to the session but
        come after its end (a run's ``after_command_run``); it flushes them itself."""
        if self.status != "running":
            self.stop_recording()
            return
        self._staged = {}
        try:
            if metadata:
                self.update_metadata(metadata)
            self.status = status
            self.emit("pre_session_end")
            self.emit("session_end")
        finally:
            self.status = status
            staged, self._staged = self._staged, None
            self._drain_deliveries()
            self.flush(end=(status, summary), metadata=staged)
            if not keep_recording:
                self.stop_recording()
            if self._owns_store:
                self.store.close()

    def _delivery_failed(self, failure: delivery.Failure) -> None:
        """An AWS notification of this session (or of no session) was given up: record it."""
        if failure.session_id not in (None, self.id):
            return
        error = (
            f"{failure.service} to {failure.target}: {failure.error} "
            f"({failure.attempts} attempt(s))"
        )
        row = (time.time(), "delivery", failure.hook or failure.service, False, error, 0.0, None)
        with self._flush_lock:
            self.store.flush(self.id, [row], [])
            self._count([row])

    def _drain_deliveries(self) -> None:
        """Wait (bounded) for queued notifications so their failures land in this session."""
        stop, self._stop_listening = self._stop_listening, None
        if stop is not None:
            try:
                delivery.drain()
            finally:
                stop()

    def __enter__(self) -> Session:
        if self.status == "new":
            self.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.end("ok")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end("interrupted")
        else:
            self.end("failed", {"error": f"{exc_type.__name__}: {exc}"})

    # ------------------------------------------------------------------ events
    def emit(self, event: str, /, **kwargs: Any) -> EmitResult:
        """Emit with ``session_id``, ``timestamp`` and ``metadata`` filled in; a session event's
        returned mappings are merged into the session's metadata."""
        plan = self.runner.registry.plans.get(event)
        if plan is not None and not plan.hooks and plan.spec.style not in ("slot", "wrap"):
            return plan.emit(kwargs)  # no hook to fill the arguments in for
        spec = self.runner.registry.events.get(event)
        takes = spec.all_args if spec is not None else ()  # unknown: emit raises below
        if "session_id" in takes:
            kwargs.setdefault("session_id", self.id)
        if "timestamp" in takes:
            kwargs.setdefault("timestamp", datetime.now(UTC))
        if "metadata" in takes:
            kwargs.setdefault("metadata", dict(self.metadata))
        result = self.runner.emit(event, **kwargs)
        if result.changes and event in _SESSION_EVENTS:
            chain = self.runner.registry.events[event].chain
            changes = {k: v for k, v in result.changes.items() if k != chain}
            if changes:
                self._write_metadata(changes)
                self.metadata.update(changes)
        return result

    def update_metadata(self, metadata: dict[str, Any]) -> EmitResult:
        """Merge ``metadata`` through the ``session_metadata`` wrap hooks (which may refuse)."""

        def op(metadata: Any = None, **_: Any) -> dict[str, Any]:
            data = dict(metadata or {})
            self._write_metadata(data)
            self.metadata.update(data)
            return dict(self.metadata)

        return self.runner.wrap(
            "session_metadata", op, action="update", session_id=self.id, metadata=dict(metadata)
        )

    def _write_metadata(self, data: dict[str, Any]) -> None:
        """Store metadata now, or with the record's closing while the session ends."""
        if self._staged is None:
            self.store.set_metadata(self.id, data)
        else:
            self._staged.update((str(k), _dumps(v)) for k, v in data.items())

    def get_metadata(self, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The stored metadata (only ``keys`` if given), through the wrap hooks (a cache may
        answer); raises ``Veto`` when a wrapper refuses."""

        def op(keys: Any = None, **_: Any) -> dict[str, Any]:
            data = self.store.metadata(self.id)
            if self._staged:  # written when the record closes; read as if written now
                data.update((k, _loads(v)) for k, v in self._staged.items())
                data = dict(sorted(data.items()))
            return data if keys is None else {k: data[k] for k in keys if k in data}

        result = self.runner.wrap(
            "session_metadata",
            op,
            action="get",
            session_id=self.id,
            keys=None if keys is None else list(keys),
        )
        if result.vetoed:
            raise Veto(result.reason or "refused")
        return result.value

    def delete_metadata(self, keys: Iterable[str]) -> EmitResult:
        def op(keys: Any = None, **_: Any) -> list[str]:
            names = list(keys or [])
            self.store.delete_metadata(self.id, names)
            for k in names:
                self.metadata.pop(k, None)
                if self._staged:
                    self._staged.pop(str(k), None)
            return names

        return self.runner.wrap(
            "session_metadata", op, action="delete", session_id=self.id, keys=list(keys)
        )

    def add_feedback(self, feedback: dict[str, Any]) -> EmitResult:
        """Store feedback (``rating``: up/down/None, ``comment``) through ``session_feedback``."""

        def op(feedback: Any = None, **_: Any) -> int:
            return self.store.add_feedback(self.id, dict(feedback or {}))

        return self.runner.wrap(
            "session_feedback", op, action="add", session_id=self.id, feedback=dict(feedback)
        )

    def checkpoint(
        self,
        data: dict[str, Any] | None = None,
        node: str | None = None,
        encoded: str | None = None,
    ) -> bool:
        """``pre_checkpoint`` may veto; a stored checkpoint fires ``post_checkpoint``.

        Returns False when vetoed (nothing is stored, so ``--resume`` will redo that work).
        ``encoded`` is ``data`` as JSON when the caller has it already (runners reuse it).
        """
        data = data or {}
        plans = self.runner.registry.plans
        if (
            plans["pre_checkpoint"].hooks
            and self.emit("pre_checkpoint", checkpoint_data=data).vetoed
        ):
            return False
        self._checkpoints.append((time.time(), node, encoded or _dumps(data)))
        if plans["post_checkpoint"].hooks:
            self.emit("post_checkpoint", checkpoint_data=data)
        self._maybe_flush()
        return True

    def carry_checkpoint(self, data: dict[str, Any], node: str | None = None) -> None:
        """Copy a checkpoint from a resumed session (no hooks: the work was done before)."""
        self._checkpoints.append((time.time(), node, _dumps(data)))

    def hook_stats(self) -> list[dict[str, Any]]:
        """Per hook: calls, failures, total and slowest duration (slowest total first), as
        ``Store.hook_stats`` reads them back, from counts kept as the calls are written."""
        self.flush()
        with self._flush_lock:
            items = list(self._stats.items())
        stats = [
            {"event": e, "hook": h, "calls": n, "failures": f, "total_ms": t, "max_ms": m}
            for (e, h), (n, f, t, m) in items
        ]
        stats.sort(key=lambda s: s["total_ms"], reverse=True)
        return stats


def _result_rows(now: float, result: EmitResult) -> list[tuple]:
    """The call rows of an emit whose results are built (see ``Store.flush``)."""
    event = result.event
    return [
        (now, event, r.name, r.duration_ms)
        if r.ok
        else (
            now,
            event,
            r.name,
            False,
            f"{type(r.error).__name__}: {r.error}",
            r.duration_ms,
            None,
        )
        for r in result.results
    ]


def _drain(items: deque[Any]) -> list[Any]:
    """Take what ``items`` holds now; what other threads append meanwhile stays for later."""
    popleft = items.popleft
    return [popleft() for _ in range(len(items))]


_SESSION_EVENTS = frozenset(e.name for e in CATALOGUE if e.group == "session")


def open_store(path: str | os.PathLike[str] | None, base: Path | None = None) -> Store:
    """The store at ``path``, else ``.hookrunner/sessions.db`` under ``base`` (or the cwd)."""
    if path is not None:
        return Store(path)
    return Store((base or Path.cwd()) / DEFAULT_STORE)
