"""Safe YAML loading that remembers where every node came from.

Every later error (schema, semantics, graph) points at ``file:line:col`` through the
``positions`` map built here, so nothing downstream has to keep YAML nodes around.

A plain document (no anchors, aliases, tags, merge keys or keys that are not strings) is
built in one pass over libyaml's events that records where each mapping and list starts, and
nothing per scalar or key (nor a node tree): most files are never asked where a scalar is, and the per-node
table would cost more than the parse. The first question about a scalar or a key parses the
kept text again and fills the whole table (``Document.where``). Anything else, and any
problem (a duplicate key, a document that expands too far), takes the general path: the
walker that records everything, then PyYAML's constructor.
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
from typing import TYPE_CHECKING, Any

from . import secrets
from .errors import HookrunnerError, Path, Problem, ValidationError, quoted, shorten

if TYPE_CHECKING:
    import yaml
else:
    yaml = None  # imported by the first parse (``_loader``): a process that parses none skips it

# The tag of each (kind, value, implicit) that libyaml's composer asked about: it calls the
# Python resolver for every scalar, and a large file repeats the same few values.
_RESOLVED: dict[tuple[Any, Any, Any], str] = {}
_RESOLVED_MAX = 50_000
_LOADER: type | None = None
_SAFE: type | None = None

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
    # Paths whose value came from the environment, and their text as written (``${env:X}``).
    secret_paths: set[Path] = field(default_factory=set)
    templates: dict[Path, str] = field(default_factory=dict)
    # Paths whose ``${env:NAME}`` could not be filled: reported once, checked no further.
    unresolved: set[Path] = field(default_factory=set)
    # The text, while ``positions`` holds only the mappings and lists (see the module doc).
    text: str | None = None
    # The paths of the strings that mention ``${env:`` (None: not known, look everywhere).
    env_paths: list[Path] | None = None

    @property
    def directory(self) -> FsPath:
        return FsPath(self.file).resolve().parent

    def where(self, path: Path, key: bool = False) -> tuple[int, int]:
        """The closest known position of ``path`` (its key if ``key``), walking up."""
        p = tuple(path)
        if self.text is not None and (key or p not in self.positions):
            self._locate()
        table = self.key_positions if key else self.positions
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
        # Values from the environment are never echoed (see ``secrets``).
        message = secrets.scrub(message)
        hint = secrets.scrub(hint) if hint else hint
        if hook is None and len(path) >= 2 and isinstance(path[1], int):
            item = self.get((path[0], path[1]))
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                hook = item["name"]
        return Problem(self.file, line, col, tuple(path), message, hint, hook)

    def redact(self, path: Path, text: str) -> str:
        """``text`` as written at ``path``, each ``${env:...}`` shown as ``<from env>``
        whatever the length of its value (only the environment's part is hidden)."""
        template = self.templates.get(tuple(path))
        if template is None:
            return secrets.scrub(text)
        return _ENV.sub(secrets.MASK, template)

    def locate(self) -> None:
        """Fill the whole position table now (a load records only where mappings and lists
        start; the rest is found when an error first needs it)."""
        if self.text is not None:
            self._locate()

    def _locate(self) -> None:
        """Fill the whole position table from the kept text (parsed again, once)."""
        text, self.text = self.text, None
        if text is None:  # another thread did it
            return
        loader = _loader()(text)
        try:
            _Walker(self).walk(loader.get_single_node(), ())
        finally:
            loader.dispose()

    def get(self, path: Path, default: Any = None) -> Any:
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return default
        return node


def safe_loader() -> type:
    """PyYAML's safe loader (libyaml's when available) with a located error for a core tag's
    bad value; every YAML hookrunner reads goes through it or a subclass. A subclass that
    changes the resolvers (``--params`` values) derives from this one, not from ``_loader()``,
    whose kept answers assume the default resolvers."""
    _loader()
    assert _SAFE is not None
    return _SAFE


def _loader() -> type:
    """libyaml's safe loader when available (several times faster on large manifests), with
    the resolver's answers kept (they depend on the value only); made on the first parse."""
    global yaml, _LOADER, _SAFE
    if _LOADER is not None:
        return _LOADER
    import yaml as module

    yaml = module
    base: type = getattr(module, "CSafeLoader", module.SafeLoader)

    class BadValue(module.constructor.ConstructorError):
        """A scalar its (explicit or implied) core tag cannot read: ``!!int x``,
        ``2024-13-45``."""

        bad_value = True

    class SafeLoader(base):
        """PyYAML's safe constructors raise ``ValueError``, ``KeyError``, ``TypeError``...
        for ``!!int x``, ``!!bool x``, ``!!timestamp 2024-13-45`` (a plain ``2024-13-45``
        too) or an integer of 5,000 digits; here each becomes a YAML error at the node."""

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep)
            except module.YAMLError:
                raise
            except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError) as exc:
                raise BadValue(None, None, _bad_value(node, exc), node.start_mark) from None

    class Loader(SafeLoader):
        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            key = (kind, value, implicit)
            tag = _RESOLVED.get(key)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if not self.yaml_path_resolvers:  # none by default: the value decides
                    if len(_RESOLVED) >= _RESOLVED_MAX:
                        _RESOLVED.clear()
                    _RESOLVED[key] = tag
            return str(tag)

    _SAFE = SafeLoader
    _LOADER = Loader
    return Loader


def _bad_value(node: yaml.Node, exc: BaseException) -> str:
    kind = "!!" + str(node.tag).rpartition(":")[2]
    value = node.value if isinstance(node, yaml.ScalarNode) else ""
    reason = str(exc).split(";")[0] if isinstance(exc, ValueError) else ""
    reason = shorten(reason, 120) if reason and str(value) not in reason else ""
    return f"{quoted(value)} is not a valid {kind} value" + (f" ({reason})" if reason else "")


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _yaml_problem(file: str, exc: yaml.YAMLError, text: str) -> Problem:
    if getattr(exc, "bad_value", False):  # a core tag's bad value (``safe_loader``)
        mark = exc.problem_mark  # type: ignore[attr-defined]
        at = text[mark.index] if 0 <= mark.index < len(text) else ""
        hint = (
            "fix the value or remove the tag"
            if at == "!"
            else "quote it to keep it as text, or fix the value"
        )
        what = exc.problem  # type: ignore[attr-defined]
        return Problem(file, mark.line + 1, mark.column + 1, (), f"invalid YAML: {what}", hint)
    from .yamlerrors import explain  # only when a file is broken

    return explain(file, exc, text)


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


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _General(Exception):
    """The document needs the general path (see the module docstring)."""


def _plain(loader: Any, doc: Document) -> Any:
    """The data of a plain document, from libyaml's event stream (no node tree: a large
    file's nodes, held at once, would be most of a load's peak memory), with the start of
    every mapping and list in ``doc.positions`` and the strings that mention ``${env:`` in
    ``doc.env_paths``; raises ``_General`` for anything else. What it builds equals PyYAML's
    construction (``tests/kernel/test_document.py``)."""
    positions = doc.positions
    envs: list[Path] = []
    get = loader.get_event
    resolve = loader.resolve
    count = 1
    Scalar, MapStart, MapEnd = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.MappingEndEvent
    SeqStart, SeqEnd = yaml.SequenceStartEvent, yaml.SequenceEndEvent

    def scalar(event: Any) -> Any:
        """A scalar's value: the text when it resolves to a string, else constructed."""
        if event.tag is not None or event.anchor is not None:
            raise _General
        text = event.value
        implicit = event.implicit
        if not implicit[0]:  # quoted or a block scalar: a string
            return text
        tag = resolve(yaml.ScalarNode, text, implicit)
        if tag == _STR:
            return text
        node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
        return loader.construct_object(node)

    def value(event: Any, path: Path) -> Any:
        nonlocal count
        kind = event.__class__
        if kind is Scalar:
            got = scalar(event)
            if got.__class__ is str and "${env:" in got:
                envs.append(path)
            return got
        if kind is not MapStart and kind is not SeqStart:
            raise _General  # an alias
        if event.tag is not None or event.anchor is not None:
            raise _General  # an anchor, or a tag: the general path
        mark = event.start_mark
        positions[path] = (mark.line + 1, mark.column + 1)
        if kind is SeqStart:
            items: list[Any] = []
            while True:
                item = get()
                if item.__class__ is SeqEnd:
                    break
                items.append(value(item, path + (len(items),)))
            count += len(items)
            if count > MAX_NODES:
                raise _General
            return items
        out: dict[str, Any] = {}
        n = 0
        while True:
            key_event = get()
            if key_event.__class__ is not Scalar:
                if key_event.__class__ is MapEnd:
                    break
                raise _General  # a key that is a list or a mapping, or an alias
            key = scalar(key_event)
            if key.__class__ is not str:
                raise _General  # numbers, booleans, null as keys: the general path
            item = get()
            n += 1
            if item.__class__ is Scalar:
                got = scalar(item)
                if got.__class__ is str and "${env:" in got:
                    envs.append(path + (key,))
                out[key] = got
            else:
                out[key] = value(item, path + (key,))
        count += n  # values, as the walker counts them (keys are not nodes it walks)
        if len(out) != n or "<<" in out or count > MAX_NODES:
            raise _General  # a duplicate key (the walker reports it), a merge key, too big
        return out

    if get().__class__ is not yaml.StreamStartEvent:
        raise _General
    if get().__class__ is not yaml.DocumentStartEvent:
        raise _General  # an empty file: the general path says so
    data = value(get(), ())
    if get().__class__ is not yaml.DocumentEndEvent:
        raise _General
    if get().__class__ is not yaml.StreamEndEvent:
        raise _General  # a second document: the general path says so
    doc.env_paths = envs
    return data


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


def _load_text(text: str, file: str, general: bool = False) -> Document:
    """``load_text``; ``general`` skips the one-pass build (tests compare the two)."""
    doc = Document(file=file, data=None)
    if not general:
        loader = _loader()(text)
        try:
            doc.data = _plain(loader, doc)
        except (_General, yaml.YAMLError):  # the general path says it all, located
            doc.positions.clear()
            doc.env_paths = None
        else:
            doc.text = text
            return _top_level(doc)
        finally:
            loader.dispose()
    try:
        loader = _loader()(text)
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
    return _top_level(doc)


def _top_level(doc: Document) -> Document:
    """``doc``, unless its top level is not a mapping."""
    if not isinstance(doc.data, dict):
        kind = type(doc.data).__name__
        raise ValidationError(
            [
                Problem(
                    doc.file,
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

    def __init__(
        self, file: str, reason: str, hint: str | None = None, line: int = 0, column: int = 1
    ):
        self.reason = reason
        self.hint = hint
        super().__init__([Problem(file, line, 0 if line == 0 else column, (), reason, hint)])


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


def _name_a_file(kind: str) -> str:
    return "name the YAML file in it" if kind == "a directory" else "name a YAML file"


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
            raise Unreadable(name, f"is {kind}, not a regular file", _name_a_file(kind))
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with open(fd, "rb", closefd=True) as fh:
            info = os.fstat(fd)
            kind = _not_regular(info.st_mode)
            if kind is not None:
                raise Unreadable(name, f"is {kind}, not a regular file", _name_a_file(kind))
            size = info.st_size
            data = b"" if size > MAX_BYTES else fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        hint = "paths are relative to the current directory; `hookrunner init` creates a project"
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
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = _not_utf8(name, data, exc)
        raise Unreadable(name, bad.message, bad.hint, bad.line, bad.column) from None
    # Universal newlines, as text mode would read it (positions count "\r\n" as one break).
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def load_file(path: str | os.PathLike[str]) -> Document:
    """Read and parse one YAML file (``read_text``: regular files only, size-limited)."""
    return load_text(read_text(path), str(path))


def _not_utf8(name: str, raw: bytes, exc: UnicodeDecodeError) -> Problem:
    """Where the first byte that is not UTF-8 sits, as an editor counts lines and columns."""
    at = exc.start
    line = raw.count(b"\n", 0, at) + 1
    start = raw.rfind(b"\n", 0, at) + 1
    column = len(raw[start:at].decode("utf-8", "replace")) + 1
    return Problem(
        name,
        line,
        column,
        (),
        f"not UTF-8 text: byte 0x{raw[at]:02x} cannot be decoded ({exc.reason})",
        "save the file as UTF-8 with your editor's encoding setting, or retype that character",
    )


def interpolate_env(doc: Document, environ: dict[str, str] | None = None) -> list[Problem]:
    """Replace ``${env:NAME}`` / ``${env:NAME,default}`` in every string, in place."""
    env = os.environ if environ is None else environ
    problems: list[Problem] = []

    def fix(value: Any, path: Path) -> Any:
        if isinstance(value, str) and "${env:" in value:
            filled = False

            def sub(m: re.Match[str]) -> str:
                nonlocal filled
                name, default = m.group(1), m.group(2)
                if name in env:
                    filled = True
                    secrets.register(env[name], name)
                    return env[name]
                if default is not None:
                    return default
                # Reported here, once: the checks after this one leave the value alone.
                doc.unresolved.add(path)
                problems.append(
                    doc.problem(
                        path,
                        f"environment variable {name!r} is not set and has no default",
                        f"export {name}=..., or give a default: ${{env:{name},DEFAULT}}",
                    )
                )
                return ""

            out = _ENV.sub(sub, value)
            if filled:  # a default is no secret: a problem with it may show it
                doc.secret_paths.add(path)
            doc.templates[path] = value
            return out
        if isinstance(value, dict):
            for k in list(value):
                value[k] = fix(value[k], path + (k,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                value[i] = fix(item, path + (i,))
        return value

    if doc.env_paths is None:
        doc.data = fix(doc.data, ())
        return problems
    for path in doc.env_paths:  # the loader saw every string that mentions ${env:
        *parents, last = path
        parent = doc.get(tuple(parents))
        parent[last] = fix(parent[last], path)
    return problems
