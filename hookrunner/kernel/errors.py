"""User-facing errors: every problem carries a file position and a document path."""

from __future__ import annotations

import difflib
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
    """``repr(value)`` for a message; a long string is cut before it is quoted."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    return shorten(repr(value), limit + 20)


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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located precisely."""

    file: str
    line: int
    column: int
    path: Path
    message: str
    hint: str | None = None
    # The name of the hook the path points into, for a pre-commit-like breadcrumb.
    hook: str | None = None

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
        return format_path(p)

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        crumb = self.crumb()
        where = f"{crumb}: " if crumb else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}{hint}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": format_path(self.path),
            "message": self.message,
            "hint": self.hint,
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
    fix. The registry turns it into a located ``Problem``."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


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
