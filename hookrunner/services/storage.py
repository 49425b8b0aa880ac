"""Reading and writing whole files by URI: local paths (atomic) and ``s3://`` objects.

Datasets and other outputs go through here so that a crash never leaves a half-written file:
local writes go to a temporary file in the same folder and are renamed over the target.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def is_remote(uri: str) -> bool:
    return str(uri).startswith("s3://")


def resolve(uri: str, base: Path | None) -> str:
    """Relative local paths resolve against ``base`` (the folder of the file naming them)."""
    if is_remote(uri) or base is None or os.path.isabs(uri):
        return str(uri)
    return str((base / uri).resolve())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once: setting the umask to read it is not thread-safe, and it rarely changes.
_NEW_FILE_MODE = 0o666 & ~_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file + rename in the same folder. The file gets
    the permissions a plain ``open`` would give it (the temp file's are owner-only), or
    keeps those of the file it replaces."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        mode = _NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
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


def read_bytes(uri: str) -> bytes:
    if is_remote(uri):
        from .aws.s3 import s3_read

        return s3_read(uri)
    with open(uri, "rb") as fh:
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
