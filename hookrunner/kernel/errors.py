"""User-facing errors: every problem carries a file position and a document path."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """``("hooks", 3, "priority")`` → ``hooks[3].priority``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A ``did you mean 'x'?`` hint, or None when nothing is close."""
    word = str(word)
    if len(word) > _SUGGEST_MAX:  # nothing that long is a typo, and difflib is quadratic
        return None
    import difflib  # lazy: only a mistake needs it

    options = [c for c in choices if len(str(c)) <= _SUGGEST_MAX]
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else None


_SUGGEST_MAX = 200
# A message longer than this is cut (with what was left out said): a 15 MB value in a file,
# or a hook's exception text, must not be echoed whole.
MESSAGE_MAX = 2000


def shorten(text: object, limit: int = 80) -> str:
    """``text`` whole when it is short, else its start, "…" and its full length."""
    s = text if isinstance(text, str) else str(text)
    if len(s) <= limit:
        return s
    return f"{s[:limit]}… ({len(s):,} characters)"


def quoted(value: object, limit: int = 60) -> str:
    """``repr(value)`` for a message; a long string is cut before it is quoted, and an
    object whose ``__repr__`` raises is named by its type."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    return shorten(text, limit + 20)


def elide(items: Iterable[object], limit: int = 10, sep: str = ", ") -> str:
    """The first ``limit`` items joined, then "… and 9,990 more" for the rest."""
    shown: list[str] = []
    rest = 0
    for item in items:
        if len(shown) < limit:
            shown.append(shorten(item))
        else:
            rest += 1
    return sep.join(shown) + (f"{sep.rstrip()} … and {rest:,} more" if rest else "")


def shown_path(path: str) -> str:
    """``path`` as a user reads it: relative to the current directory when it lies below it
    (the form ``list`` and error messages print), else as it is."""
    if not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if rel.startswith("..") else rel


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located precisely. ``line`` 0 means the file as a
    whole (it is missing or unreadable): no position is printed then. A ``warning`` is worth
    saying but does not make the input invalid."""

    file: str
    line: int
    column: int
    path: Path
    message: str
    hint: str | None = None
    # The name of the hook the path points into, for a pre-commit-like breadcrumb.
    hook: str | None = None
    severity: str = "error"  # or "warning"

    def __post_init__(self) -> None:
        # The last guard against echoing a huge value (most messages shorten their own).
        if len(self.message) > MESSAGE_MAX:
            object.__setattr__(self, "message", shorten(self.message, MESSAGE_MAX))
        if self.hint is not None and len(self.hint) > MESSAGE_MAX:
            object.__setattr__(self, "hint", shorten(self.hint, MESSAGE_MAX))
        if self.hook is not None and len(self.hook) > 80:
            object.__setattr__(self, "hook", shorten(self.hook))

    def crumb(self) -> str:
        p = self.path
        if len(p) >= 2 and p[0] in ("hooks", "nodes") and isinstance(p[1], int):
            head = f"{p[0]}[{p[1]}]" + (f" {self.hook!r}" if self.hook else "")
            rest = format_path(p[2:])
            return f"{head} → {rest}" if rest else head
        if self.hook is not None:  # a hook registered from code: the path is the argument
            rest = format_path(p)
            return f"hook {self.hook!r}" + (f" → {rest}" if rest else "")
        return format_path(p)

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        crumb = self.crumb()
        where = f"{crumb}: " if crumb else ""
        level = "warning: " if self.severity == "warning" else ""
        at = f":{self.line}:{self.column}" if self.line > 0 else ""
        return f"{shown_path(self.file)}{at}: {level}{where}{self.message}{hint}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": format_path(self.path),
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
            "text": str(self),
        }


def text_of(error: BaseException) -> str:
    """``str(error)``, even for an exception whose ``__str__`` itself raises."""
    try:
        return str(error)
    except Exception:
        return f"<{type(error).__name__} whose message cannot be read>"


def raised(error: BaseException | None) -> str:
    """``ValueError: bad`` / ``sys.exit(3)`` / ``GeneratorExit``: what was raised, shortened."""
    if error is None:
        return "no error"
    if isinstance(error, SystemExit):
        try:
            code = repr(error.code)
        except Exception:
            code = "..."
        return f"sys.exit({shorten(code, 60)})"
    text = text_of(error)
    return type(error).__name__ + (f": {shorten(text, 300)}" if text else "")


class HookrunnerError(Exception):
    """The root of every exception hookrunner raises: ``except HookrunnerError`` catches them
    all (errors of hooks and nodes themselves pass through as they were raised, except what
    would end the process: see ``HookExited``)."""


class ResolveError(HookrunnerError):
    """A dotted path, signature or matcher problem found at load time; ``hint`` suggests a
    fix. The registry turns it into a located ``Problem``. ``origin`` (file, line, column)
    is set when the cause lies in a project module (it does not import: a syntax error, an
    exception at import time): the problem is reported there, once for all its users."""

    def __init__(
        self, message: str, hint: str | None = None, origin: tuple[str, int, int] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.origin = origin

    def problem(self, at: Problem) -> Problem:
        """The problem to report: ``at`` (where the module is named), or, with an
        ``origin``, a problem in the module that says which entry imported it."""
        if self.origin is None:
            return at
        file, line, column = self.origin
        user = f"{at.crumb()} at {shown_path(at.file)}:{at.line}" if at.crumb() else at.file
        return Problem(file, line, column, (), self.message, f"imported for {user}")


def merge_origins(problems: Sequence[Problem]) -> list[Problem]:
    """One problem per broken module: the same failure reached from several entries is
    reported once, naming every entry that imported the module."""
    out: list[Problem] = []
    by_place: dict[tuple[str, int, int, str], int] = {}
    for p in problems:
        if p.path or not (p.hint or "").startswith("imported for "):
            out.append(p)
            continue
        key = (p.file, p.line, p.column, p.message)
        if key not in by_place:
            by_place[key] = len(out)
            out.append(p)
            continue
        first = out[by_place[key]]
        users = (first.hint or "") + ", " + (p.hint or "")[len("imported for ") :]
        out[by_place[key]] = Problem(first.file, first.line, first.column, (), first.message, users)
    return out


class ValidationError(HookrunnerError):
    """Input files are invalid; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Veto(HookrunnerError):
    """Raised by a hook of a veto event (or a wrap hook) to cancel the operation."""

    def __init__(self, reason: str = "vetoed"):
        self.reason = reason
        super().__init__(reason)


class HookTimeout(HookrunnerError):
    """A hook did not finish within its timeout."""


class HookFailed(HookrunnerError):
    """A command hook exited with a failure code, or a hook returned something it must not."""


class UnknownHook(HookrunnerError, LookupError):
    """``unregister``, ``enable`` or ``disable`` was given a name no hook has."""

    def __init__(self, name: str, message: str, hint: str | None = None):
        self.name = name
        self.hint = hint
        super().__init__(message + (f" ({hint})" if hint else ""))


class HookExited(HookFailed):
    """A hook raised what would end the process or a generator (``sys.exit()``,
    ``GeneratorExit``, another ``BaseException``): it counts as the hook's failure and follows
    its ``on_error``; only ``KeyboardInterrupt`` interrupts. ``original`` is what it raised."""

    def __init__(self, hook: str, original: BaseException):
        super().__init__(f"hook {shorten(hook)!r} raised {raised(original)}")
        self.original = original
        self.__cause__ = original

    @staticmethod
    def of(hook: str, error: BaseException) -> Exception:
        """What a hook's ``error`` counts as: itself when it is an ``Exception``, else a
        ``HookExited``; a ``KeyboardInterrupt`` is raised again (Ctrl-C stops the emit)."""
        if isinstance(error, Exception):
            return error
        if isinstance(error, KeyboardInterrupt):
            raise error
        return HookExited(hook, error)


class UnknownEvent(HookrunnerError, LookupError):
    """``emit`` was given an event that is neither built in nor declared."""

    def __init__(self, event: str, known: Iterable[str]):
        hint = did_you_mean(event, known)
        self.event = event
        super().__init__(f"unknown event {quoted(event)}" + (f" ({hint})" if hint else ""))


class EventArgumentError(HookrunnerError, TypeError):
    """``emit`` was given an argument its event does not take, or left out one it needs.

    The same check serves ``hookrunner emit`` and the Python API; ``where`` is the caller's
    ``file:line`` (the first project frame), when the emit came from project code."""

    def __init__(
        self,
        event: str,
        unknown: Sequence[str],
        missing: Sequence[str],
        known: Sequence[str],
        where: str | None = None,
    ):
        self.event = event
        self.unknown = list(unknown)
        self.missing = list(missing)
        self.known = list(known)
        parts = []
        for name in self.unknown:
            hint = did_you_mean(name, known)
            parts.append(f"{event} has no argument {quoted(name)}" + (f" ({hint})" if hint else ""))
        if self.missing:
            names = ", ".join(repr(m) for m in self.missing)
            parts.append(f"{event} needs argument{'s' if len(self.missing) > 1 else ''} {names}")
        message = "; ".join(parts)
        if self.unknown and not any(did_you_mean(n, known) for n in self.unknown):
            message += f"; its arguments: {', '.join(known) or 'none'}"
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
