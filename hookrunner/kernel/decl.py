"""``HookDecl``: one ``hooks:`` entry as typed, immutable data, every default applied once.

The loader makes one from each entry that passed the schema, and ``HookRunner.register``
one from its arguments (checked as an entry, the object itself as the target); the registry,
the registry diff, ``hookrunner list`` and distributed workers read its attributes. The
defaults are the schema's own (``"default"`` in ``hook_entry_schema``), read here and nowhere
else.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .errors import Path, Problem
from .schema import hook_entry_schema, parse_duration

if TYPE_CHECKING:
    from .document import Document

KINDS = ("call", "class", "command")


def _schema_defaults() -> dict[str, Any]:
    props = hook_entry_schema()["properties"]
    return {key: spec["default"] for key, spec in props.items() if "default" in spec}


DEFAULTS: Mapping[str, Any] = MappingProxyType(_schema_defaults())
_NOTHING: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class HookDecl:
    """One hook declaration, where it was written, and what it replaced."""

    name: str
    kind: str  # "call", "class" or "command"; "" when the entry failed the schema
    # The dotted path of `call:` / `class:`, or the command (a string or a tuple of argv);
    # registered from code: the callable or hooks object itself (see ``caller``).
    target: str | tuple[str, ...] | object
    event: str | None  # None: a hooks class registers every method named after an event
    priority: int
    tryfirst: bool
    trylast: bool
    enabled: bool
    where: str  # distributed runs: "worker" or "driver"
    mode: str | None = None  # None: the event's style
    on_error: str | None = None  # None: the event's default, or settings.on_error
    error_handler: str | Callable[..., Any] | None = None  # from code: the callable
    timeout: float | None = None  # seconds; None: settings.timeout
    when: Mapping[str, Any] | None = None
    # `with:`: keyword arguments bound at load time; `args:`: a hooks class's constructor's.
    bound: Mapping[str, Any] = field(default_factory=lambda: _NOTHING)
    args: Mapping[str, Any] = field(default_factory=lambda: _NOTHING)
    # Where it came from: its document and the path of the entry inside it.
    doc: Document | None = None
    path: Path = ()
    overrides: str | None = None  # the source of the declaration it replaced
    plugin: str | None = None  # the entry-point plugin that contributed it
    valid: bool = True  # False: it failed the schema; reported there, never compiled
    # The keys of an invalid entry that failed the schema: the registry still checks what
    # does not depend on them (the event, `when:`, the import), so every independent
    # problem shows in one pass. Empty for a valid entry, or when the entry failed as a whole.
    unchecked: frozenset[str] = frozenset()
    # Registered from code: (file, line, column) of the call. Its target and error handler
    # are objects the host handed over, used as they are (nothing imported, no allow-list).
    caller: tuple[str, int, int] | None = None

    @classmethod
    def from_entry(
        cls,
        entry: Mapping[str, Any],
        doc: Document | None,
        path: Path,
        valid: bool = True,
        failed: frozenset[str] | None = None,
    ) -> HookDecl:
        """A declaration from a ``hooks:`` entry; ``valid`` says it passed the schema. Of an
        invalid entry, ``failed`` names the keys that did not (None: the entry as a whole):
        the others are read as usual, the failed ones are left at their defaults."""
        if not valid and failed:
            good = {k: v for k, v in entry.items() if k not in failed}
            kind = next((k for k in KINDS if k in good), "")
            decl = cls.from_entry({**good, **({} if kind else {"call": ""})}, doc, path)
            return decl.replace(kind=kind, valid=False, unchecked=frozenset(failed))
        if not valid:
            return cls(
                name=str(entry["name"]),
                kind="",
                target="",
                event=None,
                priority=DEFAULTS["priority"],
                tryfirst=False,
                trylast=False,
                enabled=False,
                where=DEFAULTS["where"],
                doc=doc,
                path=path,
                valid=False,
            )
        kind = next(k for k in KINDS if k in entry)
        target = entry[kind]
        bound = entry.get("with")
        args = entry.get("args")
        return cls(
            name=entry["name"],
            kind=kind,
            target=tuple(target) if isinstance(target, list) else target,
            event=entry.get("event"),
            priority=int(entry.get("priority", DEFAULTS["priority"])),
            tryfirst=bool(entry.get("tryfirst", DEFAULTS["tryfirst"])),
            trylast=bool(entry.get("trylast", DEFAULTS["trylast"])),
            enabled=bool(entry.get("enabled", DEFAULTS["enabled"])),
            where=entry.get("where", DEFAULTS["where"]),
            mode=entry.get("mode"),
            on_error=entry.get("on_error"),
            error_handler=entry.get("error_handler"),
            timeout=parse_duration(entry["timeout"]) if "timeout" in entry else None,
            when=entry.get("when"),
            bound=MappingProxyType(dict(bound)) if bound else _NOTHING,
            args=MappingProxyType(dict(args)) if args else _NOTHING,
            doc=doc,
            path=path,
        )

    @classmethod
    def plugin_object(cls, name: str, target: str, doc: Document, path: Path) -> HookDecl:
        """An entry-point plugin naming a hooks object, class or module (``class:``-like)."""
        return cls(
            name=name,
            kind="class",
            target=target,
            event=None,
            priority=DEFAULTS["priority"],
            tryfirst=False,
            trylast=False,
            enabled=True,
            where=DEFAULTS["where"],
            doc=doc,
            path=path,
            plugin=name,
        )

    @classmethod
    def from_code(
        cls,
        entry: Mapping[str, Any],
        target: object,
        error_handler: Callable[..., Any] | None,
        caller: tuple[str, int, int],
    ) -> HookDecl:
        """A declaration registered from code: ``entry`` holds its settings as a manifest
        entry would (it passed the same schema), ``target`` the object itself."""
        made = cls.from_entry(entry, None, ())
        return made.replace(target=target, error_handler=error_handler, caller=caller)

    def replace(self, **changes: Any) -> HookDecl:
        return dataclasses.replace(self, **changes)

    @property
    def source(self) -> str:
        if self.caller is not None:
            return f"python:{self.caller[0]}:{self.caller[1]}"
        assert self.doc is not None
        line, _ = self.doc.where(self.path)
        if self.plugin:
            # An object plugin has no file of its own; a plugin's manifest does.
            shipped = "" if self.is_object_plugin else f" ({self.doc.file}:{line})"
            return f"plugin:{self.plugin}{shipped}"
        return f"{self.doc.file}:{line}"

    @property
    def is_object_plugin(self) -> bool:
        return bool(self.plugin) and self.path[:1] == ("plugins",)

    def problem(self, key: str | None, message: str, hint: str | None = None) -> Problem:
        """A problem located at this entry (at ``key`` inside it, when given)."""
        if self.caller is not None:
            # From code: at the register() call, the path naming register()'s argument.
            file, line, column = self.caller
            arg = _CODE_ARGS.get(key, key) if key else None
            return Problem(file, line, column, (arg,) if arg else (), message, hint, self.name)
        assert self.doc is not None
        if self.is_object_plugin:
            # An object plugin: point at the `plugins:` that discovered it, and name it.
            return self.doc.problem(self.path, f"plugin {self.plugin!r}: {message}", hint)
        path = self.path + ((key,) if key else ())
        return self.doc.problem(path, message, hint, hook=self.name)

    def shown_target(self) -> str:
        """The target as ``hookrunner list`` prints it (values from the environment hidden)."""
        if self.caller is not None:
            return described(self.target)
        assert self.doc is not None
        at = self.path + (self.kind,)
        if isinstance(self.target, tuple):
            return " ".join(self.doc.redact(at + (j,), part) for j, part in enumerate(self.target))
        assert isinstance(self.target, str)
        return self.doc.redact(at, self.target)

    def fingerprint(self) -> dict[str, Any]:
        """What a reload compares besides the compiled hook's own settings."""
        return {
            "with": dict(self.bound),
            "when": self.when,
            "args": dict(self.args),
            # From code: the objects by identity (the same name may be registered again).
            "error_handler": self.error_handler if self.caller is None else None,
            "command": self.target if self.kind == "command" else None,
            "code": (id(self.target), id(self.error_handler)) if self.caller else None,
        }


# The register() argument a problem about a manifest key points at.
_CODE_ARGS = {"class": "call", "args": "call", "with": "call"}


def described(obj: object) -> str:
    """An object as ``hookrunner list`` shows a hook registered from code: ``module:name``."""
    if isinstance(obj, functools.partial):
        return f"partial({described(obj.func)})"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if isinstance(name, str):
        module = getattr(obj, "__module__", None)
        return f"{module}:{name}" if isinstance(module, str) and module != name else name
    return f"{described(type(obj))}()"  # an instance
