"""Safe YAML loading that remembers where every node came from.

Every later error (schema, semantics, graph) points at ``file:line:col`` through the
``positions`` map built here, so nothing downstream has to keep YAML nodes around.
"""

from __future__ import annotations

import gc
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml

from .errors import HookrunnerError, Path, Problem, ValidationError, quoted, shorten

try:  # libyaml when available: several times faster on large manifests.
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Base = yaml.SafeLoader


class _BadValue(yaml.constructor.ConstructorError):
    """A scalar its (explicit or implied) core tag cannot read: ``!!int x``, ``2024-13-45``."""


class SafeLoader(_Base):
    """The safe loader, with a located error for a core tag's bad value (every YAML
    hookrunner reads goes through it or a subclass).

    PyYAML's safe constructors raise ``ValueError``, ``KeyError``, ``TypeError``... for
    ``!!int x``, ``!!bool x``, ``!!timestamp 2024-13-45`` (a plain ``2024-13-45`` too) or an
    integer of 5,000 digits; here each becomes a YAML error at the node, like any other.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError) as exc:
            raise _BadValue(None, None, _bad_value(node, exc), node.start_mark) from None


MAX_BYTES = int(os.environ.get("HOOKRUNNER_MAX_FILE_BYTES", 16 * 1024 * 1024))
# An alias-heavy document can expand exponentially ("billion laughs"); count what we walk.
MAX_NODES = int(os.environ.get("HOOKRUNNER_MAX_NODES", 1_000_000))

_ENV = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?:,([^}]*))?\}")


@dataclass
class Document:
    """A loaded YAML file: plain data plus the position of every value and key."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    # Paths whose value came from the environment: never echo them.
    secret_paths: set[Path] = field(default_factory=set)

    @property
    def directory(self) -> FsPath:
        return FsPath(self.file).resolve().parent

    def where(self, path: Path, key: bool = False) -> tuple[int, int]:
        """The closest known position of ``path`` (its key if ``key``), walking up."""
        table = self.key_positions if key else self.positions
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if key and p in self.positions:
                return self.positions[p]
            p = p[:-1]
        return self.positions.get((), (1, 1))

    def problem(
        self,
        path: Path,
        message: str,
        hint: str | None = None,
        key: bool = False,
        hook: str | None = None,
    ) -> Problem:
        line, col = self.where(path, key)
        # A value from the environment (here or below) is never echoed.
        n = len(path)
        for at in self.secret_paths:
            secret = self.get(at) if tuple(at[:n]) == tuple(path) else None
            if not isinstance(secret, str) or not secret:
                continue
            # The whole value, and the module part an import error quotes ("pkg.mod:attr").
            pieces = (secret, secret.partition(":")[0], secret.rpartition(".")[0])
            for piece in sorted({p for p in pieces if len(p) >= 3}, key=len, reverse=True):
                message = message.replace(piece, "<from env>")
                hint = hint.replace(piece, "<from env>") if hint else hint
        if hook is None and len(path) >= 2 and isinstance(path[1], int):
            item = self.get((path[0], path[1]))
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                hook = item["name"]
        return Problem(self.file, line, col, tuple(path), message, hint, hook)

    def redact(self, path: Path, text: str) -> str:
        """``text`` unless the value at ``path`` came from the environment."""
        return "<from env>" if tuple(path) in self.secret_paths else text

    def get(self, path: Path, default: Any = None) -> Any:
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return default
        return node


def _bad_value(node: yaml.Node, exc: BaseException) -> str:
    kind = "!!" + str(node.tag).rpartition(":")[2]
    value = node.value if isinstance(node, yaml.ScalarNode) else ""
    reason = str(exc).split(";")[0] if isinstance(exc, ValueError) else ""
    reason = shorten(reason, 120) if reason and str(value) not in reason else ""
    return f"{quoted(value)} is not a valid {kind} value" + (f" ({reason})" if reason else "")


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _yaml_problem(file: str, exc: yaml.YAMLError, text: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    what = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {what}" + (f" ({context})" if context else "")
    hint = None
    at = text[mark.index] if mark is not None and 0 <= mark.index < len(text) else ""
    if isinstance(exc, _BadValue):
        message = f"invalid YAML: {what}"
        hint = (
            "fix the value or remove the tag"
            if at == "!"
            else "quote it to keep it as text, or fix the value"
        )
    elif at == "\t" or "'\\t'" in what:
        hint = "indent with spaces, not tabs"
    elif "end of stream" in what and "quot" in (context or "") + what:
        hint = "a quoted string is not closed"
    elif "end of stream" in what:
        hint = "a quote or bracket is not closed"
    elif "constructor" in what or "tag" in what:
        message = f"YAML tags are not allowed: {what}"
        hint = "remove the '!' tag; hookrunner reads plain YAML only"
    return Problem(file, line, col, (), message, hint)


class _Walker:
    """Records positions while checking duplicate keys and expansion size."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.count = 0
        self.problems: list[Problem] = []

    def walk(self, node: yaml.Node, path: Path) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(path)
        self.doc.positions[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is None:
                    line, col = _mark(key_node)
                    self.problems.append(
                        Problem(
                            self.doc.file, line, col, path, "mapping keys must be plain strings"
                        )
                    )
                    continue
                key = _scalar_key(key_node)
                if key in seen:
                    line, col = _mark(key_node)
                    first = _mark(seen[key])
                    self.problems.append(
                        Problem(
                            self.doc.file,
                            line,
                            col,
                            path + (key,),
                            f"duplicate key {key!r} (first defined at line {first[0]})",
                            "remove one of them",
                        )
                    )
                    continue
                seen[key] = key_node
                self.doc.key_positions[path + (key,)] = _mark(key_node)
                self.walk(value_node, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.walk(item, path + (i,))


def _scalar_key(node: yaml.ScalarNode) -> Any:
    # Keys are compared as the constructor would build them: "1" and 1 differ.
    if node.tag.endswith(":int"):
        try:
            return int(node.value)
        except ValueError:
            return node.value
    return node.value


class _TooBig(HookrunnerError):
    def __init__(self, path: Path):
        self.path = path


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects that all stay alive.

    A 10,000-hook manifest allocates hundreds of thousands of containers; each automatic
    collection on the way would traverse all of them again for nothing (it nearly doubles
    the parse time). Nothing is paused if the host application already turned the collector
    off, and it is only turned back on by whoever turned it off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def load_text(text: str, file: str) -> Document:
    """Parse YAML text safely; raise ValidationError with positions on any problem."""
    with bulk():
        return _load_text(text, file)


def _load_text(text: str, file: str) -> Document:
    doc = Document(file=file, data=None)
    try:
        loader = SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ValidationError(
                    [
                        Problem(
                            file,
                            1,
                            1,
                            (),
                            "the file is empty",
                            "start from `hookrunner init` or see `hookrunner schema`",
                        )
                    ]
                )
            walker = _Walker(doc)
            try:
                walker.walk(node, ())
            except _TooBig as big:
                # Point at the top-level key whose value blew up, not deep inside an alias.
                where = big.path[:1]
                line, col = doc.where(where, key=True)
                raise ValidationError(
                    [
                        Problem(
                            file,
                            line,
                            col,
                            where,
                            f"the document expands to more than {MAX_NODES} nodes",
                            "aliases re-expand anchors exponentially: an alias bomb?",
                        )
                    ]
                ) from None
            if walker.problems:
                raise ValidationError(walker.problems)
            doc.data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        problem = _yaml_problem(file, exc, text)
        # A constructor error (a tag) comes after the walk: name the node's document path too.
        at = [p for p, pos in doc.positions.items() if pos == (problem.line, problem.column)]
        if at:
            path = max(at, key=len)
            problem = Problem(
                file, problem.line, problem.column, path, problem.message, problem.hint
            )
        raise ValidationError([problem]) from None
    except RecursionError:
        raise ValidationError(
            [Problem(file, 1, 1, (), "the document nests too deeply", None)]
        ) from None
    if not isinstance(doc.data, dict):
        kind = type(doc.data).__name__
        raise ValidationError(
            [
                Problem(
                    file,
                    *doc.where(()),
                    (),
                    f"the top level must be a mapping, not a {kind}",
                    "start with `version: 1`",
                )
            ]
        )
    return doc


class Unreadable(ValidationError):
    """A file that cannot be read at all (missing, not a regular file, no permission, too
    big): ``reason`` and ``hint`` let an includer report it at its ``include:`` line."""

    def __init__(self, file: str, reason: str, hint: str | None = None, line: int = 0):
        self.reason = reason
        self.hint = hint
        super().__init__([Problem(file, line, 0 if line == 0 else 1, (), reason, hint)])


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    """What a file of ``mode`` is when it is not a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def read_text(path: str | os.PathLike[str]) -> str:
    """A regular file's text, read with the size limit enforced while reading.

    Only a regular file is opened (a FIFO would block, ``/dev/zero`` never ends, and both
    report size 0), and it is opened non-blocking and checked again through the open file,
    so a file swapped for a pipe in between cannot hang the reader. Raises ``Unreadable``.
    """
    name = os.fspath(path)
    try:
        mode = os.stat(name).st_mode
        kind = _not_regular(mode)
        if kind is not None:
            raise Unreadable(name, f"is {kind}, not a regular file", "name a YAML file")
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with open(fd, "rb", closefd=True) as fh:
            info = os.fstat(fd)
            kind = _not_regular(info.st_mode)
            if kind is not None:
                raise Unreadable(name, f"is {kind}, not a regular file", "name a YAML file")
            size = info.st_size
            data = b"" if size > MAX_BYTES else fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        hint = "check the path (relative to the current directory) or run `hookrunner init`"
        raise Unreadable(name, "file not found", hint) from None
    except (OSError, ValueError) as exc:  # permissions, a symlink loop, a NUL in the name
        reason = getattr(exc, "strerror", None) or str(exc)
        raise Unreadable(name, f"cannot read the file: {reason}") from None
    if size > MAX_BYTES or len(data) > MAX_BYTES:
        what = f"is {size} bytes" if size > MAX_BYTES else "grew while it was read"
        raise Unreadable(
            name,
            f"the file {what}, over the {MAX_BYTES}-byte limit",
            "split it with `include:` or raise HOOKRUNNER_MAX_FILE_BYTES",
            line=1,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(name, f"not UTF-8 text ({exc.reason})", line=1) from None


def load_file(path: str | os.PathLike[str]) -> Document:
    """Read and parse one YAML file (``read_text``: regular files only, size-limited)."""
    return load_text(read_text(path), str(path))


def interpolate_env(doc: Document, environ: dict[str, str] | None = None) -> list[Problem]:
    """Replace ``${env:NAME}`` / ``${env:NAME,default}`` in every string, in place."""
    env = os.environ if environ is None else environ
    problems: list[Problem] = []

    def fix(value: Any, path: Path) -> Any:
        if isinstance(value, str) and "${env:" in value:

            def sub(m: re.Match[str]) -> str:
                name, default = m.group(1), m.group(2)
                if name in env:
                    return env[name]
                if default is not None:
                    return default
                problems.append(
                    doc.problem(
                        path,
                        f"environment variable {name!r} is not set and has no default",
                        f"export {name}=... or write ${{env:{name},default}}",
                    )
                )
                return ""

            doc.secret_paths.add(path)
            return _ENV.sub(sub, value)
        if isinstance(value, dict):
            for k in list(value):
                value[k] = fix(value[k], path + (k,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                value[i] = fix(item, path + (i,))
        return value

    doc.data = fix(doc.data, ())
    return problems
