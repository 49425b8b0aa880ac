"""Where a command's output goes. With ``--format json`` stdout holds one JSON document and
nothing else: from the moment a command knows it prints JSON, file descriptor 1 points at
stderr for everyone in the process (hooks, imported modules, the commands they start), and
the document is written to the real stdout, kept aside. Without the CLI framework, so that
``hookrunner validate`` uses it too.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from ..kernel.secrets import scrub

_out: TextIO | None = None
_written = False
_saved_fd: int | None = None  # fd 1 as it was, while it points at stderr
_saved_stream: TextIO | None = None  # sys.stdout as it was, when it is not fd 1


def reserve_stdout() -> None:
    """Keep stdout for the JSON document; everything else printed goes to stderr, until
    ``release``. When ``sys.stdout`` is the process's fd 1, the file descriptors are
    switched (subprocesses and C code included); when a caller redirected ``sys.stdout``
    (``main()`` called in-process), only ``sys.stdout`` is."""
    global _out, _saved_fd, _saved_stream
    if _out is not None:
        return
    stream = sys.stdout
    stream.flush()
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd == 1:
        try:
            _saved_fd = os.dup(1)
            os.dup2(2, 1)
        except OSError:  # no file descriptors to play with: leave stdout alone
            _saved_fd = None
            return
        _out = os.fdopen(os.dup(_saved_fd), "w", encoding="utf-8")
    else:
        _out, _saved_stream = stream, stream
        sys.stdout = sys.stderr


def release() -> None:
    """Undo ``reserve_stdout`` (the end of a command run in-process)."""
    global _out, _written, _saved_fd, _saved_stream
    if _out is None:
        return
    sys.stdout.flush()
    if _saved_fd is not None:
        _out.close()
        os.dup2(_saved_fd, 1)
        os.close(_saved_fd)
    elif _saved_stream is not None:
        sys.stdout = _saved_stream
    _out, _written, _saved_fd, _saved_stream = None, False, None, None


def _stream() -> TextIO:
    return _out if _out is not None else sys.stdout


def write_json(data: Any, indent: int | None = 2) -> None:
    """One JSON document (``indent=None``: one line, for streams of them), scrubbed as
    every output is (the real stdout kept aside is not a guarded stream)."""
    global _written
    out = _stream()
    out.write(scrub(json.dumps(data, indent=indent, default=str)) + "\n")
    out.flush()
    _written = True


def json_reserved() -> bool:
    return _out is not None


def json_written() -> bool:
    return _written
