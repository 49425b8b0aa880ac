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

_out: TextIO | None = None
_written = False


def reserve_stdout() -> None:
    """Keep the real stdout for the JSON document; everything else printed goes to stderr."""
    global _out
    if _out is not None:
        return
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no file descriptors to play with (an embedding host): keep stdout
        return
    _out = os.fdopen(saved, "w", encoding="utf-8")


def _stream() -> TextIO:
    return _out if _out is not None else sys.stdout


def write_json(data: Any, indent: int | None = 2) -> None:
    """One JSON document (``indent=None``: one line, for streams of them)."""
    global _written
    out = _stream()
    out.write(json.dumps(data, indent=indent, default=str) + "\n")
    out.flush()
    _written = True


def json_reserved() -> bool:
    return _out is not None


def json_written() -> bool:
    return _written
