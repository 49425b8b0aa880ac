"""Which stack frames are the project's, and tracebacks made of them.

A failure inside a hook or a node is the user's to fix, in the user's files: the short
traceback hookrunner prints and stores keeps only the frames of project files (not the
standard library, installed packages or hookrunner itself); ``--traceback`` shows them all.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import traceback
from types import TracebackType

from .errors import MESSAGE_MAX, shorten, shown_path, text_of

# Frames kept in a short traceback (the innermost ones: where it went wrong).
SHORT = 5


def _library_roots() -> tuple[str, ...]:
    """The standard library, site-packages and hookrunner's own package folder."""
    paths = sysconfig.get_paths()
    found = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    # The interpreter's own folders too: a console script in <venv>/bin is not the project.
    found.update({sys.prefix, sys.exec_prefix, sys.base_prefix})
    libs = {os.path.realpath(p) + os.sep for p in found}
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # hookrunner/
    libs.add(os.path.realpath(package) + os.sep)
    return tuple(sorted(libs))


LIBRARY_ROOTS = _library_roots()


def is_project_file(path: str) -> bool:
    """A real source file that is neither the standard library, an installed package nor
    hookrunner (generated code such as ``<hookrunner plan ...>`` is not a file)."""
    if not path or path.startswith("<"):
        return False
    real = os.path.realpath(path)
    if real.startswith(LIBRARY_ROOTS) or "site-packages" in real or "dist-packages" in real:
        return False
    return True


def project_frames(tb: TracebackType | None) -> list[traceback.FrameSummary]:
    """The frames of ``tb`` that lie in project files, outermost first."""
    return [f for f in traceback.extract_tb(tb) if is_project_file(f.filename)]


def short_traceback(error: BaseException, limit: int = SHORT) -> str:
    """The innermost project frames of ``error`` (file:line in function, and the line),
    then the error itself; the error alone when no project frame took part."""
    frames = project_frames(error.__traceback__)[-limit:]
    lines = []
    for f in frames:
        lines.append(f"  {shown_path(f.filename)}:{f.lineno} in {f.name}")
        if f.line:
            lines.append(f"    {f.line.strip()}")
    lines.append(f"{type(error).__name__}: {shorten(text_of(error), MESSAGE_MAX)}")
    return "\n".join(lines)


def full_traceback(error: BaseException) -> str:
    """Python's own traceback of ``error``, every frame included (each part shortened: a
    15 MB message is not kept whole)."""
    parts = traceback.format_exception(error)
    return "".join(
        p if len(p) <= MESSAGE_MAX else shorten(p.rstrip("\n"), MESSAGE_MAX) + "\n" for p in parts
    ).rstrip("\n")


def origin(error: BaseException) -> tuple[str, int, int] | None:
    """Where in a project file ``error`` arose (file, line, column): a syntax error's own
    position, else the innermost project frame; None when it arose in library code only."""
    if isinstance(error, SyntaxError) and error.filename and is_project_file(error.filename):
        return error.filename, error.lineno or 1, error.offset or 1
    frames = project_frames(error.__traceback__)
    if not frames:
        return None
    f = frames[-1]
    column = (f.colno or 0) + 1 if getattr(f, "colno", None) is not None else 1
    return f.filename, f.lineno or 1, column


def caller() -> str | None:
    """``file:line`` of the innermost project frame on the stack (who called into
    hookrunner), or None when no project code is on it (the CLI)."""
    frame = sys._getframe(1)
    while frame is not None:
        if is_project_file(frame.f_code.co_filename):
            return f"{shown_path(frame.f_code.co_filename)}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return None
