"""The session store: one SQLite file in WAL mode, one transaction per write.

It keeps sessions, their metadata, feedback, checkpoints, a row per hook call (a ``CallRow``)
and a row per node a run ran (when and where: the timeline of ``sessions show --html``). Every
write is a transaction, so the thread runner and several processes can share a file. Hook-call
rows, checkpoints and node rows refer to sessions and names by integer and have no secondary
index: the bulk of the rows costs one cheap insert each. A closed store's
connection stays open for the process's next store on the same file (``pool``).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

from ...kernel.errors import HookrunnerError, did_you_mean
from ...kernel.jsonsafe import json_safe
from ...kernel.runtime.results import CallRow
from ...kernel.secrets import known, scrub
from . import owner, pool

DEFAULT_STORE = Path(".hookrunner") / "sessions.db"

SCHEMA_VERSION = 3

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
    nodes INTEGER NOT NULL DEFAULT 0,
    first_node INTEGER,
    last_node INTEGER,
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
);
CREATE TABLE IF NOT EXISTS hook_call_lanes (
    call INTEGER PRIMARY KEY,
    lane INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS node_runs (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    node INTEGER NOT NULL,
    lane INTEGER,
    started REAL NOT NULL,
    ended REAL NOT NULL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS activity (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    ts REAL NOT NULL,
    event TEXT NOT NULL,
    subject TEXT,
    outcome TEXT,
    duration_ms REAL,
    data TEXT
);
CREATE INDEX IF NOT EXISTS activity_session ON activity (session)
"""
# Tables and indexes of the layout: a store that has them all needs no write to be opened
# (version 2 gained hook_call_workers after it was first written, version 3 the index of
# running sessions).
_OBJECTS = re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", _SCHEMA)
# Columns later versions added to tables that older stores already have: added when such a
# store is opened (version 3: the node rows' counters; then, within version 3, the host and
# process start time of the process that owns a session). An older store stays readable, and
# an older writer leaves the later columns NULL, which reads as "cannot be told".
_ADDED_COLUMNS = {
    "sessions": (
        ("nodes", "INTEGER NOT NULL DEFAULT 0"),
        ("first_node", "INTEGER"),
        ("last_node", "INTEGER"),
        ("host", "TEXT"),
        ("proc_start", "TEXT"),
    ),
}
# How many of the added columns a store has: a store of this version written before the
# last of them were added (by an older hookrunner) gains them when opened.
_COUNT_ADDED = "SELECT " + " + ".join(
    f"(SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name IN ("
    + ", ".join(f"'{name}'" for name, _ in columns)
    + "))"
    for table, columns in _ADDED_COLUMNS.items()
)
_ADDED_TOTAL = sum(len(columns) for columns in _ADDED_COLUMNS.values())
# The oldest layout a store is migrated from (1 had no counters at all).
_MIGRATES_FROM = 2
# The per-flush update of a session's row: counters and the rowid ranges of its rows.
_COUNTERS = (
    "calls = calls + ?, failures = failures + ?,"
    " first_call = COALESCE(first_call, ?), last_call = COALESCE(?, last_call),"
    " checkpoints = checkpoints + ?, first_checkpoint = COALESCE(first_checkpoint, ?),"
    " last_checkpoint = COALESCE(?, last_checkpoint),"
    " nodes = nodes + ?, first_node = COALESCE(first_node, ?), last_node = COALESCE(?, last_node)"
)
_COUNT_OBJECTS = "SELECT COUNT(*) FROM sqlite_master WHERE name IN ({})".format(
    ", ".join(f"'{name}'" for name in _OBJECTS)
)
# hook_call_workers: the worker (a name id) of each hook call that ran in another process (a
# distributed run). A table of its own keeps older stores and older writers valid: local calls,
# the bulk, pay nothing for it. hook_call_lanes likewise: the thread (a name id) of each call
# made on another thread than the session's own (the thread runner's nodes).
# node_runs: one row per node a run ran (started, ended, the lane: a thread or worker name
# id, NULL for the session's own thread; error NULL when it finished), found like checkpoints.
# activity: what the host did in a session, as opposed to the hook calls it caused (an agent's
# tool uses and prompts, see ``Activity``): a row per event, few, so found by an index. Added
# like hook_call_workers: older writers never read or write it.


# Rows per INSERT in bulk writes: one statement of many rows costs SQLite about half as much
# per row as executemany's statement per row. 32 rows keep the statement cheap to compile (once
# per connection) and its parameters far under SQLite's smallest limit (999).
_BLOCK = 32
_NAMES_BLOCK = 500  # names looked up per statement (under SQLite's smallest limit, 999)


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


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_last_ms = 0
_id_lock = threading.Lock()


def _base36(n: int, width: int) -> str:
    out = ""
    while n:
        n, d = divmod(n, 36)
        out = _DIGITS[d] + out
    return out.rjust(width, "0")


def new_session_id() -> str:
    """Short, sortable by start time, unique across processes: 8 base-36 digits of the
    milliseconds since 1970 (fixed width until 2059), strictly increasing within a process,
    then 3 random base-36 digits against another process starting in the same millisecond.
    Sessions an hour apart differ in their first 5 characters (an id prefix is enough)."""
    import secrets  # lazy: it imports hashlib, which a process that names its session skips

    global _last_ms
    with _id_lock:
        ms = max(time.time_ns() // 1_000_000, _last_ms + 1)
        _last_ms = ms
    return _base36(ms, 8) + _base36(secrets.randbelow(36**3), 3)


def dumps(value: Any) -> str:
    """JSON text for the store, values from the environment masked (``secrets``)."""
    return scrub(json.dumps(json_safe(value), sort_keys=False))


def _clean(text: str | None) -> str | None:
    """What the store keeps of a text that may quote a secret: every text column goes here."""
    return scrub(text) if text else text


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Activity(NamedTuple):
    """One thing a session's host did (an agent's tool use, prompt, notification...): the
    event it fired, what it was about, how it ended, and how long its hooks took."""

    ts: float
    event: str
    subject: str | None
    outcome: str | None
    duration_ms: float
    data: dict[str, Any] | None = None


class _NotPlain(HookrunnerError):
    """A call row that needs the general insert (it failed or vetoed, or ran on another
    worker or thread)."""


def _other() -> Any:
    raise _NotPlain


def _plain(r: CallRow) -> bool:
    return r.ok and r.error is None and r.worker is None and r.lane is None


class NodeRun(NamedTuple):
    """One node a run ran: when (seconds since the epoch), where, and how it ended."""

    node: str
    started: float
    ended: float
    lane: str | None = None  # the thread or worker; None: the session's own thread
    error: str | None = None  # "Type: message" when it failed


class StoreError(HookrunnerError):
    """The store cannot be opened or a session is not in it."""


# How long a write queues behind other writers before "database is locked" (milliseconds).
_BUSY_MS = 30000
# How long a reader queues to write back the crashed sessions it found: a read command must
# not wait for a long run's transaction; the next reader or run writes them back instead.
_WRITE_BACK_WAIT = 0.2


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
                self.path, timeout=_BUSY_MS / 1000, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
            _use_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            if (
                conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
                and conn.execute(_COUNT_OBJECTS).fetchone()[0] == len(_OBJECTS)
                and conn.execute(_COUNT_ADDED).fetchone()[0] == _ADDED_TOTAL
            ):
                return conn  # the usual case: all there, no write transaction just to open
            conn.execute("BEGIN IMMEDIATE")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if (
                version == 0
                and conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sessions'").fetchone()
            ):
                version = 1  # written before the layout was versioned
            if version != 0 and not _MIGRATES_FROM <= version <= SCHEMA_VERSION:
                conn.execute("ROLLBACK")
                conn.close()
                newer = version > SCHEMA_VERSION
                raise StoreError(
                    f"session store {self.path} has layout version {version}, this hookrunner "
                    f"writes version {SCHEMA_VERSION}; "
                    + (
                        "upgrade hookrunner or move the file away"
                        if newer
                        else "move the old file away"
                    )
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
    def transaction(self, wait: float | None = None) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: writers queue on the lock, never interleave.

        ``wait``: how long to queue (seconds) instead of the busy timeout, for a write that
        may be skipped (a store that stays busy longer raises ``StoreError``, as any failure of
        SQLite's does)."""
        with self._lock:
            c = self._conn
            try:
                if wait is None:
                    c.execute("BEGIN IMMEDIATE")
                else:
                    c.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
                    try:
                        c.execute("BEGIN IMMEDIATE")
                    finally:
                        c.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
                yield c
                c.execute("COMMIT")
            except BaseException as exc:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                    self._names.clear()  # ids cached inside the rolled-back transaction
                    self._sessions.clear()
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"session store {self.path}: {exc}") from None
                raise

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
    ) -> None:
        """Record a new running session of this process; the sessions of this machine found
        dead on the way are marked ``crashed`` and listed in ``crashed`` (see ``owner``)."""
        now = time.time()
        me = owner.current()
        with self.transaction() as c:
            self._sweep(c, me.host)
            cur = c.execute(
                "INSERT INTO sessions (id, kind, source, status, started, resumed_from, pid,"
                " host, proc_start) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)",
                (session_id, kind, _clean(source), now, resumed_from, me.pid, me.host, me.started),
            )
            self._sessions[session_id] = int(cur.lastrowid or 0)
            c.executemany(
                "INSERT OR REPLACE INTO metadata VALUES (?, ?, ?, ?)",
                [(session_id, _clean(str(k)), dumps(v), now) for k, v in metadata.items()],
            )

    def join(
        self,
        session_id: str,
        kind: str,
        source: str | None,
        metadata: dict[str, Any],
        reopen: bool = False,
    ) -> bool:
        """Open the session unless a process already did (True when this call opened it).

        For a session that many processes write to in turn (an agent's hook commands, each its
        own process): the row is inserted if missing, so processes racing to open one session
        agree on one row. ``metadata`` is written with a new row; with ``reopen`` also on an
        existing one, which runs again if it was closed (a resumed session).

        Such a session has no owning process: the pid is the one that opened it, which ends
        at once, and no host or start time is recorded, so a reader never takes it for
        ``crashed`` (a process that ends is how it goes on; its host's own end closes it)."""
        now = time.time()
        with self.transaction() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO sessions (id, kind, source, status, started, pid) "
                "VALUES (?, ?, ?, 'running', ?, ?)",
                (session_id, kind, _clean(source), now, os.getpid()),
            )
            opened = cur.rowcount == 1
            if opened:
                self._sessions[session_id] = int(cur.lastrowid or 0)
            elif reopen:
                c.execute(
                    "UPDATE sessions SET status = 'running', ended = NULL WHERE id = ?",
                    (session_id,),
                )
            if opened or reopen:
                c.executemany(
                    "INSERT OR REPLACE INTO metadata VALUES (?, ?, ?, ?)",
                    [(session_id, _clean(str(k)), dumps(v), now) for k, v in metadata.items()],
                )
        return opened

    def add_activity(self, session_id: str, rows: list[Activity]) -> None:
        """Append what the session's host did (see ``Activity``), in one transaction."""
        if not rows:
            return
        with self.transaction() as c:
            num = self._session_num(c, session_id)
            if num is None:
                return
            c.executemany(
                "INSERT INTO activity (session, ts, event, subject, outcome, duration_ms, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        num,
                        r.ts,
                        r.event,
                        _clean(r.subject),
                        _clean(r.outcome),
                        r.duration_ms,
                        _data(r.data),
                    )
                    for r in rows
                ],
            )

    def _sweep(self, c: sqlite3.Connection, host: str) -> None:
        """Mark this machine's running sessions whose process is gone ``crashed``."""
        rows = c.execute(
            "SELECT id, pid, host, proc_start FROM sessions WHERE status = 'running' AND host = ?",
            (host,),
        ).fetchall()
        self._mark_crashed(
            c,
            [
                (sid, _crash_summary(pid, host))
                for sid, pid, host, start in rows
                if not _alive(pid, host, start)
            ],
        )

    def _mark_crashed(self, c: sqlite3.Connection, dead: list[tuple[str, dict[str, Any]]]) -> None:
        """Mark ``(id, summary)`` sessions ``crashed`` (those still ``running``) and list
        them in ``crashed``."""
        c.executemany(
            "UPDATE sessions SET status = 'crashed', summary = COALESCE(summary, ?)"
            " WHERE id = ? AND status = 'running'",
            [(dumps(summary), sid) for sid, summary in dead],
        )
        self.crashed += [sid for sid, _ in dead if sid not in self.crashed]

    def finish(self, session_id: str, status: str, summary: dict[str, Any] | None) -> None:
        self.flush(session_id, [], [], end=(status, summary))

    def flush(
        self,
        session_id: str,
        calls: list[CallRow],
        checkpoints: list[tuple[float, str | None, str]],
        end: tuple[str, dict[str, Any] | None] | None = None,
        metadata: dict[str, str] | None = None,
        nodes: list[NodeRun] | None = None,
    ) -> None:
        """Write hook calls, checkpoints and node rows of one session in one transaction, in
        order; with ``end`` (status, summary), close the session in that same transaction,
        and write ``metadata`` (key → JSON text) there too.

        A checkpoint is ``(ts, node, data_json)``. Rows get their ids from SQLite, which
        appends at the end of the table at half the cost of an insert that names its id; the
        ids are consecutive from the table's largest + 1, as the transaction holds the write
        lock. The bulk (calls that went well in this process) binds no None and no bool:
        sqlite3 passes those through its adapter lookup, which doubles the cost of a row."""
        if not calls and not checkpoints and end is None and not metadata and not nodes:
            return
        with self.transaction() as c:
            num = self._session_num(c, session_id)
            if num is None:
                return  # a session that never began (an invalid run)
            first_call = last_call = first_cp = last_cp = first_node = last_node = None
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
                    [(num, ts, node, data) for ts, node, data in checkpoints]
                    if not known()  # the common case pays no call per row
                    else [(num, ts, _clean(n), _clean(d)) for ts, n, d in checkpoints],
                )
            if nodes:
                first_node = (c.execute("SELECT MAX(id) FROM node_runs").fetchone()[0] or 0) + 1
                last_node = first_node + len(nodes) - 1
                self._insert_nodes(c, num, nodes)
            counters = (
                len(calls),
                failures,
                first_call,
                last_call,
                len(checkpoints),
                first_cp,
                last_cp,
                len(nodes or ()),
                first_node,
                last_node,
            )
            if metadata:
                now = time.time()
                c.executemany(
                    "INSERT OR REPLACE INTO metadata VALUES (?, ?, ?, ?)",
                    [(session_id, _clean(k), _clean(v), now) for k, v in metadata.items()],
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
                (num, ts, ids[event], ids[hook], ms)
                if ok and error is None and worker is None and lane is None
                else _other()
                for ts, event, hook, ok, error, ms, worker, lane in calls
            ]
        except (KeyError, _NotPlain):  # a name not seen yet, or a call that is not plain
            names = {n for r in calls for n in (r.event, r.hook, r.worker, r.lane) if n is not None}
            ids = self._name_ids(c, names)
            if not all(_plain(r) for r in calls):
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
        """The general form, for a batch with failed, vetoing, remote or other threads'
        calls: one insert keeps the ids in call order."""
        c.executemany(
            "INSERT INTO hook_calls (session, ts, event, hook, ok, error, duration_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (num, r.ts, ids[r.event], ids[r.hook], int(r.ok), _clean(r.error), r.duration_ms)
                for r in calls
            ],
        )
        c.executemany(
            "INSERT INTO hook_call_workers VALUES (?, ?)",
            [(i, ids[r.worker]) for i, r in enumerate(calls, first) if r.worker is not None],
        )
        c.executemany(
            "INSERT INTO hook_call_lanes VALUES (?, ?)",
            [(i, ids[r.lane]) for i, r in enumerate(calls, first) if r.lane is not None],
        )
        return sum(1 for r in calls if not r.ok)

    def _insert_nodes(self, c: sqlite3.Connection, num: int, nodes: list[NodeRun]) -> None:
        """Insert node rows in order; a batch of nodes that finished on the session's own
        thread binds no None (see ``flush``)."""
        ids = self._names
        try:
            plain = [
                (num, ids[node], started, ended) if lane is error is None else _other()
                for node, started, ended, lane, error in nodes
            ]
        except (KeyError, _NotPlain):
            ids = self._name_ids(c, {n for r in nodes for n in (r.node, r.lane) if n is not None})
            if not all(r.lane is r.error is None for r in nodes):
                _insert(
                    c,
                    "INSERT INTO node_runs (session, node, lane, started, ended, error)",
                    "(?, ?, ?, ?, ?, ?)",
                    [
                        (
                            num,
                            ids[r.node],
                            r.lane and ids[r.lane],
                            r.started,
                            r.ended,
                            _clean(r.error),
                        )
                        for r in nodes
                    ],
                )
                return
            plain = [(num, ids[r.node], r.started, r.ended) for r in nodes]
        _insert(c, "INSERT INTO node_runs (session, node, started, ended)", "(?, ?, ?, ?)", plain)

    def _session_num(self, c: sqlite3.Connection, session_id: str) -> int | None:
        """The session's rowid (cached: ``begin`` knows it, a flush looks it up once)."""
        num = self._sessions.get(session_id)
        if num is None:
            row = c.execute("SELECT rowid FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is not None:
                num = self._sessions[session_id] = row[0]
        return num

    def _name_ids(self, c: sqlite3.Connection, names: set[str]) -> dict[str, int]:
        """The ids of ``names``, adding those the file lacks: two statements per block of
        names, not two per name (a short-lived process, such as an agent's hook command,
        starts with no ids cached). A name is stored scrubbed (a secret never lands in it)."""
        missing = sorted(n for n in names if n not in self._names)
        for i in range(0, len(missing), _NAMES_BLOCK):
            shown: dict[str, list[str]] = {}
            for name in missing[i : i + _NAMES_BLOCK]:
                shown.setdefault(_clean(name) or name, []).append(name)
            block = list(shown)
            c.executemany("INSERT OR IGNORE INTO names (name) VALUES (?)", [(n,) for n in block])
            marks = ", ".join("?" * len(block))
            for name_id, stored in c.execute(
                f"SELECT id, name FROM names WHERE name IN ({marks})", block
            ):
                for name in shown[stored]:
                    self._names[name] = name_id
        return self._names

    def set_metadata(self, session_id: str, metadata: dict[str, Any]) -> None:
        now = time.time()
        with self.transaction() as c:
            c.executemany(
                "INSERT OR REPLACE INTO metadata VALUES (?, ?, ?, ?)",
                [(session_id, _clean(str(k)), dumps(v), now) for k, v in metadata.items()],
            )

    def delete_metadata(self, session_id: str, keys: Iterable[str]) -> None:
        with self.transaction() as c:
            c.executemany(
                "DELETE FROM metadata WHERE session_id = ? AND key = ?",
                [(session_id, _clean(str(k))) for k in keys],
            )

    def add_feedback(self, session_id: str, feedback: dict[str, Any]) -> int:
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO feedback (session_id, ts, rating, comment, data) VALUES (?,?,?,?,?)",
                (
                    session_id,
                    time.time(),
                    None if feedback.get("rating") is None else _clean(str(feedback["rating"])),
                    None if feedback.get("comment") is None else _clean(str(feedback["comment"])),
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
            " h.duration_ms AS duration_ms, w.name AS worker, l.name AS lane"
            " FROM hook_calls h JOIN names e ON e.id = h.event JOIN names k ON k.id = h.hook"
            " LEFT JOIN hook_call_workers x ON x.call = h.id LEFT JOIN names w ON w.id = x.worker"
            " LEFT JOIN hook_call_lanes y ON y.call = h.id LEFT JOIN names l ON l.id = y.lane"
            " WHERE h.id BETWEEN ? AND ? AND h.session = ?"
            + (" AND h.ok = 0" if failed_only else "")
            + " ORDER BY h.id"
            + (f" LIMIT {int(limit)}" if limit else ""),
            (span[1], span[2], span[0]),
        )
        # A hook that vetoed is ok, with the veto's reason as its error (CallRow).
        return [
            dict(r) | {"ok": bool(r["ok"]), "vetoed": bool(r["ok"]) and r["error"] is not None}
            for r in rows
        ]

    def nodes(self, session_id: str) -> list[dict[str, Any]]:
        """The nodes the session's run ran, in the order they ended: ``node``, ``lane`` (a
        thread or worker, None for the session's own thread), ``started``, ``ended`` (seconds
        since the epoch), ``ok`` and ``error``."""
        span = self._range(session_id, "node")
        if span is None:
            return []
        rows = self._rows(
            "SELECT n.name AS node, l.name AS lane, r.started AS started, r.ended AS ended,"
            " r.error AS error FROM node_runs r JOIN names n ON n.id = r.node"
            " LEFT JOIN names l ON l.id = r.lane"
            " WHERE r.id BETWEEN ? AND ? AND r.session = ? ORDER BY r.id",
            (span[1], span[2], span[0]),
        )
        return [dict(r) | {"ok": r["error"] is None} for r in rows]

    def sessions(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM sessions ORDER BY started DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self._session_dicts(self._rows(sql))

    def _session_dicts(self, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
        """The rows as dicts, a ``running`` session whose process is gone as ``crashed``:
        what was found is written back, best effort (see ``_write_back``)."""
        out, dead = [], []
        for r in rows:
            d = dict(r)
            d["summary"] = loads(d.get("summary"))
            pid, host = d["pid"], d.get("host")
            if d["status"] == "running" and not _alive(pid, host, d.get("proc_start")):
                crash = _crash_summary(pid, host)
                d["status"], d["summary"] = "crashed", d["summary"] or crash
                dead.append((d["id"], crash))
            out.append(d)
        if dead:
            self._write_back(dead)
        return out

    def _write_back(self, dead: list[tuple[str, dict[str, Any]]]) -> None:
        """Record the crashed sessions a read found, so that readers elsewhere (other hosts,
        containers) see them too. Skipped when the store is read-only, or busy for longer
        than a reader waits: the next reader or run on this machine writes them."""
        try:
            with self.transaction(wait=_WRITE_BACK_WAIT) as c:
                self._mark_crashed(c, dead)
        except StoreError:
            pass

    def latest(self, source: str | None = None, before: str | None = None) -> dict[str, Any] | None:
        """The newest session (of ``source``, when given; other than ``before``), or None."""
        sql = "SELECT * FROM sessions"
        where, args = [], []
        if source is not None:
            where.append("source = ?")
            args.append(source)
        if before is not None:
            where.append("id != ?")
            args.append(before)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._rows(sql + " ORDER BY started DESC, id DESC LIMIT 1", tuple(args))
        return self._session_dicts(rows)[0] if rows else None

    def session(self, session_id: str) -> dict[str, Any]:
        """One session by id, unique id prefix or ``last`` (the newest); StoreError (with
        suggestions) otherwise."""
        if session_id == "last":
            newest = self.latest()
            if newest is None:
                raise StoreError(f"no session recorded in {self.path} yet")
            return newest
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
        return self._session_dicts(rows[:1])[0]

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

    def activity(self, session_id: str) -> list[dict[str, Any]]:
        """The session's activity rows in order (see ``Activity``)."""
        rows = self._rows(
            "SELECT a.ts AS ts, a.event AS event, a.subject AS subject, a.outcome AS outcome,"
            " a.duration_ms AS duration_ms, a.data AS data FROM activity a"
            " JOIN sessions s ON s.rowid = a.session WHERE s.id = ? ORDER BY a.id",
            (session_id,),
        )
        return [dict(r) | {"data": loads(r["data"])} for r in rows]

    def checkpointed_nodes(self, session_id: str) -> set[str]:
        return {c["node"] for c in self.checkpoints(session_id) if c["node"] is not None}


def _data(data: dict[str, Any] | None) -> str | None:
    return None if data is None else dumps(data)


def _alive(pid: int | None, host: str | None, start: str | None) -> bool:
    """False only when the session's process is known to be gone."""
    return owner.alive(pid, host, start) is not False


def _crash_summary(pid: int | None, host: str | None) -> dict[str, Any]:
    """The summary of a session found dead (unless it has one)."""
    where = f"pid {pid} on {owner.host_name(host)}"
    return {"error": f"crashed: its process ({where}) ended without closing the session"}


def open_store(path: str | os.PathLike[str] | None, base: Path | None = None) -> Store:
    """The store at ``path``, else ``.hookrunner/sessions.db`` under ``base`` (or the cwd)."""
    if path is not None:
        return Store(path)
    return Store((base or Path.cwd()) / DEFAULT_STORE)


def find_store(start: Path | None = None) -> Store:
    """The store of the nearest ``.hookrunner/`` folder at ``start`` (the cwd) or above it,
    as git finds its repository; ``start``'s own default store when there is none."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_STORE.parent).is_dir():
            return Store(folder / DEFAULT_STORE)
    return open_store(None, here)
