"""Reading and writing whole files by URI: local paths (atomic) and ``s3://`` objects.

Datasets and other outputs go through here so that a crash never leaves a half-written file:
local writes go to a temporary file in the same folder and are renamed over the target. The
temporary file's name says who wrote it, so a later save of the same file removes one a
killed process left behind.
"""

from __future__ import annotations

import functools
import os
import stat
import threading
import time
from pathlib import Path


def is_remote(uri: str) -> bool:
    return str(uri).startswith("s3://")


def resolve(uri: str, base: Path | None) -> str:
    """Relative local paths resolve against ``base`` (the folder of the file naming them)."""
    if is_remote(uri) or base is None or os.path.isabs(uri):
        return str(uri)
    return str((base / uri).resolve())


# Temporary files are named ``.NAME.hookrunner-HOST-PID-RANDOM.tmp`` beside the target, so
# that the next save of the same file can tell an orphan (its writer is gone: killed during
# a save) from a save in progress, and remove it.
_TMP = ".hookrunner-"
_STALE = 86400.0  # seconds: older temp files go whatever wrote them (another host, a reused pid)
_writing: set[str] = set()  # this process's saves in progress
_writing_lock = threading.Lock()


@functools.cache
def _host_tag() -> str:
    import hashlib  # here: only a save needs it
    import socket

    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file + rename in the same folder.

    A new file gets the mode the umask gives (0644 under the usual 022); an existing file
    keeps its mode. Orphaned temp files of earlier saves of ``path`` are removed first."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}{_TMP}"
    host = _host_tag()
    _remove_orphans(target.parent, prefix, host)
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = str(target.parent / f"{prefix}{host}-{os.getpid()}-{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # the kernel applies the umask, as for any file
            break
        except FileExistsError:
            continue
    with _writing_lock:
        _writing.add(tmp)
    try:
        with os.fdopen(fd, "wb") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    finally:
        with _writing_lock:
            _writing.discard(tmp)


def _remove_orphans(folder: Path, prefix: str, host: str) -> None:
    """Remove temp files of this target whose writer is gone (or that are over a day old)."""
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix)]
    except OSError:
        return
    now = time.time()
    for entry in entries:
        rest = entry.name[len(prefix) :]
        parts = rest.removesuffix(".tmp").split("-")
        if not rest.endswith(".tmp") or len(parts) != 3 or not parts[1].isdigit():
            continue
        with _writing_lock:
            if entry.path in _writing:
                continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > _STALE
        except OSError:
            continue
        if not old and (parts[0] != host or _running(int(parts[1]))):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            pass


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # not one of ours in progress (checked above): left by a failed save
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists (another user's), or cannot be told
    return True


def read_bytes(uri: str) -> bytes:
    if is_remote(uri):
        from .aws.s3 import s3_read

        return s3_read(uri)
    # Only a regular file: a FIFO would block the run, /dev/zero never ends.
    fd = os.open(uri, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise OSError(f"{uri} is {kind}")
    with open(fd, "rb") as fh:
        return fh.read()


def write_bytes(uri: str, data: bytes) -> None:
    if is_remote(uri):
        from .aws.s3 import s3_write

        s3_write(uri, data)
        return
    atomic_write_bytes(uri, data)


def exists(uri: str) -> bool:
    if is_remote(uri):
        from .aws.s3 import s3_exists

        return s3_exists(uri)
    return os.path.exists(uri)
