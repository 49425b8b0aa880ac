"""Sessions and their SQLite store.

A ``Session`` is one run or one conversation of a host application: an id, metadata,
feedback, checkpoints and a row for every hook call. The store is one SQLite file in WAL mode;
every write is a transaction, so the thread runner and several processes can share it.

Hook-call rows and checkpoints are buffered in memory and written in one transaction at most
once a second and when the session ends: recording must not cost more than the hooks it
records. Metadata and feedback (explicit user actions) are written at once.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import delivery
from .errors import Veto
from .events import CATALOGUE
from .process import json_safe

if TYPE_CHECKING:
    from .dispatch import EmitResult
    from .runner import HookRunner

DEFAULT_STORE = Path(".hookrunner") / "sessions.db"

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
    summary TEXT
);
CREATE TABLE IF NOT EXISTS metadata (
    session_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT,
    updated REAL NOT NULL,
    PRIMARY KEY (session_id, key)
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    ts REAL NOT NULL,
    rating TEXT,
    comment TEXT,
    data TEXT
);
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    ts REAL NOT NULL,
    node TEXT,
    data TEXT
);
CREATE TABLE IF NOT EXISTS hook_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    ts REAL NOT NULL,
    event TEXT NOT NULL,
    hook TEXT NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT,
    duration_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS checkpoints_session ON checkpoints (session_id);
CREATE INDEX IF NOT EXISTS hook_calls_session ON hook_calls (session_id);
CREATE INDEX IF NOT EXISTS feedback_session ON feedback (session_id);
"""


def new_session_id() -> str:
    """Sortable by start time, unique across processes."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def _dumps(value: Any) -> str:
    return json.dumps(json_safe(value), sort_keys=False)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class StoreError(Exception):
    """The store cannot be opened or a session is not in it."""


class Store:
    """The session store: one SQLite file, WAL mode, one transaction per write."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.Lock()
        # Connected on first use: a run that stops at validation leaves no empty store behind.
        self._db: sqlite3.Connection | None = None

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
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
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

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
            c.execute(
                "INSERT INTO sessions (id, kind, source, status, started, resumed_from, pid) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (session_id, kind, source, now, resumed_from, os.getpid()),
            )
            c.executemany(
                "INSERT OR REPLACE INTO metadata VALUES (?, ?, ?, ?)",
                [(session_id, str(k), _dumps(v), now) for k, v in metadata.items()],
            )

    def finish(self, session_id: str, status: str, summary: dict[str, Any] | None) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE sessions SET status = ?, ended = ?, summary = ? WHERE id = ?",
                (status, time.time(), _dumps(summary or {}), session_id),
            )

    def flush(self, calls: list[tuple], checkpoints: list[tuple]) -> None:
        if not calls and not checkpoints:
            return
        with self.transaction() as c:
            if calls:
                c.executemany(
                    "INSERT INTO hook_calls (session_id, ts, event, hook, ok, error, duration_ms)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    calls,
                )
            if checkpoints:
                c.executemany(
                    "INSERT INTO checkpoints (session_id, ts, node, data) VALUES (?, ?, ?, ?)",
                    checkpoints,
                )

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
            finally:
                self._conn.row_factory = None

    def metadata(self, session_id: str) -> dict[str, Any]:
        rows = self._rows(
            "SELECT key, value FROM metadata WHERE session_id = ? ORDER BY key", (session_id,)
        )
        return {r["key"]: _loads(r["value"]) for r in rows}

    def checkpoints(self, session_id: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT ts, node, data FROM checkpoints WHERE session_id = ? ORDER BY id",
            (session_id,),
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

    def hook_calls(self, session_id: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT ts, event, hook, ok, error, duration_ms FROM hook_calls "
            "WHERE session_id = ? ORDER BY id",
            (session_id,),
        )
        return [dict(r) | {"ok": bool(r["ok"])} for r in rows]

    def sessions(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT s.*, (SELECT COUNT(*) FROM hook_calls h WHERE h.session_id = s.id) AS calls,"
            " (SELECT COUNT(*) FROM hook_calls h WHERE h.session_id = s.id AND h.ok = 0)"
            " AS failures,"
            " (SELECT COUNT(*) FROM checkpoints k WHERE k.session_id = s.id) AS checkpoints"
            " FROM sessions s ORDER BY s.started DESC, s.id DESC"
        )
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
        rows = self._rows(
            "SELECT event, hook, COUNT(*) AS calls, SUM(ok = 0) AS failures,"
            " SUM(duration_ms) AS total_ms, MAX(duration_ms) AS max_ms FROM hook_calls"
            " WHERE session_id = ? GROUP BY event, hook ORDER BY total_ms DESC",
            (session_id,),
        )
        return [dict(r) for r in rows]

    def checkpointed_nodes(self, session_id: str) -> set[str]:
        rows = self._rows(
            "SELECT DISTINCT node FROM checkpoints WHERE session_id = ? AND node IS NOT NULL",
            (session_id,),
        )
        return {r["node"] for r in rows}


# --------------------------------------------------------------------------- sessions


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
        self._calls: list[tuple] = []
        self._checkpoints: list[tuple] = []
        self._last_flush = time.monotonic()
        self._flush_lock = threading.Lock()
        self._previous_observer: Callable[[EmitResult], None] | None = None
        self._recording = False
        self._owns_store = owns_store
        self._stop_listening: Callable[[], None] | None = None

    # ------------------------------------------------------------------ recording
    def record(self, result: EmitResult) -> None:
        """The runner's observer: one buffered row per hook call."""
        if result.results:
            sid, now, event = self.id, time.time(), result.event
            self._calls.extend(
                (
                    sid,
                    now,
                    event,
                    r.name,
                    r.ok,
                    None if r.ok else f"{type(r.error).__name__}: {r.error}",
                    r.duration_ms,
                )
                for r in result.results
            )
        if self._previous_observer is not None:
            self._previous_observer(result)

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

    def flush(self) -> None:
        """Write buffered hook calls and checkpoints in one transaction."""
        with self._flush_lock:
            calls, self._calls = self._calls, []
            checkpoints, self._checkpoints = self._checkpoints, []
            self._last_flush = time.monotonic()
            self.store.flush(calls, checkpoints)

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_interval:
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
    ) -> None:
        """Fire ``pre_session_end`` and ``session_end`` and close the record (always pair).

        ``keep_recording`` lets the caller record hook calls that belong to the session but
        come after its end (a run's ``after_command_run``); it flushes them itself."""
        if self.status != "running":
            self.stop_recording()
            return
        self.status = status
        try:
            self.emit("pre_session_end")
            self.emit("session_end")
        finally:
            self._drain_deliveries()
            self.flush()
            self.store.finish(self.id, status, summary)
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
        row = (self.id, time.time(), "delivery", failure.hook or failure.service, False, error, 0.0)
        self.store.flush([row], [])

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
        kwargs.setdefault("session_id", self.id)
        kwargs.setdefault("timestamp", datetime.now(UTC))
        kwargs.setdefault("metadata", dict(self.metadata))
        result = self.runner.emit(event, **kwargs)
        if result.changes and event in _SESSION_EVENTS:
            chain = self.runner.registry.events[event].chain
            changes = {k: v for k, v in result.changes.items() if k != chain}
            if changes:
                self.metadata.update(changes)
                self.store.set_metadata(self.id, changes)
        return result

    def update_metadata(self, metadata: dict[str, Any]) -> EmitResult:
        """Merge ``metadata`` through the ``session_metadata`` wrap hooks (which may refuse)."""

        def op(metadata: Any = None, **_: Any) -> dict[str, Any]:
            data = dict(metadata or {})
            self.store.set_metadata(self.id, data)
            self.metadata.update(data)
            return dict(self.metadata)

        return self.runner.wrap(
            "session_metadata", op, action="update", session_id=self.id, metadata=dict(metadata)
        )

    def get_metadata(self, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The stored metadata (only ``keys`` if given), through the wrap hooks (a cache may
        answer); raises ``Veto`` when a wrapper refuses."""

        def op(keys: Any = None, **_: Any) -> dict[str, Any]:
            data = self.store.metadata(self.id)
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

    def checkpoint(self, data: dict[str, Any] | None = None, node: str | None = None) -> bool:
        """``pre_checkpoint`` may veto; a stored checkpoint fires ``post_checkpoint``.

        Returns False when vetoed (nothing is stored, so ``--resume`` will redo that work).
        """
        data = data or {}
        pre = self.runner.registry.plans["pre_checkpoint"]
        if pre.hooks and self.emit("pre_checkpoint", checkpoint_data=data).vetoed:
            return False
        self._checkpoints.append((self.id, time.time(), node, _dumps(data)))
        if self.runner.registry.plans["post_checkpoint"].hooks:
            self.emit("post_checkpoint", checkpoint_data=data)
        self._maybe_flush()
        return True

    def carry_checkpoint(self, data: dict[str, Any], node: str | None = None) -> None:
        """Copy a checkpoint from a resumed session (no hooks: the work was done before)."""
        self._checkpoints.append((self.id, time.time(), node, _dumps(data)))

    def hook_stats(self) -> list[dict[str, Any]]:
        """Per hook: calls, failures, total and slowest duration (slowest total first)."""
        self.flush()
        return self.store.hook_stats(self.id)


_SESSION_EVENTS = frozenset(e.name for e in CATALOGUE if e.group == "session")


def open_store(path: str | os.PathLike[str] | None, base: Path | None = None) -> Store:
    """The store at ``path``, else ``.hookrunner/sessions.db`` under ``base`` (or the cwd)."""
    if path is not None:
        return Store(path)
    return Store((base or Path.cwd()) / DEFAULT_STORE)
