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

from .sessions import owner


def is_remote(uri: str) -> bool:
    return str(uri).startswith("s3://")


def resolve(uri: str, base: Path | None) -> str:
    """Relative local paths resolve against ``base`` (the folder of the file naming them)."""
    if is_remote(uri) or base is None or os.path.isabs(uri):
        return str(uri)
    return str((base / uri).resolve())


# Temporary files are named ``.NAME.hookrunner-MACHINE-PID-RANDOM.tmp`` beside the target
# (MACHINE: a hash of ``owner.machine()``, where the pid means this process), so that a later
# save of the same file can tell an orphan (its writer is gone: killed during a save) from a
# save in progress, and remove it.
_TMP = ".hookrunner-"
_STALE = 86400.0  # seconds: older temp files go whatever wrote them (another machine, reused pid)
_writing: set[str] = set()  # this process's temp files, from before they exist until renamed
_swept: set[str] = set()  # the targets this process has looked for orphans of
_lock = threading.Lock()  # guards both, and a look at ``_writing`` with the unlink it allows


def _forked() -> None:
    """A forked child's saves are its own: the parent's threads' saves are the parent's
    (named for its pid, checked as any other process's), and its lock may have been held."""
    global _lock
    _lock = threading.Lock()
    _writing.clear()
    _swept.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


@functools.cache
def _tag(machine: str) -> str:
    import hashlib  # here: only a save needs it

    return hashlib.sha1(machine.encode()).hexdigest()[:8]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file + rename in the same folder.

    A new file gets the mode the umask gives (0644 under the usual 022); an existing file
    keeps its mode. The first save of ``path`` in a process removes the temp files earlier
    saves of it left behind (a killed process's), so a process writing many files into one
    folder lists that folder once per file, not once per save."""
    target = Path(os.path.abspath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}{_TMP}"
    me = owner.current()
    tag = _tag(me.host)
    key = str(target)
    if key not in _swept:
        _swept.add(key)
        _remove_orphans(target.parent, prefix, tag)
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = str(target.parent / f"{prefix}{tag}-{me.pid}-{os.urandom(4).hex()}.tmp")
        with _lock:  # named as ours before it exists: a sweep never takes it for an orphan
            _writing.add(tmp)
        try:
            fd = os.open(tmp, flags, 0o666)  # the kernel applies the umask, as for any file
            break
        except BaseException as exc:
            with _lock:
                _writing.discard(tmp)
            if not isinstance(exc, FileExistsError):
                raise
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
        with _lock:
            _writing.discard(tmp)


def _remove_orphans(folder: Path, prefix: str, tag: str) -> None:
    """Remove temp files of this target whose writer is gone (or that are over a day old)."""
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix)]
    except OSError:
        return
    now = time.time()
    me = owner.current()
    for entry in entries:
        rest = entry.name[len(prefix) :]
        parts = rest.removesuffix(".tmp").split("-")
        if not rest.endswith(".tmp") or len(parts) != 3 or not parts[1].isdigit():
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > _STALE
        except OSError:
            continue
        pid = int(parts[1])
        # A file of this machine goes once its writer is known to be gone (this process's
        # own, unless a save in progress: checked below); of another machine, where a pid
        # says nothing here, only when it is old.
        mine = parts[0] == tag
        if not old and not (mine and (pid == me.pid or owner.alive(pid, me.host, None) is False)):
            continue
        with _lock:  # one hold: a save of this process cannot register the name in between
            if entry.path in _writing:
                continue  # one of this process's saves in progress
            try:
                os.unlink(entry.path)
            except OSError:
                pass


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
