"""Connections of closed session stores, kept open for the process's next store on the file.

Opening a store costs about 2 ms and closing the last connection to it more (SQLite then
checkpoints its write-ahead log, syncing two files, and deletes it). A process that runs many
sessions (a host application, a test suite, repeated runs) pays that once per file; the
connections are closed at exit.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
from pathlib import Path

# An idle connection is taken by one Store at a time (no
# sharing, so locking is unchanged), is used only by the process that opened it (never across
# a fork), and only while the path still names the same file (not moved, deleted or replaced;
# the open connection keeps the old inode number from being reused). It carries its cache of
# name ids along: names are never deleted, so the ids stay valid for that file.
_IDLE: dict[str, tuple[int, sqlite3.Connection, tuple[int, int], dict[str, int]]] = {}
_IDLE_LOCK = threading.Lock()
_MAX_IDLE = 8


def identity(path: Path) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0)
    return (st.st_dev, st.st_ino)


def take(
    path: Path, version: int
) -> tuple[sqlite3.Connection, tuple[int, int], dict[str, int]] | None:
    """An idle connection to ``path`` (still the same file, its layout at ``version``), with
    its name ids; None when there is none to reuse."""
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
            and identity(path) == file
            and conn.execute("PRAGMA user_version").fetchone()[0] == version
        ):
            return conn, file, names
    except sqlite3.Error:
        pass
    close_quietly(conn)
    return None


def put(path: Path, conn: sqlite3.Connection, file: tuple[int, int], names: dict[str, int]) -> None:
    if conn.in_transaction or file == (0, 0):
        close_quietly(conn)
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
            close_quietly(old)
        else:
            _FOREIGN.append(old)


def close_quietly(conn: sqlite3.Connection) -> None:
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
            close_quietly(conn)
        else:
            _FOREIGN.append(conn)


# Inherited connections a forked child set aside: kept referenced so that the child does not
# close them (and checkpoint the parent's log) while it runs.
_FOREIGN: list[sqlite3.Connection] = []
atexit.register(close_idle)
